"""Feedback's pages, mounted at /quality/ (quality inspection)."""

from django.urls import path

from feedback.views import quality

app_name = "quality"

urlpatterns = [
    path("", quality.home, name="home"),
    path("samples/", quality.samples, name="samples"),
    path("samples/draw/", quality.draw, name="draw"),
    path("samples/<int:pk>/", quality.sample_review, name="sample"),
    path("reviews/mine/", quality.mine, name="mine"),
    path("reviews/<int:pk>/", quality.review_detail, name="review"),
    path("reviews/<int:pk>/acknowledge/", quality.review_acknowledge_view, name="acknowledge"),
    path("reviews/<int:pk>/appeal/", quality.review_appeal, name="appeal"),
    path("reviews/<int:pk>/decide/", quality.appeal_decide_view, name="decide"),
    path("appeals/", quality.appeals, name="appeals"),
    path("calibration/", quality.calibration, name="calibration"),
    path("scorecards/", quality.scorecards, name="scorecards"),
    path("scorecards/new/", quality.scorecard_edit, name="scorecard_new"),
    path("scorecards/<int:pk>/", quality.scorecard_edit, name="scorecard_edit"),
    path("settings/", quality.settings_page, name="settings"),
    path("settings/reviewers/", quality.reviewers_change, name="reviewers"),
    path("settings/teams/<int:team_id>/", quality.rule_edit, name="rule"),
]
