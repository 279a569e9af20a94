"""Writes of the analytics app."""

from datetime import date

from django.contrib.auth.models import User
from django.utils import timezone

from analytics.models import OrderVolume, RankingSettings


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


# The most days one report of order counts may carry (a year and a month of backfill).
ORDER_DAYS_MAX = 400


def order_volume_store(*, days: list[tuple[date, int]], source: str) -> int:
    """Store the shop's orders per day (contacts per order's denominator), replacing what a
    day had. Raises ValueError for a day in the future, a negative count, a day given twice
    or more than ORDER_DAYS_MAX days; nothing is written then. Returns the days stored."""
    if len(days) > ORDER_DAYS_MAX:
        raise ValueError(f"at most {ORDER_DAYS_MAX} days at once")
    today = timezone.localdate()
    seen: set[date] = set()
    for day, orders in days:
        if day > today:
            raise ValueError(f"{day.isoformat()} is in the future")
        if orders < 0:
            raise ValueError(f"{day.isoformat()}: the count cannot be negative")
        if day in seen:
            raise ValueError(f"{day.isoformat()} is given twice")
        seen.add(day)
    now = timezone.now()
    OrderVolume.objects.bulk_create(
        [
            OrderVolume(day=day, orders=orders, updated_at=now, source=source)
            for day, orders in days
        ],
        update_conflicts=True,
        unique_fields=["day"],
        update_fields=["orders", "updated_at", "source"],
    )
    return len(days)
