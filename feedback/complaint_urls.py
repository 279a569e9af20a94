"""Complaint pages, mounted at /complaints/ (complaints, reviews, root causes, suggestions)."""

from django.urls import path

from feedback.views import complaints

app_name = "complaints"

urlpatterns = [
    path("", complaints.complaints, name="list"),
    path("reviews/", complaints.reviews_report, name="reviews"),
    path("causes/", complaints.causes, name="causes"),
    path("causes/<int:pk>/", complaints.causes, name="cause"),
    path("suggestions/", complaints.suggestions, name="suggestions"),
    path("suggestions/<int:pk>/status/", complaints.suggestion_status, name="suggestion_status"),
    # A ticket's complaint (by the ticket's number) and the ticket page's actions.
    path("<str:number>/", complaints.complaint_detail, name="detail"),
    path("<str:number>/flag/", complaints.complaint_flag_view, name="flag"),
    path("<str:number>/unflag/", complaints.complaint_unflag_view, name="unflag"),
    path("<str:number>/suggestion/", complaints.suggestion_create, name="suggest"),
]
