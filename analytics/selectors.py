"""The board's counters."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, F, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from aftersales.models import ShipmentAnomaly
from aftersales.services.logistics import open_anomaly_count
from analytics.metrics import Totals
from analytics.reports import Filters, by_day, local_midnight, open_at_day_ends
from feedback.models import ActionStatus, ComplaintReview
from feedback.selectors.complaints import overdue_action_count
from kefu.roles import Role
from sla.forecast import breach_probability
from sla.selectors import default_calendar_id, work_calendar, work_calendars
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
    midnight = local_midnight(timezone.localdate(now))
    today = Ticket.objects.filter(
        first_response_at__gte=midnight, first_response_at__lte=now
    ).aggregate(
        # Counted on the column, not the id, so the index answers alone (index-only scan).
        count=Count("first_response_at"),
        average=Avg(F("first_response_at") - F("created_at")),
    )
    average: timedelta | None = today["average"]
    emotion = Message.objects.filter(
        direction=Direction.IN, created_at__gte=midnight, sentiment__isnull=False
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


class _Staffing:
    """Who works a team's tickets and when: the shift hours of each available agent of the
    team (an agent without a shift calendar works the team's hours). Agent-seconds on shift
    between two moments are summed over the agents, memoised per moment, so a team's queue,
    read in deadline order, costs one short span per agent and ticket."""

    def __init__(self, calendars: list[Any]) -> None:
        self.calendars = calendars
        self._upto: tuple[datetime, int] | None = None

    def between(self, start: datetime, end: datetime) -> int:
        return sum(calendar.between(start, end) for calendar in self.calendars)

    def from_now(self, now: datetime, end: datetime) -> int:
        """Agent-seconds on shift in [now, end), for ends that mostly come in rising order."""
        if end <= now:
            return 0
        if self._upto is not None and now <= self._upto[0] <= end:
            done_at, done = self._upto
            total = done + self.between(done_at, end)
        else:
            total = self.between(now, end)
        self._upto = (end, total)
        return total


def _staffing(team_ids: set[int], team_calendars: dict[int, Any]) -> dict[int, _Staffing]:
    """Per team with at least one agent on a shift calendar, its staffing; teams whose agents
    all keep the team's hours are left out (their answer rate needs no shifts)."""
    memberships = list(
        Agent.teams.through.objects.filter(
            team_id__in=team_ids, agent__is_available=True, agent__user__is_active=True
        )
        # Those who take tickets, as assignment counts them (supervisors only when they do).
        .filter(
            Q(agent__takes_tickets=True)
            | ~(
                Q(agent__user__is_superuser=True)
                | Q(agent__user__groups__name__in=[Role.SUPERVISOR, Role.ADMIN])
            )
        )
        .values_list("team_id", "agent_id", "agent__shift_calendar_id")
        .distinct()
    )
    shifted = {team_id for team_id, _agent, calendar_id in memberships if calendar_id is not None}
    calendars = work_calendars(
        {calendar_id for _team, _agent, calendar_id in memberships if calendar_id is not None}
    )
    staffing: dict[int, _Staffing] = {}
    for team_id, _agent, calendar_id in memberships:
        if team_id not in shifted or team_id not in team_calendars:
            continue
        calendar = calendars.get(calendar_id) if calendar_id is not None else None
        staffing.setdefault(team_id, _Staffing([])).calendars.append(
            calendar or team_calendars[team_id]
        )
    return staffing


def breach_forecast(
    *, now: datetime | None = None, threshold: float = 0.5, limit: int = 10
) -> list[Forecast]:
    """Open tickets still waiting for an answer that are likely to breach their next SLA
    deadline, given the tickets due before them in their team and the answers the team can
    give before the deadline.

    The team's pace is its replies over the last eight hours. Where agents of the team work
    shifts (docs/staffing.md), the pace is per agent-hour on shift in those eight hours, and
    the answers expected before a deadline are that pace times the agent-hours on shift until
    it: nobody on shift until the deadline means no answers. Otherwise it is per business hour
    of the team's calendar. Four queries."""
    now = now or timezone.now()
    waiting = list(
        Ticket.objects.filter(
            is_open=True,
            awaiting_reply_since__isnull=False,
            sla_due_at__isnull=False,
            sla_state__in=[SlaState.OK, SlaState.AT_RISK],
        )
        .order_by("team_id", "sla_due_at", "pk")
        # Hundreds of rows on a busy day: only what the forecast reads, as plain rows.
        .values_list(
            "number", "subject", "sla_due_at", "team_id", "team__name", "team__calendar_id"
        )
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
    team_calendars: dict[int, Any] = {}
    for _number, _subject, _due, team_id, _team_name, team_calendar in waiting:
        calendar_id = team_calendar or default_calendar
        if team_id is not None and calendar_id is not None:
            team_calendars[team_id] = work_calendar(calendar_id)
    staffing = _staffing(set(team_calendars), team_calendars) if team_calendars else {}
    forecasts: list[Forecast] = []
    ahead_in_team: dict[int | None, int] = {}
    # The business hours in the rate window, per calendar (the same for its whole team).
    window_seconds: dict[int, int] = {}
    for number, subject, due_at, team_id, team_name, team_calendar in waiting:
        ahead = ahead_in_team.get(team_id, 0)
        ahead_in_team[team_id] = ahead + 1
        calendar_id = team_calendar or default_calendar
        if calendar_id is None or due_at is None:
            continue
        calendar = work_calendar(calendar_id)
        left = calendar.between(now, due_at) if due_at > now else 0
        answered = replies.get(team_id, 0)
        shifts = staffing.get(team_id) if team_id is not None else None
        if shifts is None:
            if calendar_id not in window_seconds:
                window_seconds[calendar_id] = calendar.between(now - RATE_WINDOW, now)
            window_hours = max(window_seconds[calendar_id] / 3600.0, 1.0)
            rate = answered / window_hours
        else:
            worked_hours = max(shifts.between(now - RATE_WINDOW, now) / 3600.0, 1.0)
            expected = answered / worked_hours * shifts.from_now(now, due_at) / 3600.0
            # As a pace over the business time left, which is what the board shows.
            rate = expected * 3600.0 / left if left else 0.0
        probability = breach_probability(ahead=ahead, rate_per_hour=rate, seconds_left=left)
        if probability >= threshold:
            forecasts.append(
                Forecast(
                    number=number,
                    subject=subject,
                    team=team_name or "",
                    due_at=due_at,
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


# --- today's rates and their trends ---------------------------------------------------------

TREND_DAYS = 7


def trend_days(today: date) -> list[date]:
    """The days a tile's trend covers, oldest first, today last."""
    return [today - timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]


@dataclass(frozen=True)
class Figure:
    """A board figure now and on each day of its trend (oldest first, today last; None where
    the day has nothing to divide by)."""

    value: float | None
    trend: tuple[float | None, ...]


def trend_totals(*, now: datetime | None = None) -> list[Totals]:
    """The rollup totals of each trend day, oldest first, today last. One query."""
    today = timezone.localdate(now)
    return [
        totals
        for _day, totals in by_day(Filters(start=trend_days(today)[0], end=today), orders=False)
    ]


def board_rates(*, week: list[Totals]) -> dict[str, Figure]:
    """Today's (local day) resolution rate, first-contact resolution, repeat contact rate and
    CSAT, each with the days before it (`week`: trend_totals, today last). All are the report
    pages' own: the rollup sums of analytics.reports and the ratios of analytics.metrics.Totals
    (CSAT: 4–5 among the answers given that day). No query."""
    today = week[-1]
    return {
        key: Figure(value=getattr(today, name), trend=tuple(getattr(t, name) for t in week))
        for key, name in (
            ("resolution_rate", "resolution_rate"),
            ("fcr_rate", "fcr_rate"),
            ("repeat_rate", "repeat_rate"),
            ("csat", "csat_rate"),
        )
    }


@dataclass(frozen=True)
class Backlog:
    category: str
    count: int
    oldest: datetime


def backlog_query(*, limit: int = 12) -> QuerySet[Any, Any]:
    """Open tickets per category, the largest first, with the oldest one's creation time,
    from the open-tickets index by category (tickets_open_category)."""
    return (
        Ticket.objects.filter(is_open=True)
        .values("category")
        # COUNT(*): with the category and the creation time, all the index holds, so
        # PostgreSQL can answer from the index alone.
        .annotate(count=Count("*"), oldest=Min("created_at"))
        .order_by("-count", "category")[:limit]
    )


def backlog_by_category(*, limit: int = 12) -> list[Backlog]:
    """The backlog by category (backlog_query). One query."""
    return [
        Backlog(category=r["category"], count=r["count"], oldest=r["oldest"])
        for r in backlog_query(limit=limit)
    ]


def backlog_trend(*, open_now: int, week: list[Totals]) -> tuple[float | None, ...]:
    """Open tickets at the end of each trend day, today last (`open_now`), worked back from
    the rollups (`week`: trend_totals): the day before had what today has, less today's
    contacts, plus today's resolutions (analytics.reports.open_at_day_ends, as the report
    pages work it back). No query."""
    return tuple(open_at_day_ends(open_now, week))


def anomaly_trend(*, open_now: int, now: datetime | None = None) -> tuple[float | None, ...]:
    """Logistics anomalies open at the end of each trend day, today last (`open_now`). One
    query over the anomalies still open or resolved within the trend."""
    now = now or timezone.now()
    days = trend_days(timezone.localdate(now))[:-1]
    ends = {day: local_midnight(day + timedelta(days=1)) for day in days}
    counts = ShipmentAnomaly.objects.filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=ends[days[0]]),
        detected_at__lt=ends[days[-1]],
    ).aggregate(
        **{
            day.isoformat(): Count(
                "pk",
                filter=Q(detected_at__lt=end)
                & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=end)),
            )
            for day, end in ends.items()
        }
    )
    return (*(float(counts[day.isoformat()]) for day in days), float(open_now))


def overdue_action_trend(
    *, overdue_now: int, now: datetime | None = None
) -> tuple[float | None, ...]:
    """Corrective actions overdue at the end of each trend day, today last (`overdue_now`): due
    before that day, and not done by its end. One query."""
    now = now or timezone.now()
    days = trend_days(timezone.localdate(now))[:-1]
    ends = {day: local_midnight(day + timedelta(days=1)) for day in days}
    not_done = ~Q(action_status=ActionStatus.DONE)
    counts = ComplaintReview.objects.filter(
        not_done | Q(action_done_at__gte=ends[days[0]]), action_due__lt=days[-1]
    ).aggregate(
        **{
            day.isoformat(): Count(
                "pk",
                filter=Q(action_due__lt=day, created_at__lt=end)
                & (not_done | Q(action_done_at__gte=end)),
            )
            for day, end in ends.items()
        }
    )
    return (*(float(counts[day.isoformat()]) for day in days), float(overdue_now))
