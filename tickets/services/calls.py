"""Phone calls in the core: what a PBX tells us about a call, in whatever order it arrives.

A call is built up from three events — `newCall` (it rings), `answer` and `hangup` — and the
PBX may deliver them late, twice or out of order (a hangup before the answer, a second
newCall). Every event is merged into the one `Call` row for its call id under a row lock, and
each merge only ever moves the call forward: the state never goes back (ringing < answered <
ended), a time already known is only replaced by an earlier one, and a fact already recorded
(cause, who answered) is not overwritten by a later duplicate. So the record ends up the same
whichever order the events came in.

An inbound call that ends unanswered (no answer, the caller hung up, busy) is a missed call:
it goes through intake as a customer message on the phone channel, so it opens a call-back
ticket (or threads into the customer's open phone ticket) and its SLA clocks start.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu import realtime
from tickets import events
from tickets.identity import mask_phone, normalise_phone
from tickets.inbound import Identity, InboundMessage
from tickets.models import (
    Agent,
    AuditEntry,
    Call,
    CallCause,
    CallDirection,
    CallState,
    Channel,
    ContactIdentity,
    Customer,
    IdentityKind,
    Team,
    Ticket,
)
from tickets.services.acknowledgement import ticket_acknowledge_opened
from tickets.services.customers import customer_resolve
from tickets.services.intake import IntakeResult, intake_message

logger = logging.getLogger("kefu.tickets.calls")


class CallEventKind:
    NEW_CALL = "newCall"
    ANSWER = "answer"
    HANGUP = "hangup"

    ALL = (NEW_CALL, ANSWER, HANGUP)


# An inbound call that ended this way without being answered is owed a call back.
MISSED_CAUSES = frozenset({CallCause.NO_ANSWER, CallCause.CANCEL, CallCause.BUSY})

_STATE_ORDER = [CallState.RINGING, CallState.ANSWERED, CallState.ENDED]
_STATE_OF_EVENT = {
    CallEventKind.NEW_CALL: CallState.RINGING,
    CallEventKind.ANSWER: CallState.ANSWERED,
    CallEventKind.HANGUP: CallState.ENDED,
}
OPEN_TICKETS_ON_CARD = 5


@dataclass(frozen=True)
class CallEvent:
    """One event of a call, as the edge read it from the PBX. Numbers are raw (normalised
    here); `direction` is None when the event did not say."""

    kind: str  # a CallEventKind
    call_id: str
    at: datetime
    direction: str | None = None  # a CallDirection value
    from_number: str = ""
    to_number: str = ""
    queue: str = ""
    team: Team | None = None  # where the PBX's queue routes; else the default team
    users: tuple[str, ...] = ()  # who answered: Kefu usernames or email addresses
    answering_number: str = ""
    cause: str = ""  # a CallCause value, on hangup
    duration: int | None = None  # talk time in seconds, on hangup
    recording_url: str = ""
    voicemail_url: str = ""


@dataclass(frozen=True)
class CallResult:
    call: Call
    created: bool  # this event was the first we heard of the call
    missed_call: IntakeResult | None  # the call-back message, when this event made one


def call_event(*, event: CallEvent) -> CallResult:
    """Merge one PBX event into its call, in one transaction.

    Safe to run any number of times and in any order (see the module docstring). On the first
    `newCall` of an inbound call that is still ringing, the agents of the call's team get a
    `call.ringing` screen pop; every change of state is published as `call.updated`. When the
    call turns out to be a missed inbound call from a real number, a call-back message goes
    through intake (once: its provider id is the call id) and the call is linked to its ticket.
    Raises ValueError for an unknown event kind.
    """
    if event.kind not in CallEventKind.ALL:
        raise ValueError(f"unknown call event {event.kind!r}")
    with transaction.atomic():
        call, created = _call_for_update(event)
        previous_state = call.state
        _merge(call, event, created=created)
        if call.customer_id is None:
            call.customer = _customer_of(call.customer_number)
        call.save()
        missed = None
        if _is_missed(call) and call.ticket_id is None:
            missed = _missed_call_intake(call)
        # Only a newCall leaves a call ringing, so a call that already existed has had its
        # pop: a repeated newCall rings nobody's screen twice.
        if event.kind == CallEventKind.NEW_CALL and created and call.direction == CallDirection.IN:
            _screen_pop(call)
        elif call.state != previous_state:
            _publish_update(call)
    return CallResult(call=call, created=created, missed_call=missed)


def _call_for_update(event: CallEvent) -> tuple[Call, bool]:
    call = Call.objects.select_for_update().filter(call_id=event.call_id).first()
    if call is not None:
        return call, False
    try:
        with transaction.atomic():
            call = Call.objects.create(
                call_id=event.call_id,
                direction=event.direction or CallDirection.IN,
                started_at=event.at,
                team=event.team or Team.objects.filter(is_default=True).first(),
            )
        return call, True
    except IntegrityError:
        # Another event of the same call created it a moment ago; wait for its lock.
        return Call.objects.select_for_update().get(call_id=event.call_id), False


def _merge(call: Call, event: CallEvent, *, created: bool) -> None:
    # newCall is the authority on who called whom; other events only fill gaps.
    authoritative = event.kind == CallEventKind.NEW_CALL
    if event.direction and (authoritative or created):
        call.direction = event.direction
    for field, raw in (("from_number", event.from_number), ("to_number", event.to_number)):
        if raw.strip() and (authoritative or not getattr(call, field)):
            setattr(call, field, _number(raw))
    if event.queue and (authoritative or not call.queue):
        call.queue = event.queue[:100]
    if event.team is not None and (authoritative or call.team_id is None):
        call.team = event.team
    started = event.at
    if event.kind == CallEventKind.HANGUP and event.duration:
        started = event.at - timedelta(seconds=event.duration)
    call.started_at = min(call.started_at, started)

    if event.kind == CallEventKind.ANSWER:
        if call.answered_at is None or event.at < call.answered_at:
            call.answered_at = event.at
        if call.answered_by_id is None:
            call.answered_by = _agent_named(event.users)
        if event.answering_number and not call.answering_number:
            call.answering_number = event.answering_number.strip()[:40]
    elif event.kind == CallEventKind.HANGUP:
        if call.ended_at is None:
            call.ended_at = event.at
        if event.cause and not call.cause:
            call.cause = event.cause
        if event.duration is not None and call.duration is None:
            call.duration = event.duration
        if event.answering_number and not call.answering_number:
            call.answering_number = event.answering_number.strip()[:40]
        if _http_url(event.recording_url) and not call.recording_url:
            call.recording_url = event.recording_url
        if _http_url(event.voicemail_url) and not call.voicemail_url:
            call.voicemail_url = event.voicemail_url
        if call.answered_by_id is None and event.users:
            call.answered_by = _agent_named(event.users)
        # Talk time means someone answered, even if the answer event was lost.
        if call.answered_at is None and call.duration and call.ended_at is not None:
            call.answered_at = call.ended_at - timedelta(seconds=call.duration)
    if call.duration is None and call.ended_at is not None and call.answered_at is not None:
        call.duration = max(0, int((call.ended_at - call.answered_at).total_seconds()))

    reached = _STATE_OF_EVENT[event.kind]
    if _STATE_ORDER.index(reached) > _STATE_ORDER.index(CallState(call.state)):
        call.state = reached


def _number(raw: str) -> str:
    """E.164 when it is a phone number; otherwise what the PBX sent (anonymous, extension)."""
    try:
        return normalise_phone(raw)
    except ValidationError:
        return raw.strip()[:40]


def _http_url(value: str) -> bool:
    # Shown to agents as links: nothing but http(s) (no javascript: or data: URLs).
    return value.startswith(("https://", "http://")) and len(value) <= 500


def _e164(value: str) -> str | None:
    return value if value.startswith("+") and value[1:].isdigit() else None


def _customer_of(number: str) -> Customer | None:
    if _e164(number) is None:
        return None
    identity = (
        ContactIdentity.objects.select_related("customer")
        .filter(kind=IdentityKind.PHONE, value=number)
        .first()
    )
    return identity.customer if identity else None


def _agent_named(names: tuple[str, ...]) -> Agent | None:
    for name in names:
        name = name.strip()
        if not name:
            continue
        match = Q(user__username=name)
        if "@" in name:
            match |= Q(user__email__iexact=name)
        agent = Agent.objects.select_related("user").filter(match).order_by("pk").first()
        if agent is not None:
            return agent
    return None


def _is_missed(call: Call) -> bool:
    return (
        call.direction == CallDirection.IN
        and call.state == CallState.ENDED
        and call.cause in MISSED_CAUSES
        and call.answered_at is None
    )


def _missed_call_intake(call: Call) -> IntakeResult | None:
    number = _e164(call.from_number)
    if number is None:
        logger.info(
            "missed call %s from %r: no number to call back", call.call_id, call.from_number
        )
        return None
    result = intake_message(
        inbound=InboundMessage(
            channel=Channel.PHONE,
            provider_id=f"call:{call.call_id}",
            identities=[Identity(kind=IdentityKind.PHONE, value=number)],
            text=_missed_call_text(call),
            sent_at=call.ended_at or call.started_at,
        )
    )
    call.customer = result.ticket.customer
    call.ticket = result.ticket
    call.save(update_fields=["customer", "ticket", "updated_at"])
    if result.created and result.ticket_opened:
        ticket_acknowledge_opened(ticket=result.ticket)
    return result


def _missed_call_text(call: Call) -> str:
    text = _("Missed call from %(number)s at %(time)s (%(cause)s). Please call back.") % {
        "number": mask_phone(call.from_number),
        "time": timezone.localtime(call.started_at).strftime("%Y-%m-%d %H:%M"),
        "cause": call.get_cause_display(),
    }
    if call.queue:
        text += "\n" + _("Queue: %(queue)s") % {"queue": call.queue}
    if call.voicemail_url:
        text += "\n" + _("Voicemail: %(url)s") % {"url": call.voicemail_url}
    return text


# --- what agents see ----------------------------------------------------------------------


def _open_tickets(customer_id: int | None) -> list[Ticket]:
    if customer_id is None:
        return []
    return list(
        Ticket.objects.filter(customer_id=customer_id, is_open=True).order_by("-created_at")[
            :OPEN_TICKETS_ON_CARD
        ]
    )


def _screen_pop(call: Call) -> None:
    if call.team_id is None:
        logger.info("call %s rings with no team to show it to", call.call_id)
        return
    event = events.call_ringing(call, open_tickets=_open_tickets(call.customer_id))
    realtime.publish_on_commit([realtime.team_group(call.team_id)], event)


def _publish_update(call: Call) -> None:
    groups = [realtime.team_group(call.team_id)] if call.team_id else []
    realtime.publish_on_commit(groups, events.call_updated(call))
    # A ticket page open on one of the caller's tickets shows the call on its timeline.
    for ticket in _open_tickets(call.customer_id):
        realtime.publish_on_commit(
            [realtime.ticket_group(ticket.pk)], events.call_updated(call, ticket=ticket)
        )


# --- an agent creates the caller -----------------------------------------------------------


def call_customer_create(*, call: Call, name: str, actor: User) -> Customer:
    """Make the caller of an unknown number a customer with that phone identity, and attach
    the calls from and to that number that belong to nobody yet. When the number is already
    somebody's (another agent was quicker), that customer is returned and nothing is created.
    Raises ValidationError when the call has no real number (a withheld caller id)."""
    number = _e164(call.customer_number)
    if number is None:
        raise ValidationError(_("This call has no phone number to create a customer from."))
    with transaction.atomic():
        customer = customer_resolve(
            identities=[(IdentityKind.PHONE, number)], name=name.strip()[:200]
        )
        attached = (
            Call.objects.filter(customer__isnull=True)
            .filter(
                Q(direction=CallDirection.IN, from_number=number)
                | Q(direction=CallDirection.OUT, to_number=number)
            )
            .update(customer=customer)
        )
        AuditEntry.objects.create(
            actor=actor,
            action="customer_from_call",
            object_type="customer",
            object_id=str(customer.pk),
            data={"call": call.call_id, "calls_attached": attached},
        )
    call.customer = customer
    return customer
