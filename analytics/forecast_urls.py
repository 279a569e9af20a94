"""The forecast and staffing pages, under /reports/forecast/ and /reports/staffing/."""

from django.urls import path

from analytics import forecast_views

forecast_patterns = [
    path("", forecast_views.forecast_page, name="reports-forecast"),
    path("recompute/", forecast_views.forecast_recompute, name="reports-forecast-recompute"),
    path("events/", forecast_views.event_add, name="reports-forecast-event-add"),
    path("events/<int:pk>/", forecast_views.event_change, name="reports-forecast-event-change"),
    path(
        "events/<int:pk>/delete/",
        forecast_views.event_delete,
        name="reports-forecast-event-delete",
    ),
]

staffing_patterns = [
    path("", forecast_views.staffing_page, name="reports-staffing"),
    path("settings/", forecast_views.staffing_settings, name="reports-staffing-settings"),
    path("shifts/", forecast_views.shift_save, name="reports-staffing-shift"),
    path("shifts/import/", forecast_views.shift_import, name="reports-staffing-import"),
    path(
        "shifts/<int:agent_id>/clear/",
        forecast_views.shift_remove,
        name="reports-staffing-shift-clear",
    ),
]
