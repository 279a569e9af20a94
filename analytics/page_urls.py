"""The report pages beyond the overview, under /reports/ (the overview's own three are in
kefu/urls.py)."""

from django.urls import include, path

from analytics import page_views

urlpatterns = [
    path("scorecards/", page_views.scorecard_list, name="reports-scorecards"),
    path("scorecards/<int:agent_id>/", page_views.scorecard, name="reports-scorecard"),
    path("ranking/", page_views.ranking_page, name="reports-ranking"),
    path("ranking/settings/", page_views.ranking_settings, name="reports-ranking-settings"),
    path("scheduled/", include("analytics.scheduled_urls")),
    path("<slug:page>/<slug:table>.<str:fmt>", page_views.page_export, name="reports-page-export"),
    path("<slug:page>/", page_views.report_page, name="reports-page"),
]
