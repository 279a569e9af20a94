"""Agents needed per interval against agents on shift, and shift counts that cover the need
(docs/staffing.md).

For each channel and 30-minute interval of the stored forecast (shop events applied):

- the **handling time** of a contact is the channel's average agent replies per ticket over
  the last four weeks of facts times the seconds an agent spends on one reply (a setting per
  channel, with defaults below);
- the **answer target** is the settings' target answer time for the channels answered live
  (phone, web chat) and the SLA's first-response target of a regular ticket of that channel
  for the others (email, app, SMS, self-service), as the SLA policies set it;
- **Erlang C** (analytics.erlang) gives the fewest agents that answer the service level
  within the target at no more than the maximum occupancy; for the phone, **Erlang A** when
  the calls of the last four weeks show how long callers wait before they hang up
  (`phone_patience`).

Live channels are staffed side by side (an agent on the phone is not also in the chat
queue), so their needs add up: an upper bound if agents really juggle channels. Written
channels add their workload as fractions of an agent (`plan_build`). Divided by
1 − shrinkage, the need is the agents to have on shift. Agents on shift are those whose
shift hours (their `shift_calendar`, the same calendar assignment honours) are open at the
middle of the interval; agents without shift hours are on no roster and not counted.
"""

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from analytics import erlang
from analytics.forecast import Forecast
from analytics.models import StaffingSettings, TicketFact
from sla.selectors import default_calendar_id, policy_for, work_calendar, work_calendars
from tickets.models import Agent, Call, CallCause, CallDirection, Channel
from tickets.services.audit import audit_record
from tickets.tiers import Tier

# Channels a customer waits on live; the others are answered within the SLA's first response.
LIVE_CHANNELS = frozenset({Channel.PHONE.value, Channel.CHAT.value})
# An agent's seconds per reply (talk and wrap-up for a call) when the settings name none.
DEFAULT_REPLY_SECONDS = {
    Channel.PHONE.value: 300,
    Channel.CHAT.value: 90,
    Channel.APP.value: 90,
    Channel.SMS.value: 60,
    Channel.EMAIL.value: 240,
    Channel.WEB.value: 180,
    Channel.STORE.value: 300,
}
# A regular ticket's first response when no SLA policy sets one: the seed's 4 h.
FALLBACK_FIRST_RESPONSE_SECONDS = 4 * 3600
AHT_DAYS = 28
# Fewer callers hanging up than this in AHT_DAYS say too little of their patience: Erlang C.
MIN_ABANDONED_CALLS = 20


def settings_current() -> StaffingSettings:
    """The stored settings, or the defaults while none were saved."""
    return StaffingSettings.objects.filter(pk=1).first() or StaffingSettings(pk=1)


def settings_save(
    *,
    service_level_percent: int,
    answer_seconds: int,
    max_occupancy_percent: int,
    shrinkage_percent: int,
    shift_hours: int,
    reply_seconds: dict[str, int],
    actor: User | None,
) -> StaffingSettings:
    """Store the staffing settings (the one row); audited."""
    with transaction.atomic():
        saved, _created = StaffingSettings.objects.update_or_create(
            pk=1,
            defaults={
                "service_level_percent": service_level_percent,
                "answer_seconds": answer_seconds,
                "max_occupancy_percent": max_occupancy_percent,
                "shrinkage_percent": shrinkage_percent,
                "shift_hours": shift_hours,
                "reply_seconds": reply_seconds,
            },
        )
        audit_record(
            actor=actor,
            action="staffing_settings_changed",
            object_type="staffing_settings",
            object_id="1",
            data={
                "service_level_percent": service_level_percent,
                "answer_seconds": answer_seconds,
                "max_occupancy_percent": max_occupancy_percent,
                "shrinkage_percent": shrinkage_percent,
                "shift_hours": shift_hours,
                "reply_seconds": reply_seconds,
            },
        )
    return saved


def reply_seconds(settings: StaffingSettings, channel: str) -> int:
    value = (settings.reply_seconds or {}).get(channel)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return DEFAULT_REPLY_SECONDS.get(channel, 180)


def handling_seconds(settings: StaffingSettings, channels: Sequence[str]) -> dict[str, float]:
    """Average handling time per channel: agent replies per ticket over the last AHT_DAYS
    of facts (one when the channel has none) times the seconds per reply."""
    since = timezone.now() - timedelta(days=AHT_DAYS)
    replies = dict(
        TicketFact.objects.filter(created_at__gte=since, channel__in=list(channels))
        .values("channel")
        .annotate(average=Avg("agent_replies"))
        .values_list("channel", "average")
    )
    return {
        channel: float(replies[channel] if replies.get(channel) is not None else 1.0)
        * reply_seconds(settings, channel)
        for channel in channels
    }


