"""The monthly 金牌客服 ranking: each agent's components (CSAT, quality, FCR, SLA attainment,
each 0 … 1) weighted by the supervisors' settings, for agents who resolved at least the
minimum in the month, with every component and contribution shown so the order explains
itself.

A component with no figure for an agent (no CSAT answer on their tickets in the month, no
quality review, no SLA milestone decided) is left out of that agent's score and its weight
shared among the agent's other components in proportion, so a missing figure neither counts
as zero nor as full marks; the page says which weights were used.
"""

from calendar import monthrange
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from analytics import pages, reports
from analytics.metrics import Quality, Totals
from analytics.models import RankingSettings
from tickets.models import Agent

COMPONENTS = (
    ("csat", _("CSAT")),
    ("quality", _("Quality score")),
    ("fcr", _("First-contact resolution")),
    ("sla", _("SLA attainment")),
)


def settings_current() -> RankingSettings:
    """The saved settings, or the defaults when none were saved yet (not written)."""
    return RankingSettings.objects.filter(pk=1).first() or RankingSettings(pk=1)


def weights(settings: RankingSettings) -> dict[str, int]:
    return {
        "csat": settings.weight_csat,
        "quality": settings.weight_quality,
        "fcr": settings.weight_fcr,
        "sla": settings.weight_sla,
    }


def month_filters(month: date) -> reports.Filters:
    last = monthrange(month.year, month.month)[1]
    return reports.Filters(start=month.replace(day=1), end=month.replace(day=last))


@dataclass(frozen=True)
class Component:
    key: str
    label: Any
    value: float | None  # 0 … 1
    weight: int  # as set, percent
    used_weight: float  # after sharing out the missing components' weights, 0 … 1
    contribution: float  # points of the score, 0 … 100


@dataclass(frozen=True)
class Entry:
    agent_id: int
    name: str
    resolved: int
    qualifies: bool
    score: float | None  # 0 … 100
    components: list[Component]
    rank: int | None = None


def _component_values(totals: Totals, quality: Quality) -> dict[str, float | None]:
    score = quality.score_avg
    return {
        # The share of 4–5 among the CSAT answers given in the month on the agent's tickets.
        "csat": totals.csat_rate,
        "quality": None if score is None else score / 100,
        "fcr": totals.fcr_rate,
        "sla": totals.sla_rate,
    }


def entry(
    *, agent_id: int, name: str, totals: Totals, quality: Quality, settings: RankingSettings
) -> Entry:
    set_weights = weights(settings)
    values = _component_values(totals, quality)
    present = sum(w for key, w in set_weights.items() if values[key] is not None)
    components = []
    score: float | None = 0.0
    for key, label in COMPONENTS:
        value = values[key]
        used = set_weights[key] / present if value is not None and present else 0.0
        contribution = (value or 0.0) * used * 100
        components.append(
            Component(
                key=key,
                label=label,
                value=value,
                weight=set_weights[key],
                used_weight=used,
                contribution=contribution,
            )
        )
    if not present:
        score = None
    else:
        score = sum(c.contribution for c in components)
    return Entry(
        agent_id=agent_id,
        name=name,
        resolved=totals.resolved,
        qualifies=totals.resolved >= settings.min_resolved and score is not None,
        score=score,
        components=components,
    )


def ranking(month: date, settings: RankingSettings | None = None) -> list[Entry]:
    """Every agent with resolved tickets or reviews in the month: the qualifying ones ranked
    by score (ties share a rank, then by name), the others after them by volume."""
    settings = settings or settings_current()
    filters = month_filters(month)
    found = pages._grouped(filters, "agent_id")
    quality = pages.quality_by_agent(filters)
    ids = [pk for pk in {*found, *quality} if pk]
    names = {a.pk: str(a) for a in Agent.objects.select_related("user").filter(pk__in=ids)}
    entries = [
        entry(
            agent_id=pk,
            name=names.get(pk, str(pk)),
            totals=found.get(pk) or Totals(),
            quality=quality.get(pk) or Quality(),
            settings=settings,
        )
        for pk in ids
    ]
    ranked = sorted((e for e in entries if e.qualifies), key=lambda e: (-(e.score or 0.0), e.name))
    result = []
    previous: float | None = None
    rank = 0
    for position, item in enumerate(ranked, start=1):
        rounded = round(item.score or 0.0, 1)
        if rounded != previous:
            rank = position
            previous = rounded
        result.append(replace(item, rank=rank))
    others = sorted((e for e in entries if not e.qualifies), key=lambda e: (-e.resolved, e.name))
    return result + others
