"""Agent scorecards: one agent's figures of a period beside their team's, and who may see
whose (an agent their own, a supervisor their teams' agents, an admin everyone's)."""

from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from analytics import pages, reports
from analytics.metrics import Quality, Totals
from kefu.roles import Role, has_role
from tickets.models import Agent, Team


def agents_visible_to(user: Any) -> QuerySet[Agent]:
    """The agents whose scorecards `user` may open."""
    agents = Agent.objects.select_related("user")
    if has_role(user, Role.ADMIN):
        return agents.all()
    own = Agent.objects.filter(user=user).first() if has_role(user, Role.AGENT) else None
    if own is None:
        return agents.none()
    if has_role(user, Role.SUPERVISOR):
        return agents.filter(Q(teams__in=own.teams.all()) | Q(pk=own.pk)).distinct()
    return agents.filter(pk=own.pk)


def comparison_team(agent: Agent, wanted: int | None) -> Team | None:
    """The team a scorecard compares with: the one asked for when the agent is in it,
    else the agent's first team by name."""
    teams = list(agent.teams.order_by("name"))
    for team in teams:
        if team.pk == wanted:
            return team
    return teams[0] if teams else None


# (key, label, kind, higher is better); the values come from Totals or Quality.
FIGURES = (
    ("created", _("Contacts assigned"), "count", True),
    ("resolved", _("Resolved"), "count", True),
    ("first_response_avg_s", _("First response (average)"), "duration", False),
    ("resolution_avg_s", _("Handling time (average)"), "duration", False),
    ("fcr_rate", _("First-contact resolution"), "share", True),
    ("sla_rate", _("SLA attainment"), "share", True),
    ("reopen_rate", _("Reopen rate"), "share", False),
    ("csat_rate", _("CSAT"), "share", True),
    ("csat_answered", _("CSAT answers"), "count", True),
    ("score_avg", _("Quality score (average)"), "score", True),
    ("failed", _("Failed quality reviews"), "count", False),
)
# Counts compare with the team's figure per agent; rates and averages with the team's own.
PER_AGENT = {"created", "resolved", "csat_answered", "failed"}


@dataclass(frozen=True)
class Figure:
    key: str
    label: Any
    kind: str
    agent: float | None
    team: float | None
    higher_is_better: bool

    @property
    def better(self) -> bool | None:
        """Whether the agent does better than the team (None when either is missing)."""
        if self.agent is None or self.team is None or self.agent == self.team:
            return None
        return (self.agent > self.team) == self.higher_is_better


@dataclass(frozen=True)
class Card:
    agent: Agent
    team: Team | None
    team_size: int
    figures: list[Figure]
    totals: Totals


def _value(totals: Totals, quality: Quality, key: str) -> float | None:
    source: Any = quality if key in ("score_avg", "failed") else totals
    value = getattr(source, key)
    return None if value is None else float(value)


def scorecard(agent: Agent, filters: reports.Filters) -> Card:
    """The agent's figures in the period (their tickets, whatever the team) and their
    comparison team's, under the same channel, category and tier filters."""
    team = comparison_team(agent, filters.team_id)
    mine = replace(filters, team_id=None, agent_id=agent.pk)
    totals = reports.period_totals(mine)
    quality = pages.quality_totals(mine)
    team_totals: Totals | None = None
    team_quality: Quality | None = None
    size = 0
    if team is not None:
        theirs = replace(filters, team_id=team.pk, agent_id=None)
        team_totals = reports.period_totals(theirs)
        team_quality = pages.quality_totals(theirs)
        size = team.agents.count()
    figures = []
    for key, label, kind, higher in FIGURES:
        team_value = None
        if team_totals is not None and team_quality is not None:
            team_value = _value(team_totals, team_quality, key)
            if key in PER_AGENT and team_value is not None:
                team_value = team_value / size if size else None
        figures.append(
            Figure(
                key=key,
                label=label,
                kind=kind,
                agent=_value(totals, quality, key),
                team=team_value,
                higher_is_better=higher,
            )
        )
    return Card(agent=agent, team=team, team_size=size, figures=figures, totals=totals)
