"""The scheduled reports' settings, under /reports/scheduled/."""

from django.urls import path

from analytics import scheduled_views

urlpatterns = [
    path("", scheduled_views.subscription_list, name="reports-scheduled"),
    path("new/", scheduled_views.subscription_edit, name="reports-scheduled-new"),
    path("<int:pk>/", scheduled_views.subscription_edit, name="reports-scheduled-edit"),
    path("<int:pk>/delete/", scheduled_views.subscription_delete, name="reports-scheduled-delete"),
    path("<int:pk>/send/", scheduled_views.subscription_send, name="reports-scheduled-send"),
    path(
        "<int:pk>/preview.<str:fmt>",
        scheduled_views.subscription_preview,
        name="reports-scheduled-preview",
    ),
]
