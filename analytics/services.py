"""Writes of the analytics app."""

from django.contrib.auth.models import User
from django.utils import timezone

from analytics.models import RankingSettings


def ranking_settings_update(
    *,
    weight_csat: int,
    weight_quality: int,
    weight_fcr: int,
    weight_sla: int,
    min_resolved: int,
    actor: User,
) -> RankingSettings:
    """Set the monthly ranking's weights (percent, summing to 100) and its minimum volume.
    Raises ValueError when the weights do not sum to 100 or one is out of 0 … 100."""
    weights = (weight_csat, weight_quality, weight_fcr, weight_sla)
    if any(w < 0 or w > 100 for w in weights) or sum(weights) != 100:
        raise ValueError("ranking weights must be 0 … 100 each and sum to 100")
    if min_resolved < 0:
        raise ValueError("the minimum volume cannot be negative")
    settings, _created = RankingSettings.objects.update_or_create(
        pk=1,
        defaults={
            "weight_csat": weight_csat,
            "weight_quality": weight_quality,
            "weight_fcr": weight_fcr,
            "weight_sla": weight_sla,
            "min_resolved": min_resolved,
            "updated_at": timezone.now(),
            "updated_by": actor,
        },
    )
    return settings
