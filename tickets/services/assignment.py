"""Who gets a new ticket, and waiting tickets picked up when someone can take them.

An agent can take a ticket when they are: in the ticket's team, switched on for assignment
(`is_available`), signed in and active, online (not busy, away or offline), on shift (their
shift calendar is open, or they have none), under their capacity of open tickets overall and
for the ticket's channel (their own limit for the channel, else the team's), skilled for what
the ticket needs (its language and category, where such a skill is defined; the team's level
for urgent tickets), and, for supervisors and admins, flagged to take tickets. Among those,
the one assigned least recently gets it (round robin).

Capacity holds under concurrency: the chosen agent's row is locked (`FOR UPDATE`, skipping an
agent another intake holds and trying the next) and their load is counted again under the
lock before the ticket is theirs, so two tickets created at once cannot both take an agent's
last place. A ticket nobody can take stays unassigned in its team's queue;
`waiting_tickets_assign` gives such tickets out when an agent comes online or frees capacity.
"""

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from kb.text import language_of
from kefu.revisions import RevisionCache
from kefu.roles import Role
from sla.selectors import work_calendar
from tickets import events
from tickets.models import (
    Agent,
    AgentStatus,
    ChannelCapacity,
    EventKind,
    Skill,
    SkillKind,
    Team,
    Ticket,
)
from tickets.services.trail import event_record, ticket_publish
from tickets.tiers import Tier

logger = logging.getLogger("kefu.tickets")

# Waiting tickets given out per run of `waiting_tickets_assign` (the next run takes the rest).
WAITING_BATCH = 200


@dataclass(frozen=True)
class Needs:
    """What a ticket asks of its assignee."""

    team: Team
    channel: str
    tier: str
    language: str  # "zh-hans", "en"
    category: str


def needs_of(ticket: Ticket, *, text: str = "") -> Needs | None:
    """The needs of a ticket (None when it has no team). The language is the customer's
    when known, else the one `text` (or the subject) is written in."""
    if ticket.team is None:
        return None
    language = ticket.customer.language or language_of(text or ticket.subject)
    return Needs(
        team=ticket.team,
        channel=ticket.channel,
        tier=ticket.tier,
        language=language.lower(),
        category=ticket.category,
    )


@dataclass(frozen=True)
class _Setup:
    """The skills defined and the channel limits set: a few rows that change a few times a
    year and every new ticket reads, cached per process (the "assignment" revision)."""

    skills: dict[tuple[str, str], int]
    agent_limits: dict[tuple[int, str], int]
    team_limits: dict[tuple[int, str], int]


def _setup_load() -> _Setup:
    agent_limits: dict[tuple[int, str], int] = {}
    team_limits: dict[tuple[int, str], int] = {}
    for agent_id, team_id, channel, limit in ChannelCapacity.objects.values_list(
        "agent_id", "team_id", "channel", "limit"
    ):
        if agent_id is not None:
            agent_limits[(agent_id, channel)] = limit
        elif team_id is not None:
            team_limits[(team_id, channel)] = limit
    return _Setup(
        skills={
            (kind, code): pk for pk, kind, code in Skill.objects.values_list("pk", "kind", "code")
        },
        agent_limits=agent_limits,
        team_limits=team_limits,
    )


setup_cache: RevisionCache[_Setup] = RevisionCache(("assignment",), _setup_load)


def _required_skills(needs: Needs) -> list[int]:
    skills = setup_cache.get().skills
    wanted = [(SkillKind.LANGUAGE.value, needs.language)]
    if needs.category:
        wanted.append((SkillKind.CATEGORY.value, needs.category))
    return [skills[key] for key in wanted if key in skills]


def _capable(needs: Needs) -> "list[Agent]":
    """Agents who could take the ticket if under capacity and on shift, in round-robin
    order: least recently assigned first (never assigned before all), then the lower id."""
    agents = Agent.objects.filter(
        teams=needs.team.pk,
        is_available=True,
        status=AgentStatus.ONLINE,
        user__is_active=True,
    ).filter(
        Q(takes_tickets=True)
        | ~(Q(user__is_superuser=True) | Q(user__groups__name__in=[Role.SUPERVISOR, Role.ADMIN]))
    )
    for skill in _required_skills(needs):
        agents = agents.filter(skills=skill)
    if needs.tier == Tier.URGENT and needs.team.urgent_level > 1:
        agents = agents.filter(level__gte=needs.team.urgent_level)
    return list(agents.distinct().order_by(F("last_assigned_at").asc(nulls_first=True), "pk")[:50])


def _on_shift(agent: Agent, now: datetime) -> bool:
    if agent.shift_calendar_id is None:
        return True
    return work_calendar(agent.shift_calendar_id).is_open(now)


def _channel_limit(agent_id: int, needs: Needs) -> int | None:
    """The agent's own limit for the ticket's channel, else the team's, else none."""
    setup = setup_cache.get()
    own = setup.agent_limits.get((agent_id, needs.channel))
    return own if own is not None else setup.team_limits.get((needs.team.pk, needs.channel))


