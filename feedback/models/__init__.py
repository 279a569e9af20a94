"""Feedback's models, one module per part (quality inspection today; surveys, call-backs and
complaints beside it); imported from here as `feedback.models`."""

from feedback.models.quality import (
    RATING_SHARE,
    Appeal,
    AppealStatus,
    ItemGroup,
    PrecheckHit,
    PrecheckKind,
    QualitySettings,
    Rating,
    Review,
    Reviewer,
    ReviewItem,
    Sample,
    SampleReason,
    SamplingRule,
    Scorecard,
    ScorecardItem,
    ScorecardVersion,
)

__all__ = [
    "RATING_SHARE",
    "Appeal",
    "AppealStatus",
    "ItemGroup",
    "PrecheckHit",
    "PrecheckKind",
    "QualitySettings",
    "Rating",
    "Review",
    "ReviewItem",
    "Reviewer",
    "Sample",
    "SampleReason",
    "SamplingRule",
    "Scorecard",
    "ScorecardItem",
    "ScorecardVersion",
]
