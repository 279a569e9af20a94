"""The board's counters."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Avg, Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from aftersales.services.logistics import open_anomaly_count
from feedback.selectors.complaints import overdue_action_count
from sla.forecast import breach_probability
from sla.selectors import default_calendar_id, work_calendar
from tickets.models import (
    Agent,
    AgentStatus,
    Direction,
    EventKind,
    Message,
    SlaState,
    Status,
    Ticket,
    TicketEvent,
)


def board_counters(*, now: datetime | None = None) -> dict[str, Any]:
    """Open, unassigned, waiting on us, SLA at risk and breached (open tickets), and today's
    first responses with their average wall-clock time, today's customer emotion index, and
    the open logistics anomalies and overdue corrective actions of complaint reviews. Five
    queries."""
    now = now or timezone.now()
    current = Ticket.objects.filter(is_open=True).aggregate(
        open=Count("pk"),
        unassigned=Count("pk", filter=Q(assignee__isnull=True)),
        waiting=Count("pk", filter=Q(awaiting_reply_since__isnull=False)),
        at_risk=Count("pk", filter=Q(sla_state=SlaState.AT_RISK)),
        breached=Count("pk", filter=Q(sla_state=SlaState.BREACHED)),
        pending_customer=Count("pk", filter=Q(status=Status.PENDING_CUSTOMER)),
        # In a team's queue with nobody who could take it yet (docs/workspace.md).
        waiting_for_agent=Count("pk", filter=Q(assignee__isnull=True, team__isnull=False)),
    )
    local_midnight = timezone.make_aware(
        datetime.combine(timezone.localdate(now), time.min), timezone.get_current_timezone()
    )
    today = Ticket.objects.filter(
        first_response_at__gte=local_midnight, first_response_at__lte=now
    ).aggregate(
        count=Count("pk"),
        average=Avg(F("first_response_at") - F("created_at")),
    )
    average: timedelta | None = today["average"]
    emotion = Message.objects.filter(
        direction=Direction.IN, created_at__gte=local_midnight, sentiment__isnull=False
    ).aggregate(mean=Avg("sentiment"))["mean"]
    return {
        **current,
        "first_responses_today": today["count"],
        "first_response_avg_seconds": round(average.total_seconds()) if average else None,
        # 客户情绪指数: the mean sentiment of today's customer messages, -1 … 1.
        "emotion_index_today": round(emotion, 2) if emotion is not None else None,
        # Parcels a logistics rule flagged and that have not arrived since.
        "logistics_anomalies": open_anomaly_count(),
        # Complaint reviews whose corrective action is past its due date and not done.
        "complaint_actions_overdue": overdue_action_count(now=now),
    }


@dataclass(frozen=True)
class Forecast:
    number: str
    subject: str
    team: str
    due_at: datetime
    ahead: int
    rate_per_hour: float
    seconds_left: int
    probability: float


RATE_WINDOW = timedelta(hours=8)


def breach_forecast(
    *, now: datetime | None = None, threshold: float = 0.5, limit: int = 10
) -> list[Forecast]:
    """Open tickets still waiting for an answer that are likely to breach their next SLA
    deadline, given the tickets due before them in their team and the team's recent answer
    rate (replies per business hour over the last eight hours). Three queries."""
    now = now or timezone.now()
    waiting = list(
        Ticket.objects.filter(
            is_open=True,
            awaiting_reply_since__isnull=False,
            sla_due_at__isnull=False,
            sla_state__in=[SlaState.OK, SlaState.AT_RISK],
        )
        .select_related("team")
        .order_by("team_id", "sla_due_at", "pk")
    )
    replies: dict[int | None, int] = dict(
        Message.objects.filter(
            direction=Direction.OUT,
            author__isnull=False,
            created_at__gte=now - RATE_WINDOW,
            ticket__team__isnull=False,
        )
        .values_list("ticket__team_id")
        .annotate(count=Count("pk"))
        .values_list("ticket__team_id", "count")
    )
    default_calendar = default_calendar_id()
    forecasts: list[Forecast] = []
    ahead_in_team: dict[int | None, int] = {}
    for ticket in waiting:
        ahead = ahead_in_team.get(ticket.team_id, 0)
        ahead_in_team[ticket.team_id] = ahead + 1
        calendar_id = (ticket.team.calendar_id if ticket.team else None) or default_calendar
        if calendar_id is None or ticket.sla_due_at is None:
            continue
        calendar = work_calendar(calendar_id)
        window_hours = max(calendar.between(now - RATE_WINDOW, now) / 3600.0, 1.0)
        rate = replies.get(ticket.team_id, 0) / window_hours
        left = calendar.between(now, ticket.sla_due_at) if ticket.sla_due_at > now else 0
        probability = breach_probability(ahead=ahead, rate_per_hour=rate, seconds_left=left)
        if probability >= threshold:
            forecasts.append(
                Forecast(
                    number=ticket.number,
                    subject=ticket.subject,
                    team=ticket.team.name if ticket.team else "",
                    due_at=ticket.sla_due_at,
                    ahead=ahead,
                    rate_per_hour=round(rate, 2),
                    seconds_left=left,
                    probability=round(probability, 3),
                )
            )
    forecasts.sort(key=lambda f: (-f.probability, f.due_at))
    return forecasts[:limit]


@dataclass(frozen=True)
class Escalation:
    number: str
    subject: str
    action: str
    milestone: str
    level: int
    at: datetime


def recent_escalations(*, hours: int = 24, limit: int = 10) -> list[Escalation]:
    """The latest SLA escalations (newest first) for the board. One query."""
    since = timezone.now() - timedelta(hours=hours)
    rows = (
        TicketEvent.objects.filter(kind=EventKind.ESCALATED, created_at__gte=since)
        .select_related("ticket")
        .order_by("-created_at", "-pk")[:limit]
    )
    return [
        Escalation(
            number=row.ticket.number,
            subject=row.ticket.subject,
            action=str(row.data.get("action", "")),
            milestone=str(row.data.get("milestone", "")),
            level=int(row.data.get("level", 0) or 0),
            at=row.created_at,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Presence:
    name: str
    status: str
    since: datetime | None
    open_tickets: int
    capacity: int


_STATUS_ORDER = {AgentStatus.ONLINE: 0, AgentStatus.BUSY: 1, AgentStatus.AWAY: 2}


def agents_presence(*, limit: int = 200) -> list[Presence]:
    """Every active agent with their status and open tickets: online first, then busy, away
    and offline, by name. One query."""
    rows = (
        Agent.objects.filter(user__is_active=True)
        .select_related("user")
        # A count per agent from the open-ticket index, not a join over every ticket.
        .annotate(
            open_tickets=Coalesce(
                Subquery(
                    Ticket.objects.filter(assignee=OuterRef("pk"), is_open=True)
                    .order_by()
                    .values("assignee")
                    .annotate(n=Count("pk"))
                    .values("n")
                ),
                0,
            )
        )
        .order_by("pk")[:limit]
    )
    people = [
        Presence(
            name=str(agent),
            status=agent.status,
            since=agent.status_changed_at,
            open_tickets=agent.open_tickets,
            capacity=agent.capacity,
        )
        for agent in rows
    ]
    people.sort(key=lambda p: (_STATUS_ORDER.get(AgentStatus(p.status), 3), p.name))
    return people
