"""The metrics of docs/metrics.md as ratios of rollup sums: the one place each is computed
from the sums, for the report pages, their exports and the board alike."""

from collections.abc import Mapping
from dataclasses import dataclass, fields

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

# CSAT answers of 4–5 (of 1–5) are satisfied; NPS answers of 9–10 (of 0–10) are promoters,
# 0–6 detractors, 7–8 passives (docs/metrics.md). The rollups count by these, and so do the
# drill-downs to the tickets behind a count.
CSAT_SATISFIED = 4
NPS_PROMOTER = 9
NPS_DETRACTOR = 6

# The rollup counters a period adds up (analytics.models.DailyRollup).
SUMMED = (
    "created",
    "repeat_contacts",
    "sentiment_sum",
    "sentiment_count",
    "first_responses",
    "first_response_wall_s",
    "first_response_business_count",
    "first_response_business_s",
    "resolved",
    "resolution_wall_s",
    "resolution_business_count",
    "resolution_business_s",
    "first_contact_resolved",
    "reopened",
    "bot_deflected",
    "sla_first_response_decided",
    "sla_first_response_met",
    "sla_plan_decided",
    "sla_plan_met",
    "sla_resolution_decided",
    "sla_resolution_met",
    # Satisfaction (CSAT, NPS).
    "csat_invited",
    "csat_answered",
    "csat_satisfied",
    "csat_score_sum",
    "nps_invited",
    "nps_answered",
    "nps_promoters",
    "nps_detractors",
)


def sums() -> dict[str, Sum]:
    """The aggregate of every counter, for `.aggregate(**sums())` or `.annotate(**sums())`."""
    return {name: Sum(name) for name in SUMMED}


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Totals:
    created: int = 0
    repeat_contacts: int = 0
    sentiment_sum: float = 0.0
    sentiment_count: int = 0
    first_responses: int = 0
    first_response_wall_s: int = 0
    first_response_business_count: int = 0
    first_response_business_s: int = 0
    resolved: int = 0
    resolution_wall_s: int = 0
    resolution_business_count: int = 0
    resolution_business_s: int = 0
    first_contact_resolved: int = 0
    reopened: int = 0
    bot_deflected: int = 0
    sla_first_response_decided: int = 0
    sla_first_response_met: int = 0
    sla_plan_decided: int = 0
    sla_plan_met: int = 0
    sla_resolution_decided: int = 0
    sla_resolution_met: int = 0
    # Satisfaction (CSAT, NPS).
    csat_invited: int = 0
    csat_answered: int = 0
    csat_satisfied: int = 0
    csat_score_sum: int = 0
    nps_invited: int = 0
    nps_answered: int = 0
    nps_promoters: int = 0
    nps_detractors: int = 0
    # Not rollup counters: the shop's orders of the period's days that have a reported count
    # (analytics.models.OrderVolume), and the contacts of those same days
    # (analytics.reports.period_totals and by_day fill them in).
    orders: int = 0
    ordered_contacts: int = 0
    order_days: int = 0

    @classmethod
    def of(cls, row: Mapping[str, object]) -> "Totals":
        """From a row of sums (None, as SQL gives for no rows, reads as 0; a counter the row
        does not hold, and a row's other columns, are left at 0 or out). Thousands of rows
        make a year's page: only the row's non-zero counters are passed on."""
        return cls(**{name: value for name, value in row.items() if value and name in _COUNTERS})  # type: ignore[arg-type]

    def __add__(self, other: "Totals") -> "Totals":
        """The totals of two disjoint sets of rollup rows (two days, say)."""
        return Totals(**{name: getattr(self, name) + getattr(other, name) for name in _TOTALS})

    # Averages in seconds.
    @property
    def first_response_avg_s(self) -> float | None:
        return _ratio(self.first_response_wall_s, self.first_responses)

    @property
    def first_response_business_avg_s(self) -> float | None:
        return _ratio(self.first_response_business_s, self.first_response_business_count)

    @property
    def resolution_avg_s(self) -> float | None:
        return _ratio(self.resolution_wall_s, self.resolved)

    @property
    def resolution_business_avg_s(self) -> float | None:
        return _ratio(self.resolution_business_s, self.resolution_business_count)

    # Shares, 0 … 1.
    @property
    def resolution_rate(self) -> float | None:
        """Tickets resolved in the period ÷ contacts of the period (above 1 when the period
        works off more than came in)."""
        return _ratio(self.resolved, self.created)

    @property
    def fcr_rate(self) -> float | None:
        return _ratio(self.first_contact_resolved, self.resolved)

    @property
    def reopen_rate(self) -> float | None:
        return _ratio(self.reopened, self.resolved)

    @property
    def deflection_rate(self) -> float | None:
        return _ratio(self.bot_deflected, self.resolved)

    @property
    def repeat_rate(self) -> float | None:
        return _ratio(self.repeat_contacts, self.created)

    @property
    def sla_first_response_rate(self) -> float | None:
        return _ratio(self.sla_first_response_met, self.sla_first_response_decided)

    @property
    def sla_plan_rate(self) -> float | None:
        return _ratio(self.sla_plan_met, self.sla_plan_decided)

    @property
    def sla_resolution_rate(self) -> float | None:
        return _ratio(self.sla_resolution_met, self.sla_resolution_decided)

    @property
    def sla_decided(self) -> int:
        return self.sla_first_response_decided + self.sla_plan_decided + self.sla_resolution_decided

    @property
    def sla_met(self) -> int:
        return self.sla_first_response_met + self.sla_plan_met + self.sla_resolution_met

    @property
    def sla_rate(self) -> float | None:
        """SLA attainment over every milestone decided in the period, met ÷ decided."""
        return _ratio(self.sla_met, self.sla_decided)

    @property
    def emotion_index(self) -> float | None:
        """客户情绪指数: mean sentiment of the customers' scored messages, -1 … 1."""
        return _ratio(self.sentiment_sum, self.sentiment_count)

    # Satisfaction.
    @property
    def csat_rate(self) -> float | None:
        """CSAT: the share of the period's CSAT answers that are 4 or 5, 0 … 1."""
        return _ratio(self.csat_satisfied, self.csat_answered)

    @property
    def csat_unsatisfied(self) -> int:
        return self.csat_answered - self.csat_satisfied

    @property
    def csat_avg(self) -> float | None:
        """The mean CSAT answer, 1 … 5."""
        return _ratio(self.csat_score_sum, self.csat_answered)

    @property
    def csat_response_rate(self) -> float | None:
        """CSAT answers given in the period ÷ CSAT invitations sent in it."""
        return _ratio(self.csat_answered, self.csat_invited)

    @property
    def nps_passives(self) -> int:
        return self.nps_answered - self.nps_promoters - self.nps_detractors

    @property
    def nps(self) -> float | None:
        """NPS: % promoters (9–10) − % detractors (0–6) among the NPS answers, −100 … 100."""
        share = _ratio(self.nps_promoters - self.nps_detractors, self.nps_answered)
        return None if share is None else share * 100

    @property
    def nps_response_rate(self) -> float | None:
        return _ratio(self.nps_answered, self.nps_invited)

    @property
    def orders_placed(self) -> int | None:
        """The shop's orders of the days that have a count; None when no day has one."""
        return self.orders if self.order_days else None

    @property
    def contacts_per_order(self) -> float | None:
        """Contacts ÷ the shop's orders, over the days that have an order count (a day
        without one is left out of both); None when no day has one."""
        return _ratio(self.ordered_contacts, self.orders) if self.order_days else None


