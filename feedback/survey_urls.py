"""Feedback's survey and call-back pages, mounted at /feedback/."""

from django.urls import path

from feedback.views import callbacks, surveys

app_name = "feedback"

urlpatterns = [
    # The customer's one-click page (signed link, no sign-in).
    path("s/<str:token>/", surveys.survey_page, name="survey"),
    path("surveys/", surveys.figures, name="surveys"),
    path("surveys/settings/", surveys.settings_page, name="survey_settings"),
    path("callbacks/", callbacks.queue, name="callbacks"),
    path("callbacks/<int:pk>/", callbacks.detail, name="callback"),
    path("callbacks/<int:pk>/attempt/", callbacks.attempt, name="callback_attempt"),
    path("callbacks/<int:pk>/assign/", callbacks.assign, name="callback_assign"),
    path("callbacks/new/<str:number>/", callbacks.create, name="callback_new"),
]
