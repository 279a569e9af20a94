"""Reads of surveys: the figures (CSAT, NPS, response rate) by period, channel, category,
team or agent, a ticket's surveys, and the ratings the shop's BI reads.

Definitions (docs/feedback.md):
- **CSAT** = the share of answers that are 4 or 5, in percent, among the CSAT answers;
- **NPS** = % promoters (9–10) − % detractors (0–6) among the NPS answers, −100…100;
- **response rate** = answered / invited, in percent.
A survey counts in the period its invitation went out in.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.models import Survey, SurveyKind
from tickets.models import Channel, Ticket

GROUPINGS = {
    "period": _("Month"),
    "channel": _("Channel"),
    "category": _("Category"),
    "team": _("Team"),
    "agent": _("Agent"),
}


@dataclass(frozen=True)
class Figures:
    label: str
    invited: int
    answered: int
    satisfied: int  # CSAT 4–5
    promoters: int  # NPS 9–10
    detractors: int  # NPS 0–6

    @property
    def passives(self) -> int:
        return self.answered - self.promoters - self.detractors

    @property
    def csat(self) -> float | None:
        return round(100 * self.satisfied / self.answered, 1) if self.answered else None

    @property
    def nps(self) -> float | None:
        if not self.answered:
            return None
        return round(100 * (self.promoters - self.detractors) / self.answered, 1)

    @property
    def response_rate(self) -> float | None:
        return round(100 * self.answered / self.invited, 1) if self.invited else None


def _counts() -> dict[str, Count]:
    answered = Q(answered_at__isnull=False)
    return {
        "invited": Count("pk", distinct=True),
        "answered": Count("pk", filter=answered, distinct=True),
        "satisfied": Count("pk", filter=answered & Q(score__gte=4), distinct=True),
        "promoters": Count("pk", filter=answered & Q(score__gte=9), distinct=True),
        "detractors": Count("pk", filter=answered & Q(score__lte=6), distinct=True),
    }


def surveys_in(*, kind: str, start: datetime, end: datetime) -> QuerySet[Survey]:
    return Survey.objects.filter(kind=kind, invited_at__gte=start, invited_at__lt=end)


def survey_figures(*, kind: str, start: datetime, end: datetime, by: str = "") -> list[Figures]:
    """The figures of `kind` over the invitations sent in [start, end): one row per value of
    `by` (a key of GROUPINGS), or a single "all" row when `by` is empty."""
    surveys = surveys_in(kind=kind, start=start, end=end)
    if not by:
        row = surveys.aggregate(**_counts())
        return [Figures(label=str(_("All")), **row)]
    if by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}")
    field = {
        "period": "month",
        "channel": "channel",
        "category": "category",
        "team": "team__name",
        "agent": "agents__user__username",
    }[by]
    if by == "period":
        surveys = surveys.annotate(month=TruncMonth("invited_at"))
    rows = surveys.values(field).annotate(**_counts()).order_by(field)
    labels = dict(Channel.choices)
    result = []
    for row in rows:
        value = row.pop(field)
        if by == "period" and value is not None:
            label = timezone.localtime(value).strftime("%Y-%m")
        elif by == "channel":
            label = str(labels.get(value, value))
        else:
            label = str(value or "—")
        result.append(Figures(label=label, **row))
    return result


def nps_total(*, start: datetime, end: datetime) -> Figures:
    return survey_figures(kind=SurveyKind.NPS, start=start, end=end)[0]


def csat_total(*, start: datetime, end: datetime) -> Figures:
    return survey_figures(kind=SurveyKind.CSAT, start=start, end=end)[0]


def csat_by_day(*, start: datetime, end: datetime) -> dict[date, Figures]:
    """The CSAT figures of each local day with invitations in [start, end), by the day the
    invitation went out: the same counts as `csat_total` over that day, in one query."""
    rows = (
        surveys_in(kind=SurveyKind.CSAT, start=start, end=end)
        .annotate(day=TruncDate("invited_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(**_counts())
        .order_by("day")
    )
    result: dict[date, Figures] = {}
    for row in rows:
        counts: dict[str, Any] = dict(row)
        day = counts.pop("day")
        result[day] = Figures(label="", **counts)
    return result


def ticket_surveys(ticket: Ticket) -> list[Survey]:
    return list(
        Survey.objects.filter(ticket=ticket).prefetch_related("agents__user").order_by("pk")
    )


def ratings_answered(*, since: datetime | None = None) -> QuerySet[Survey]:
    """Answered surveys, oldest answer first (the ratings API pages through them)."""
    surveys = (
        Survey.objects.filter(answered_at__isnull=False)
        .select_related("ticket", "team")
        .prefetch_related("agents__user")
        .annotate(ticket_number=F("ticket__number"))
        .order_by("answered_at", "pk")
    )
    if since is not None:
        surveys = surveys.filter(answered_at__gte=since)
    return surveys


def recent_answers(*, limit: int = 20) -> list[Survey]:
    return list(
        Survey.objects.filter(answered_at__isnull=False)
        .select_related("ticket", "team")
        .order_by("-answered_at", "-pk")[:limit]
    )