# The headline figures of a period, in the order pages show them: (key, label, kind). A kind
# says how to show the value: a count, a duration in seconds, a share, an index.
HEADLINES = (
    ("created", _("Contacts"), "count"),
    ("first_response_avg_s", _("First response (average)"), "duration"),
    ("first_response_business_avg_s", _("First response, business time"), "duration"),
    ("resolved", _("Resolved"), "count"),
    ("resolution_rate", _("Resolution rate"), "share"),
    ("resolution_avg_s", _("Resolution time (average)"), "duration"),
    ("fcr_rate", _("First-contact resolution"), "share"),
    ("reopen_rate", _("Reopen rate"), "share"),
    ("repeat_rate", _("Repeat contacts"), "share"),
    ("deflection_rate", _("Bot deflection"), "share"),
    ("sla_rate", _("SLA attainment"), "share"),
    ("emotion_index", _("Customer emotion index"), "index"),
    ("csat_rate", _("CSAT"), "share"),
    ("contacts_per_order", _("Contacts per order"), "ratio"),
)


def headline(totals: Totals, key: str) -> float | None:
    value = getattr(totals, key)
    return None if value is None else float(value)


# Totals' field names, looked up once (Totals.of and + run per row of a reading).
_TOTALS = tuple(f.name for f in fields(Totals))
_COUNTERS = frozenset(_TOTALS)


@dataclass(frozen=True)
class Quality:
    """Quality inspection (质检) of a period: the reviews submitted in it (feedback.Review)."""

    reviews: int = 0
    score_sum: float = 0.0
    failed: int = 0

    @classmethod
    def of(cls, row: Mapping[str, object]) -> "Quality":
        return cls(
            reviews=int(row.get("reviews") or 0),  # type: ignore[call-overload]
            score_sum=float(row.get("score_sum") or 0),  # type: ignore[arg-type]
            failed=int(row.get("failed") or 0),  # type: ignore[call-overload]
        )

    @property
    def score_avg(self) -> float | None:
        """Average quality score, 0 … 100 (a failed review scores 0 and counts)."""
        return _ratio(self.score_sum, self.reviews)

    @property
    def fail_rate(self) -> float | None:
        return _ratio(self.failed, self.reviews)
