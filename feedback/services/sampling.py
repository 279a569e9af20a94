"""The weekly sample: for each team with an active rule, the tickets its agents handled in
the week (a human reply of theirs in it), of which a random share per agent and every
ticket of the kinds the rule switches on (complaints, CSAT 1–2, breached SLAs, keywords).

Drawing a week again adds nothing: a sample is unique per week and ticket, and the random
share is chosen by a hash of the week and the ticket, so a second run picks the same ones.

Where the tickets of a kind come from is a **source**: a function `source(team, start,
end, candidates)` that returns the ids, among `candidates`, of the tickets it flags. The
built-in sources (complaints, SLA breaches, keywords) are registered below; the surveys
register the CSAT one (`sample_source_register(SampleReason.LOW_CSAT, ...)`): until they
do, a rule's "every CSAT of 1 or 2" flags nothing.
"""

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from feedback.models import Sample, SampleReason, SamplingRule
from feedback.services.prechecks import precheck_run
from tickets.models import Direction, EventKind, Message, SlaState, Team, Ticket, TicketEvent

# The category code triage gives complaints (kb triage categories).
COMPLAINT_CATEGORY = "complaint"


@dataclass(frozen=True)
class Window:
    team: Team
    rule: SamplingRule
    start: datetime
    end: datetime


SampleSource = Callable[[Window, frozenset[int]], Iterable[int]]

_sources: dict[str, SampleSource] = {}


def sample_source_register(reason: str, source: SampleSource) -> None:
    """Register the source of the tickets flagged for `reason` (a `SampleReason`); a second
    registration replaces the first."""
    _sources[reason] = source


def sample_source_unregister(reason: str) -> None:
    _sources.pop(reason, None)


def week_of(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def week_bounds(week: date) -> tuple[datetime, datetime]:
    """The week starting on Monday `week`, in the deployment's time zone."""
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.combine(week_of(week), time(0, 0), tzinfo=zone)
    return start, start + timedelta(days=7)


def last_full_week() -> date:
    today = timezone.localtime(timezone.now(), ZoneInfo(settings.TIME_ZONE)).date()
    return week_of(today) - timedelta(days=7)


def _handled(team: Team, start: datetime, end: datetime) -> dict[int, int]:
    """Ticket id → the agent whose human reply was the ticket's last in the week."""
    replies = (
        Message.objects.filter(
            ticket__team=team,
            direction=Direction.OUT,
            author__isnull=False,
            is_bot=False,
            is_automatic=False,
            created_at__gte=start,
            created_at__lt=end,
        )
        .order_by("ticket_id", "created_at", "pk")
        .values_list("ticket_id", "author_id")
    )
    handled: dict[int, int] = {}
    for ticket_id, author_id in replies:
        handled[ticket_id] = author_id
    return handled


def _random_share(week: date, tickets: list[int], percent: int) -> list[int]:
    if percent <= 0 or not tickets:
        return []
    wanted = math.ceil(len(tickets) * percent / 100)

    def rank(ticket_id: int) -> str:
        return hashlib.sha256(f"{week.isoformat()}:{ticket_id}".encode()).hexdigest()

    return sorted(tickets, key=rank)[:wanted]


def _rule_wants(rule: SamplingRule, reason: str) -> bool:
    wanted: dict[str, bool] = {
        SampleReason.COMPLAINT: rule.complaints,
        SampleReason.LOW_CSAT: rule.low_csat,
        SampleReason.SLA_BREACH: rule.sla_breached,
        SampleReason.KEYWORD: bool(rule.keywords),
    }
    return wanted.get(reason, True)


def sample_draw(*, week: date) -> list[Sample]:
    """Draw the sample of the week starting on Monday `week` for every team with an active
    rule; returns the samples it added (none when the week was drawn already). Each new
    sample's pre-checks run at once."""
    week = week_of(week)
    start, end = week_bounds(week)
    added: list[Sample] = []
    rules = SamplingRule.objects.filter(is_active=True).select_related("team", "scorecard")
    for rule in rules.order_by("team_id"):
        handled = _handled(rule.team, start, end)
        if not handled:
            continue
        reasons: dict[int, list[str]] = {}
        by_agent: dict[int, list[int]] = {}
        for ticket_id, agent_id in handled.items():
            by_agent.setdefault(agent_id, []).append(ticket_id)
        for tickets in by_agent.values():
            for ticket_id in _random_share(week, sorted(tickets), rule.random_percent):
                reasons.setdefault(ticket_id, []).append(SampleReason.RANDOM)
        window = Window(team=rule.team, rule=rule, start=start, end=end)
        candidates = frozenset(handled)
        for reason, source in list(_sources.items()):
            if not _rule_wants(rule, reason):
                continue
            for ticket_id in sorted(set(source(window, candidates)) & candidates):
                reasons.setdefault(ticket_id, []).append(reason)
        for ticket_id in sorted(reasons):
            with transaction.atomic():
                sample, created = Sample.objects.get_or_create(
                    week=week,
                    ticket_id=ticket_id,
                    defaults={
                        "team": rule.team,
                        "agent_id": handled[ticket_id],
                        "scorecard": rule.scorecard,
                        "reasons": reasons[ticket_id],
                    },
                )
                if created:
                    precheck_run(sample=sample)
                    added.append(sample)
    return added


# -- the built-in sources ------------------------------------------------------------------


def complaints(window: Window, candidates: frozenset[int]) -> Iterable[int]:
    return Ticket.objects.filter(pk__in=candidates, category=COMPLAINT_CATEGORY).values_list(
        "pk", flat=True
    )


def sla_breaches(window: Window, candidates: frozenset[int]) -> Iterable[int]:
    """Breached now, or breached at some time (the trail keeps the breach after the ticket's
    next clock resets its state)."""
    breached = TicketEvent.objects.filter(
        ticket_id__in=candidates, kind=EventKind.SLA_BREACH
    ).values("ticket_id")
    return Ticket.objects.filter(
        Q(pk__in=candidates) & (Q(sla_state=SlaState.BREACHED) | Q(pk__in=breached))
    ).values_list("pk", flat=True)


def keywords(window: Window, candidates: frozenset[int]) -> Iterable[int]:
    """Tickets with a message (either way) that contains one of the rule's keywords."""
    words = [word for word in window.rule.keywords if word.strip()]
    if not words:
        return []
    matches = Q()
    for word in words:
        matches |= Q(body__icontains=word) | Q(subject__icontains=word)
    return (
        Message.objects.filter(matches, ticket_id__in=candidates)
        .values_list("ticket_id", flat=True)
        .distinct()
    )


sample_source_register(SampleReason.COMPLAINT, complaints)
sample_source_register(SampleReason.SLA_BREACH, sla_breaches)
sample_source_register(SampleReason.KEYWORD, keywords)
