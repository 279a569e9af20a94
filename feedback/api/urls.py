"""Feedback's API routes, mounted under /api/v1/ (kefu/urls.py)."""

from django.urls import path

from feedback.api import reviews
from feedback.api.ratings import RatingsView

urlpatterns = [
    path(
        "feedback/reviews", reviews.ComplaintReviewListView.as_view(), name="api-feedback-reviews"
    ),
    path("feedback/ratings", RatingsView.as_view(), name="api-feedback-ratings"),
]