def phone_patience(*, now: datetime | None = None) -> float | None:
    """The callers' mean patience in seconds, from the inbound calls of the last AHT_DAYS, or
    None when fewer than MIN_ABANDONED_CALLS hung up while waiting.

    The maximum-likelihood estimate for an exponential patience: callers who hung up before
    an answer (`cancel`) over all the time callers spent waiting, theirs and that of those
    who were answered (up to the answer) or whom the PBX stopped ringing (`noAnswer`), since
    those were still willing to wait then. Waits count from the PBX's start of the call."""
    since = (now or timezone.now()) - timedelta(days=AHT_DAYS)
    calls = Call.objects.filter(direction=CallDirection.IN, started_at__gte=since)
    answered = calls.filter(answered_at__isnull=False).aggregate(
        waited=Sum(ExpressionWrapper(F("answered_at") - F("started_at"), DurationField()))
    )
    unanswered = calls.filter(
        answered_at__isnull=True,
        ended_at__isnull=False,
        cause__in=[CallCause.CANCEL, CallCause.NO_ANSWER],
    ).aggregate(
        waited=Sum(ExpressionWrapper(F("ended_at") - F("started_at"), DurationField())),
        hung_up=Count("pk", filter=Q(cause=CallCause.CANCEL)),
    )
    hung_up = unanswered["hung_up"] or 0
    if hung_up < MIN_ABANDONED_CALLS:
        return None
    waited = (answered["waited"] or timedelta(0)) + (unanswered["waited"] or timedelta(0))
    return max(waited.total_seconds(), 1.0) / hung_up


def answer_target_seconds(settings: StaffingSettings, channel: str) -> int:
    if channel in LIVE_CHANNELS:
        return settings.answer_seconds
    policy = policy_for({"channel": channel, "tier": Tier.REGULAR.value, "vip": False})
    if policy is not None and policy.first_response_minutes:
        return policy.first_response_minutes * 60
    return FALLBACK_FIRST_RESPONSE_SECONDS


@dataclass
class ChannelNeed:
    channel: str
    aht_seconds: float
    target_seconds: int
    contacts: list[float]
    agents: list[int]
    # The callers' mean patience (seconds) when Erlang A staffed the channel.
    patience_seconds: float | None = None


@dataclass
class Plan:
    """Per interval: agents needed on the queues, on shift (÷ 1 − shrinkage), scheduled."""

    intervals: list[datetime]
    interval_minutes: int
    channels: list[ChannelNeed]
    required: list[int]
    rostered: list[int]
    scheduled: list[int]
    settings: StaffingSettings
    gaps: list[int] = field(default_factory=list)

    def day(self, day: date) -> "Plan":
        """The same plan cut to one local day."""
        keep = [i for i, at in enumerate(self.intervals) if at.date() == day]
        return Plan(
            intervals=[self.intervals[i] for i in keep],
            interval_minutes=self.interval_minutes,
            channels=[
                ChannelNeed(
                    channel=need.channel,
                    aht_seconds=need.aht_seconds,
                    target_seconds=need.target_seconds,
                    contacts=[need.contacts[i] for i in keep],
                    agents=[need.agents[i] for i in keep],
                    patience_seconds=need.patience_seconds,
                )
                for need in self.channels
            ],
            required=[self.required[i] for i in keep],
            rostered=[self.rostered[i] for i in keep],
            scheduled=[self.scheduled[i] for i in keep],
            settings=self.settings,
            gaps=[self.gaps[i] for i in keep],
        )

    def days(self) -> list[date]:
        return sorted({at.date() for at in self.intervals})


def scheduled_agents(intervals: Sequence[datetime], interval_minutes: int) -> list[int]:
    """Active agents whose shift hours are open at the middle of each interval."""
    per_calendar = Counter(
        Agent.objects.filter(user__is_active=True, shift_calendar__isnull=False).values_list(
            "shift_calendar_id", flat=True
        )
    )
    half = timedelta(minutes=interval_minutes / 2)
    counts = [0] * len(intervals)
    calendars = work_calendars(set(per_calendar))
    for calendar_id, agents in per_calendar.items():
        calendar = calendars.get(calendar_id)
        if calendar is None:
            continue
        for i, at in enumerate(intervals):
            if calendar.is_open(at + half):
                counts[i] += agents
    return counts


def helpdesk_open(intervals: Sequence[datetime], interval_minutes: int) -> list[bool]:
    """Whether the helpdesk (the default business calendar) is open at the middle of each
    interval; always, without a default calendar."""
    calendar_id = default_calendar_id()
    if calendar_id is None:
        return [True] * len(intervals)
    calendar = work_calendar(calendar_id)
    half = timedelta(minutes=interval_minutes / 2)
    return [calendar.is_open(at + half) for at in intervals]


