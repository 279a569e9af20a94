from django.urls import path

from feedback.api.ratings import RatingsView

urlpatterns = [
    path("feedback/ratings", RatingsView.as_view(), name="api-feedback-ratings"),
]
