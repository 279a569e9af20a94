"""Agents' presence: online while a page of Kefu is open, away after a while without input,
offline when their last page closes; busy (and away) by their own choice from the switch in
the header.

Sockets are counted across processes by `tickets.presence_sockets`. The status is stored on
the agent; each change is published to the supervisors' board and to the agent's own pages
(their switch follows), and an agent who comes online has the waiting tickets of their teams
given out again (`tickets.services.assignment`).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu import realtime
from tickets import events
from tickets.models import Agent, AgentStatus
from tickets.presence_sockets import socket_close, socket_open, socket_refresh, sockets_open
from tickets.services.assignment import waiting_tickets_assign_later

# What an agent may choose in the header; offline follows from having no page open.
CHOOSABLE = (AgentStatus.ONLINE, AgentStatus.BUSY, AgentStatus.AWAY)

# An agent's input is written down at most this often per socket.
ACTIVITY_EVERY_SECONDS = 20.0


def _status_set(*, agent: Agent, status: str, is_auto: bool, now: datetime) -> bool:
    """Set the locked agent's status; publish and, coming online, give waiting tickets out.
    False when nothing changed."""
    if agent.status == status and agent.status_is_auto == is_auto:
        return False
    changed = agent.status != status
    agent.status = status
    agent.status_is_auto = is_auto
    fields = ["status", "status_is_auto"]
    if changed:
        agent.status_changed_at = now
        fields.append("status_changed_at")
    agent.save(update_fields=fields)
    if changed:
        realtime.publish_on_commit(
            [realtime.BOARD_GROUP, realtime.user_group(agent.user_id)],
            events.agent_presence(agent),
        )
        if status == AgentStatus.ONLINE:
            waiting_tickets_assign_later(team_ids=list(agent.teams.values_list("pk", flat=True)))
    return changed


def _locked(agent_id: int) -> Agent | None:
    return Agent.objects.select_for_update().filter(pk=agent_id).first()


def presence_set(*, agent: Agent, status: str, now: datetime | None = None) -> Agent:
    """The agent's own choice from the header switch: online, busy or away."""
    if status not in CHOOSABLE:
        raise ValidationError(_("Unknown status: %(status)s"), params={"status": status})
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(agent.pk)
        if locked is None:
            raise ValidationError(_("No such agent."))
        locked.last_activity_at = now
        locked.save(update_fields=["last_activity_at"])
        _status_set(agent=locked, status=status, is_auto=False, now=now)
    return locked


def presence_connected(*, agent_id: int, socket: str, now: datetime | None = None) -> None:
    """A page of the agent opened its socket: an agent who was offline is online."""
    now = now or timezone.now()
    # Counted before the row is locked: a last socket closing meanwhile sees this one.
    socket_open(agent_id=agent_id, socket=socket)
    with transaction.atomic():
        agent = _locked(agent_id)
        if agent is None:
            return
        agent.last_seen_at = agent.last_activity_at = now
        agent.save(update_fields=["last_seen_at", "last_activity_at"])
        if agent.status == AgentStatus.OFFLINE:
            _status_set(agent=agent, status=AgentStatus.ONLINE, is_auto=False, now=now)


def presence_disconnected(*, agent_id: int, socket: str, now: datetime | None = None) -> None:
    """A page of the agent closed its socket: with no other open, the agent is offline."""
    now = now or timezone.now()
    if socket_close(agent_id=agent_id, socket=socket) > 0:
        return
    with transaction.atomic():
        agent = _locked(agent_id)
        if agent is None:
            return
        agent.last_seen_at = now
        agent.save(update_fields=["last_seen_at"])
        # Counted again under the lock: a page that opened meanwhile keeps the agent here.
        if sockets_open([agent_id])[agent_id] == 0:
            _status_set(agent=agent, status=AgentStatus.OFFLINE, is_auto=True, now=now)


def presence_refresh(*, agent_id: int, socket: str) -> None:
    """The socket is still open (its process is alive): keep it counted."""
    socket_refresh(agent_id=agent_id, socket=socket)


def presence_active(*, agent_id: int, socket: str, now: datetime | None = None) -> None:
    """The agent used one of their pages (typed, clicked, scrolled): an agent away because
    idle is back online."""
    now = now or timezone.now()
    socket_refresh(agent_id=agent_id, socket=socket)
    # Nearly always the agent is at work and only the time of their input changes: one
    # UPDATE, without a transaction of its own or the row's lock (every open page sends
    # input every few seconds while its agent works). A sweep that has just made the agent
    # away holds the lock; the UPDATE then waits, finds the status changed and writes
    # nothing, and the locked path below brings the agent back.
    written = (
        Agent.objects.filter(pk=agent_id)
        .exclude(Q(status=AgentStatus.OFFLINE) | Q(status=AgentStatus.AWAY, status_is_auto=True))
        .update(last_activity_at=now, last_seen_at=now)
    )
    if written:
        return
    with transaction.atomic():
        agent = _locked(agent_id)
        if agent is None:
            return
        agent.last_activity_at = agent.last_seen_at = now
        agent.save(update_fields=["last_activity_at", "last_seen_at"])
        if agent.status == AgentStatus.AWAY and agent.status_is_auto:
            _status_set(agent=agent, status=AgentStatus.ONLINE, is_auto=False, now=now)
        elif agent.status == AgentStatus.OFFLINE:
            _status_set(agent=agent, status=AgentStatus.ONLINE, is_auto=False, now=now)


def away_after() -> timedelta:
    return timedelta(minutes=settings.KEFU_PRESENCE_AWAY_MINUTES)


def presence_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Every half minute: agents whose sockets all expired (their web process died) go
    offline; online agents without input for KEFU_PRESENCE_AWAY_MINUTES go away."""
    now = now or timezone.now()
    present = list(
        Agent.objects.exclude(status=AgentStatus.OFFLINE).values_list(
            "pk", "status", "last_activity_at"
        )
    )
    counts = sockets_open([agent_id for agent_id, _status, _at in present])
    idle_since = now - away_after()
    done = {"offline": 0, "away": 0}
    for agent_id, status, last_activity_at in present:
        if counts.get(agent_id, 0) == 0:
            with transaction.atomic():
                agent = _locked(agent_id)
                if agent is not None and sockets_open([agent_id])[agent_id] == 0:
                    done["offline"] += _status_set(
                        agent=agent, status=AgentStatus.OFFLINE, is_auto=True, now=now
                    )
        elif status == AgentStatus.ONLINE and (
            last_activity_at is None or last_activity_at < idle_since
        ):
            with transaction.atomic():
                agent = _locked(agent_id)
                if (
                    agent is not None
                    and agent.status == AgentStatus.ONLINE
                    and (agent.last_activity_at is None or agent.last_activity_at < idle_since)
                ):
                    done["away"] += _status_set(
                        agent=agent, status=AgentStatus.AWAY, is_auto=True, now=now
                    )
    return done
