"""Writes: start and satisfy clocks, and the tick that fires warnings and breaches."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from sla.models import Milestone, SlaClock
from sla.selectors import policy_for_tier, work_calendar
from sla.signals import clock_fired

logger = logging.getLogger("kefu.sla")


def clocks_start(*, subject_id: int, tier: str, started_at: datetime) -> list[SlaClock]:
    """Start the clocks of `tier`'s policy for a subject. Idempotent per (subject, milestone):
    a subject that already has a clock for a milestone keeps it."""
    policy = policy_for_tier(tier)
    if policy is None:
        logger.warning(
            "no SLA policy for tier %s; subject %s runs without clocks", tier, subject_id
        )
        return []
    calendar = work_calendar(policy.calendar_id)
    targets = [(Milestone.FIRST_RESPONSE, policy.first_response_minutes)]
    if policy.plan_minutes:
        targets.append((Milestone.PLAN, policy.plan_minutes))
    clocks = []
    for milestone, minutes in targets:
        seconds = minutes * 60
        warn_seconds = seconds * policy.warning_percent // 100
        clocks.append(
            SlaClock(
                subject_id=subject_id,
                milestone=milestone,
                policy=policy,
                calendar_id=policy.calendar_id,
                target_seconds=seconds,
                started_at=started_at,
                warn_at=calendar.add(started_at, warn_seconds),
                due_at=calendar.add(started_at, seconds),
            )
        )
    SlaClock.objects.bulk_create(clocks, ignore_conflicts=True)
    return clocks


def clock_satisfy(*, subject_id: int, milestone: str, at: datetime) -> bool:
    """Mark a milestone met at `at`. Returns True only for the call that satisfied it."""
    clock = SlaClock.objects.filter(
        subject_id=subject_id, milestone=milestone, satisfied_at__isnull=True
    ).first()
    if clock is None:
        return False
    calendar = work_calendar(clock.calendar_id)
    changed = SlaClock.objects.filter(pk=clock.pk, satisfied_at__isnull=True).update(
        satisfied_at=at,
        elapsed_wall_seconds=max(0, int((at - clock.started_at).total_seconds())),
        elapsed_business_seconds=calendar.between(clock.started_at, at),
    )
    return changed == 1


@dataclass(frozen=True)
class TickResult:
    warned: int
    breached: int


def clocks_tick(*, now: datetime | None = None, batch: int = 500) -> TickResult:
    """Fire every due warning and breach exactly once.

    Candidates come from the partial indexes on running clocks; each is then claimed with a
    compare-and-set, and the signal is sent inside the claiming transaction. Two tickers
    racing over the same clock both try the update; only one sees a changed row and fires.
    """
    now = now or timezone.now()
    warned = _fire(
        kind="warning",
        # A clock already past due is breached, not warned: the breach supersedes it.
        candidates=SlaClock.objects.filter(
            warn_at__lte=now,
            due_at__gt=now,
            warned_at__isnull=True,
            satisfied_at__isnull=True,
            breached_at__isnull=True,
        ),
        claim={"warned_at": now},
        guard={"warned_at__isnull": True},
        batch=batch,
    )
    breached = _fire(
        kind="breach",
        candidates=SlaClock.objects.filter(
            due_at__lte=now, satisfied_at__isnull=True, breached_at__isnull=True
        ),
        claim={"breached_at": now},
        guard={},
        batch=batch,
    )
    return TickResult(warned=warned, breached=breached)


def _fire(
    *,
    kind: str,
    candidates: QuerySet[SlaClock],
    claim: dict[str, datetime],
    guard: dict[str, bool],
    batch: int,
) -> int:
    fired = 0
    for clock in candidates.order_by()[:batch]:
        with transaction.atomic():
            changed = SlaClock.objects.filter(
                pk=clock.pk, satisfied_at__isnull=True, breached_at__isnull=True, **guard
            ).update(**claim)
            if changed != 1:
                continue
            for field, value in claim.items():
                setattr(clock, field, value)
            clock_fired.send(sender=SlaClock, clock=clock, kind=kind)
            fired += 1
    return fired
