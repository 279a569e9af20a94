"""Supervisors' pages for the texts of customer notices, mounted at /aftersales/notices/."""

from django.urls import path

from aftersales import notice_views

app_name = "notices"

urlpatterns = [
    path("", notice_views.template_list, name="list"),
    path("new/", notice_views.template_edit, name="new"),
    path("preview/", notice_views.template_preview, name="preview"),
    path("<int:pk>/", notice_views.template_edit, name="edit"),
]
