"""The after-sales case API's routes, mounted under /api/v1/ (kefu/urls.py)."""

from django.urls import path, re_path

from aftersales.api import cases

# Case numbers: AS + date + sequence (aftersales.services.cases).
_NUMBER = r"(?P<number>AS\d{8,})"

urlpatterns = [
    path("aftersales/", cases.CaseCreateView.as_view(), name="api-aftersales-cases"),
    re_path(rf"^aftersales/{_NUMBER}$", cases.CaseDetailView.as_view(), name="api-aftersales-case"),
    re_path(
        rf"^aftersales/{_NUMBER}/events$",
        cases.CaseEventView.as_view(),
        name="api-aftersales-case-events",
    ),
]