def plan_build(forecast: Forecast, settings: StaffingSettings) -> Plan:
    """Agents needed per interval of the forecast under `settings`, against those on shift.

    Live channels (phone, chat) need their Erlang C agents in every open interval (Erlang A
    for the phone when the callers' patience is known). The other
    channels are work that can wait up to the SLA's first response: Erlang C with that target
    asks no more than the occupancy bound, so they add their workload (contacts × handling
    time ÷ interval ÷ maximum occupancy) as fractions of an agent, and the interval's total is
    rounded up once. Contacts that come while the helpdesk is closed wait for it to open:
    their workload is spread over the first two hours after the opening.
    """
    interval_seconds = forecast.run.interval_minutes * 60
    occupancy = settings.max_occupancy_percent / 100
    channels = sorted(forecast.contacts)
    aht = handling_seconds(settings, channels)
    is_open = helpdesk_open(forecast.intervals, forecast.run.interval_minutes)
    count = len(forecast.intervals)
    needs: list[ChannelNeed] = []
    workload = [0.0] * count  # fractional agents of deferred work
    patience = phone_patience() if Channel.PHONE.value in channels else None
    for channel in channels:
        target = answer_target_seconds(settings, channel)
        contacts = forecast.contacts[channel]
        channel_patience = patience if channel == Channel.PHONE.value else None
        agents = [0] * count
        for i, value in enumerate(contacts):
            if value <= 0 or aht[channel] <= 0:
                continue
            if channel in LIVE_CHANNELS and is_open[i]:
                agents[i] = erlang.agents_required(
                    contacts=value,
                    interval_seconds=interval_seconds,
                    aht=aht[channel],
                    service_level_target=settings.service_level_percent / 100,
                    target_seconds=target,
                    max_occupancy=occupancy,
                    patience=channel_patience,
                )
            else:
                workload[i] += value * aht[channel] / interval_seconds / occupancy
        needs.append(
            ChannelNeed(
                channel=channel,
                aht_seconds=aht[channel],
                target_seconds=target,
                contacts=contacts,
                agents=agents,
                patience_seconds=channel_patience,
            )
        )
    deferred = _carry_over_closed(
        workload, is_open, spread=max(1, 120 // forecast.run.interval_minutes)
    )
    required = [
        sum(need.agents[i] for need in needs) + math.ceil(deferred[i] - 1e-9) for i in range(count)
    ]
    keep = 1 - settings.shrinkage_percent / 100
    rostered = [math.ceil(value / keep - 1e-9) for value in required]
    scheduled = scheduled_agents(forecast.intervals, forecast.run.interval_minutes)
    return Plan(
        intervals=forecast.intervals,
        interval_minutes=forecast.run.interval_minutes,
        channels=needs,
        required=required,
        rostered=rostered,
        scheduled=scheduled,
        settings=settings,
        gaps=[s - r for s, r in zip(scheduled, rostered, strict=True)],
    )


def _carry_over_closed(workload: list[float], is_open: list[bool], *, spread: int) -> list[float]:
    """The workload with what arrives in closed intervals moved to the first `spread` open
    intervals after (what is still closed at the end of the horizon is dropped)."""
    result = [value if is_open[i] else 0.0 for i, value in enumerate(workload)]
    waiting = 0.0
    i = 0
    while i < len(workload):
        if not is_open[i]:
            waiting += workload[i]
            i += 1
            continue
        if waiting:
            run = [j for j in range(i, min(i + spread, len(workload))) if is_open[j]]
            for j in run:
                result[j] += waiting / len(run)
            waiting = 0.0
        i += 1
    return result


@dataclass(frozen=True)
class ShiftSuggestion:
    starts: list[tuple[datetime, int]]  # (start, agents) with agents > 0
    agents: int
    agent_hours: float
    required_hours: float
    covered: bool


def shifts_suggest(
    *, intervals: Sequence[datetime], need: Sequence[int], shift_intervals: int
) -> ShiftSuggestion:
    """The fewest shifts of `shift_intervals` consecutive intervals, starting at any interval
    of the day so that they end by its end, that put at least `need[i]` agents on every
    interval: an integer programme (set cover with multiplicities) solved by scipy's MILP."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    slots = len(need)
    if slots == 0 or not any(need):
        return ShiftSuggestion([], 0, 0.0, 0.0, True)
    length = min(shift_intervals, slots)
    starts = slots - length + 1
    cover = np.zeros((slots, starts))
    for s in range(starts):
        cover[s : s + length, s] = 1
    result = milp(
        c=np.ones(starts),
        constraints=LinearConstraint(cover, lb=np.asarray(need, dtype=float), ub=np.inf),
        integrality=np.ones(starts),
        bounds=Bounds(0, np.inf),
    )
    if result.x is None:
        return ShiftSuggestion([], 0, 0.0, float(sum(need)), False)
    counts = [round(v) for v in result.x]
    step_hours = (intervals[1] - intervals[0]).total_seconds() / 3600 if slots > 1 else 0.5
    return ShiftSuggestion(
        starts=[(intervals[s], n) for s, n in enumerate(counts) if n > 0],
        agents=sum(counts),
        agent_hours=sum(counts) * length * step_hours,
        required_hours=sum(need) * step_hours,
        covered=bool(result.success),
    )