def _loads(agent_ids: list[int], channel: str) -> dict[int, tuple[int, int]]:
    """Open tickets assigned to each agent: (all channels, this channel)."""
    rows = (
        Ticket.objects.filter(assignee_id__in=agent_ids, is_open=True)
        .values("assignee_id")
        .annotate(total=Count("pk"), on_channel=Count("pk", filter=Q(channel=channel)))
        .values_list("assignee_id", "total", "on_channel")
    )
    return {agent_id: (total, on_channel) for agent_id, total, on_channel in rows}


def _has_room(agent: Agent, load: tuple[int, int], limit: int | None) -> bool:
    total, on_channel = load
    return total < agent.capacity and (limit is None or on_channel < limit)


def assignee_pick(*, needs: Needs, now: datetime) -> Agent | None:
    """The agent who gets a ticket with these needs, their row locked and their
    `last_assigned_at` moved to `now`; None when nobody can take it. Call inside the
    transaction that assigns the ticket."""
    candidates = [agent for agent in _capable(needs) if _on_shift(agent, now)]
    if not candidates:
        return None
    loads = _loads([agent.pk for agent in candidates], needs.channel)
    roomy = [
        agent
        for agent in candidates
        if _has_room(agent, loads.get(agent.pk, (0, 0)), _channel_limit(agent.pk, needs))
    ]
    # First those nobody else is assigning to right now; then, waiting for the lock, the
    # ones another transaction held.
    held: list[Agent] = []
    for agent in roomy:
        if _lock(agent.pk, skip_locked=True):
            if _room_under_lock(agent, needs):
                return _taken(agent, now)
        else:
            held.append(agent)
    for agent in held:
        if _lock(agent.pk, skip_locked=False) and _room_under_lock(agent, needs):
            return _taken(agent, now)
    return None


def _lock(agent_id: int, *, skip_locked: bool) -> bool:
    return (
        Agent.objects.select_for_update(skip_locked=skip_locked, of=("self",))
        .filter(pk=agent_id, status=AgentStatus.ONLINE, is_available=True)
        .exists()
    )


def _room_under_lock(agent: Agent, needs: Needs) -> bool:
    # A new statement after the lock: it sees every assignment committed before it.
    load = _loads([agent.pk], needs.channel).get(agent.pk, (0, 0))
    return _has_room(agent, load, _channel_limit(agent.pk, needs))


def _taken(agent: Agent, now: datetime) -> Agent:
    Agent.objects.filter(pk=agent.pk).update(last_assigned_at=now)
    agent.last_assigned_at = now
    return agent


def waiting_tickets_assign(*, team_ids: Iterable[int] | None = None) -> int:
    """Give out open unassigned tickets of these teams (all teams: None), most urgent and
    oldest first, to agents who can take them now; how many were assigned. Each ticket is
    claimed with `FOR UPDATE SKIP LOCKED`, so two runs at once never assign one ticket twice.
    """
    # Only teams with someone online can give anything out.
    staffed = Team.objects.filter(
        agents__status=AgentStatus.ONLINE, agents__is_available=True
    ).values_list("pk", flat=True)
    if team_ids is not None:
        staffed = staffed.filter(pk__in=list(team_ids))
    waiting = Ticket.objects.filter(
        is_open=True, assignee__isnull=True, team_id__in=list(staffed.distinct())
    )
    assigned = 0
    for ticket_id in waiting.order_by("priority_rank", "created_at", "pk").values_list(
        "pk", flat=True
    )[:WAITING_BATCH]:
        now = timezone.now()
        with transaction.atomic():
            ticket = (
                Ticket.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("team", "customer")
                .filter(pk=ticket_id, is_open=True, assignee__isnull=True)
                .first()
            )
            if ticket is None:
                continue
            needs = needs_of(ticket)
            if needs is None:
                continue
            agent = assignee_pick(needs=needs, now=now)
            if agent is None:
                continue
            ticket.assignee = agent
            ticket.save(update_fields=["assignee", "updated_at"])
            event_record(
                ticket=ticket,
                kind=EventKind.ASSIGNED,
                actor=None,
                data={"from": None, "to": agent.pk, "waited": True},
            )
            ticket_publish(ticket, events.ticket_updated(ticket))
            assigned += 1
    if assigned:
        logger.info("assigned %d waiting ticket(s)", assigned)
    return assigned


def waiting_tickets_assign_later(*, team_ids: list[int]) -> None:
    """Queue `waiting_tickets_assign` for these teams after the current transaction commits,
    when any of them has a ticket waiting."""
    from tickets.tasks import waiting_assign

    teams = sorted(set(team_ids))
    # No task when nothing waits (every agent reconnecting after a deploy would queue one).
    if (
        teams
        and Ticket.objects.filter(is_open=True, assignee__isnull=True, team_id__in=teams).exists()
    ):
        transaction.on_commit(lambda: waiting_assign.delay(teams))


def capacity_freed_later(*, agent_ids: Collection[int]) -> None:
    """Agents' tickets closed (or left them): after commit, give the waiting tickets of
    their teams out again."""
    team_ids = list(Team.objects.filter(agents__in=list(agent_ids)).values_list("pk", flat=True))
    waiting_tickets_assign_later(team_ids=team_ids)
