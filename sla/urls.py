from django.urls import path
from django.views.generic import RedirectView

from sla import views

app_name = "sla"

urlpatterns = [
    # README and the docs name /sla/ as where SLAs are edited; the policies are its first page.
    path("", RedirectView.as_view(pattern_name="sla:policies"), name="home"),
    path("policies/", views.policy_list, name="policies"),
    path("policies/new/", views.policy_edit, name="policy_new"),
    path("policies/<int:pk>/", views.policy_edit, name="policy"),
    path("calendars/", views.calendar_list, name="calendars"),
    path("calendars/new/", views.calendar_edit, name="calendar_new"),
    path("calendars/<int:pk>/", views.calendar_edit, name="calendar"),
]
