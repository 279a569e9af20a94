"""The inbox of the shop's case events: stored before they are acknowledged, applied by a
worker in batches (docs/aftersales.md, "Events from the shop's systems"; ADR 0007).

- `event_receive` (the API's POST) checks the kind and the event id, and stores the event
  (`CaseEvent`, status `queued`) in one statement, unique per (case, event id): a redelivery
  stores nothing and answers as the stored event stands; the same id with another kind is
  refused (`event_conflict`). Queued mode (`INBOUND_QUEUED`, production) then rings for a
  worker; otherwise (embedded, tests) the event is applied before the answer.
- `events_drain` (the Celery task the ring queues, and the beat sweep) applies what is
  queued, in batches: one transaction per batch, claimed with `FOR UPDATE SKIP LOCKED` in
  arrival order, one event per case per batch and never one whose case has an earlier
  event still queued (so a case's events are applied in the order they came, whichever
  worker takes them), each event in a savepoint so a refused one changes nothing.
- The outcome is stored on the event: `applied` with the step it made; `refused` with the
  step service's code and message; `waiting` when the case is not at a step the event may
  follow yet but can still get there (`step_order` for a refund before the goods are back):
  a waiting event is queued again whenever its case's step changes
  (`history.step_record` calls `events_wake`), and refused once the case can no longer get
  there. A batch that fails unexpectedly rolls back whole and is applied again one event per
  transaction; an event that fails alone is set aside as `failed` (the admin's to look at).
"""

import functools
import logging
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.models import Case, CaseEvent, CaseItem, CaseStep, EventStatus, Order
from aftersales.raw_sql import event_insert
from aftersales.selectors import refund_room_among
from aftersales.services import batch_scope, progress
from aftersales.services.events import EVENT_KINDS, EVENT_STEPS, REFUND_KINDS
from aftersales.services.history import StepChange, StepEntry, steps_record
from aftersales.services.progress import locked_cases
from aftersales.steps import flow_of
from kefu.celery import task_queue
from tickets.models import ContactIdentity
from tickets.raw_sql import rows_update

logger = logging.getLogger("kefu.aftersales.events")

# Events applied per transaction.
BATCH = 100
# How long the worker's drain waits after a batch that was not full (`events_drain`).
LINGER_SECONDS = 0.25
# How long a rung bell stays up if its task never starts; the sweep takes what is left.
BELL_SECONDS = 60
EVENT_ID_CHARS = 100


@dataclass(frozen=True)
class EventReceipt:
    """The stored event, and whether this delivery stored it (False: a redelivery)."""

    event: CaseEvent
    stored: bool


# --- Receiving ---------------------------------------------------------------------------


def event_check(*, event_id: str, kind: str) -> str:
    """The event id, stripped; ValidationError for an unknown kind (`event_kind`) or an
    empty or over-long id (`event_id`)."""
    if kind not in EVENT_KINDS:
        raise ValidationError(
            _("Unknown event kind “%(kind)s”.") % {"kind": kind}, code="event_kind"
        )
    event_id = event_id.strip()
    if not event_id or len(event_id) > EVENT_ID_CHARS:
        raise ValidationError(_("The event id must be 1 to 100 characters."), code="event_id")
    return event_id


def event_receive(
    *,
    case_number: str,
    event_id: str,
    kind: str,
    data: dict[str, object],
    now: datetime | None = None,
) -> EventReceipt:
    """Store the shop's event `event_id` of `kind` about the case `case_number`, before it
    is acknowledged. Raises ValidationError for an unknown kind (`event_kind`), a bad event
    id (`event_id`), an unknown case (`case`), or an id already stored with another kind
    (`event_conflict`); a redelivery stores nothing and returns the stored event."""
    event_id = event_check(event_id=event_id, kind=kind)
    now = now or timezone.now()
    event_pk = event_insert(
        case_number=case_number,
        fields={
            "event_id": event_id,
            "kind": kind,
            "data": data,
            "received_at": now,
            "status": EventStatus.QUEUED,
            "code": "",
            "detail": "",
        },
    )
    if event_pk is None:
        earlier = (
            CaseEvent.objects.select_related("case", "step")
            .filter(case__number=case_number, event_id=event_id)
            .first()
        )
        if earlier is None:
            raise ValidationError(
                _("No after-sales case %(number)s.") % {"number": case_number}, code="case"
            )
        if earlier.kind != kind:
            raise ValidationError(
                _("Event %(id)s was already received as “%(kind)s”.")
                % {"id": event_id, "kind": earlier.kind},
                code="event_conflict",
            )
        return EventReceipt(event=earlier, stored=False)
    if settings.INBOUND_QUEUED:
        events_ring()
        # As stored: nothing more to read for the answer.
        event = CaseEvent(
            pk=event_pk,
            case=Case(number=case_number),
            event_id=event_id,
            kind=kind,
            data=data,
            received_at=now,
            status=EventStatus.QUEUED,
        )
        return EventReceipt(event=event, stored=True)
    events_drain(now=now)
    event = CaseEvent.objects.select_related("case", "step").get(pk=event_pk)
    return EventReceipt(event=event, stored=True)


@dataclass(frozen=True)
class EventResult:
    """The step an event made, and whether this delivery made it (False: a redelivery)."""

    case: Case
    step: CaseStep
    applied: bool


def case_apply_event(
    *,
    case_number: str,
    event_id: str,
    kind: str,
    data: dict[str, object],
    now: datetime | None = None,
) -> EventResult:
    """Receive an event and apply it at once, whatever the mode (the shop's events in the
    demo, scripts): the step it made, or ValidationError with the code it was refused or is
    waiting with (the event stays stored with that outcome)."""
    receipt = event_receive(
        case_number=case_number, event_id=event_id, kind=kind, data=data, now=now
    )
    event = receipt.event
    if event.status == EventStatus.QUEUED:
        events_drain(now=now)
        event.refresh_from_db()
    if event.status != EventStatus.APPLIED or event.step is None:
        raise ValidationError(event.detail or event.status, code=event.code or event.status)
    case = Case.objects.get(pk=event.case_id)
    return EventResult(case=case, step=event.step, applied=receipt.stored)


# --- The bell ----------------------------------------------------------------------------


def _bell_key() -> str:
    # The database's name keeps two installations (or test runs) on one Redis apart.
    return f"kefu:aftersales-events-bell:{connection.settings_dict['NAME']}"


@functools.cache
def _bell_redis() -> redis.Redis | None:
    """One client per process (a new client per call costs the web process more than the
    round trip)."""
    return redis.Redis.from_url(settings.REDIS_URL) if settings.REDIS_URL else None


def _bell_raise() -> bool:
    client = _bell_redis()
    if client is None:
        return bool(cache.add(_bell_key(), 1, timeout=BELL_SECONDS))
    return bool(client.set(_bell_key(), 1, nx=True, ex=BELL_SECONDS))


def _bell_lower() -> None:
    client = _bell_redis()
    if client is None:
        cache.delete(_bell_key())
    else:
        client.delete(_bell_key())


def events_ring() -> None:
    """After the caller's commit (at once in autocommit), wake a worker to apply the queued
    events: the first event stored after a drain started raises the bell (SET NX) and
    queues one `events_apply` task; events stored while it is up need nothing more. The
    drain lowers the bell before it looks, so an event is either seen by that look or rings
    again. A broker outage leaves the events to the sweep."""
    from aftersales.tasks import events_apply

    def ring() -> None:
        try:
            if _bell_raise() and not task_queue(events_apply):
                _bell_lower()
        except Exception:
            logger.exception("case events: could not wake a worker; the sweep will")

    transaction.on_commit(ring)


def events_wake_many(*, cases: Sequence[Case]) -> None:
    """Inside a step's transaction: queue again the events waiting for these cases to move
    (`history.steps_record`, for each round of steps). They are applied after the commit,
    or by the batch that is running. One statement, none for a batch none of whose cases
    had events waiting when it started."""
    scope = batch_scope.current()
    case_ids = {case.pk for case in cases}
    if scope is not None:
        case_ids &= scope.waiting  # the batch read which of its cases have events waiting
    if not case_ids:
        return
    woken = CaseEvent.objects.filter(case_id__in=case_ids, status=EventStatus.WAITING).update(
        status=EventStatus.QUEUED
    )
    if woken and settings.INBOUND_QUEUED:
        events_ring()
    elif woken:
        transaction.on_commit(events_drain)


# --- Applying ----------------------------------------------------------------------------

# What a lost database connection raises (as opposed to an event that cannot be applied).
DatabaseUnreachable = (OperationalError, InterfaceError)


def _claimable() -> QuerySet[CaseEvent]:
    """Queued events whose case has no earlier event still queued, in arrival order."""
    earlier = CaseEvent.objects.filter(
        case_id=OuterRef("case_id"), status=EventStatus.QUEUED, pk__lt=OuterRef("pk")
    )
    return (
        CaseEvent.objects.filter(status=EventStatus.QUEUED).exclude(Exists(earlier)).order_by("pk")
    )


class _Rooms:
    """The refund rooms of a batch's cases: their orders locked and the orders' other
    cases read once for the whole batch (two statements). A refund planned earlier in the
    batch counts against the next case of the same order, as the order lock makes it count
    between two transactions."""

    def __init__(self, cases: dict[int, Case], refunding: set[int]) -> None:
        self.cases = cases
        order_ids = {cases[case_id].order_id for case_id in refunding if case_id in cases}
        self.orders: dict[int, Order] = {}
        self.siblings: dict[int, list[Case]] = {order_id: [] for order_id in order_ids}
        if not order_ids:
            return
        self.orders = {
            order.pk: order
            for order in Order.objects.select_for_update().filter(pk__in=order_ids).order_by("pk")
        }
        for sibling in Case.objects.filter(order_id__in=order_ids).only(
            "order_id", "step", "amount_requested", "refunded_amount"
        ):
            # The batch's own cases as the batch holds them (their refunds so far).
            self.siblings[sibling.order_id].append(cases.get(sibling.pk, sibling))

    def room_of(self, case: Case) -> tuple[Order, Decimal]:
        order = self.orders[case.order_id]
        others = [other for other in self.siblings[case.order_id] if other.pk != case.pk]
        room = refund_room_among(order=order, value=progress.items_value_of(case), others=others)
        return order, room


def _plan(event: CaseEvent, *, case: Case, rooms: _Rooms, at: datetime) -> list[StepChange]:
    """Plan one claimed event against its locked case and set its outcome on the instance
    (written by the caller): the steps to record when it applies, none when it is refused
    or waits. Unexpected errors propagate."""
    event.decided_at = at
    try:
        changes = EVENT_KINDS[event.kind](case, event.data, rooms)
    except ValidationError as error:
        event.step = None
        event.code = error.code or "invalid"
        event.detail = " ".join(error.messages)
        event.status = EventStatus.REFUSED
        if error.code == "step_order" and flow_of(case.type).leads_to(
            case.step, EVENT_STEPS[event.kind]
        ):
            event.status, event.decided_at = EventStatus.WAITING, None
        return []
    event.status, event.code, event.detail = EventStatus.APPLIED, "", ""
    return changes


_OUTCOME = ["status", "step", "code", "detail", "decided_at"]


def _scope_of(claimed: list[CaseEvent]) -> AbstractContextManager[batch_scope.BatchScope]:
    """The batch's scope: its cases' items, which of them have events waiting, and their
    customers' identities, each read once for the whole batch (three statements)."""
    case_ids = {event.case_id for event in claimed}
    items: dict[int, list[CaseItem]] = {case_id: [] for case_id in case_ids}
    for item in (
        CaseItem.objects.filter(case_id__in=case_ids).select_related("order_item").order_by("pk")
    ):
        items[item.case_id].append(item)
    waiting = set(
        CaseEvent.objects.filter(case_id__in=case_ids, status=EventStatus.WAITING).values_list(
            "case_id", flat=True
        )
    )
    identities: dict[int, list[ContactIdentity]] = {}
    customers = Case.objects.filter(pk__in=case_ids, ticket__isnull=False).values(
        "ticket__customer_id"
    )
    for identity in ContactIdentity.objects.filter(customer_id__in=customers):
        identities.setdefault(identity.customer_id, []).append(identity)
    return batch_scope.batch_scope(items=items, waiting=waiting, identities=identities)


def _apply(claimed: list[CaseEvent], *, at: datetime) -> None:
    """Plan then write (in the caller's transaction): the claimed events' cases locked and
    read at once, each event planned in Python against its case with the step services'
    own rules, then every step of the applied ones recorded together
    (`history.steps_record`) and the outcomes written. A refused or waiting event writes
    nothing but its outcome, so no event needs a savepoint."""
    with _scope_of(claimed):
        cases = locked_cases(sorted({event.case_id for event in claimed}))
        rooms = _Rooms(cases, {event.case_id for event in claimed if event.kind in REFUND_KINDS})
        entries: list[StepEntry] = []
        last: dict[int, int] = {}  # event pk -> index of its last entry
        for event in claimed:
            changes = _plan(event, case=cases[event.case_id], rooms=rooms, at=at)
            for change in changes:
                entries.append(
                    StepEntry(case=cases[event.case_id], change=change, actor=None, at=at)
                )
            if changes:
                last[event.pk] = len(entries) - 1
                # Where the plan takes the case, for what the batch plans next (another
                # case of its order weighs its refund room by it); the writer moves it.
                cases[event.case_id].step = changes[-1].step
        rows = steps_record(entries) if entries else []
        for event in claimed:
            if event.pk in last:
                event.step = rows[last[event.pk]]
    _outcomes_write(claimed)


def events_apply(*, limit: int = BATCH, now: datetime | None = None) -> int:
    """Claim up to `limit` queued events and apply them in one transaction; returns how
    many were decided (applied, refused or set waiting). Anything unexpected rolls the
    whole batch back: nothing of it is applied, and it stays queued. The steps are taken
    at `now` (default: the present)."""
    with transaction.atomic():
        claimed = list(_claimable().select_for_update(skip_locked=True, of=("self",))[:limit])
        if not claimed:
            return 0
        _apply(claimed, at=now or timezone.now())
    return len(claimed)


def _outcomes_write(decided: list[CaseEvent]) -> None:
    """Write the batch's outcomes (status, step, code, detail, decision time), each event
    its own, in one statement."""
    rows_update(CaseEvent, decided, _OUTCOME)


def _apply_singly(*, limit: int, now: datetime | None) -> int:
    """After a batch failed: apply up to `limit` events one transaction each, so only the
    event at fault fails; it is set aside as `failed`."""
    done = 0
    for _attempt in range(limit):
        claimed: CaseEvent | None = None
        try:
            with transaction.atomic():
                claimed = _claimable().select_for_update(skip_locked=True, of=("self",)).first()
                if claimed is None:
                    return done
                _apply([claimed], at=now or timezone.now())
        except DatabaseUnreachable:
            raise
        except Exception as error:
            if claimed is not None:
                logger.exception("case event %s failed; set aside", claimed.pk)
                CaseEvent.objects.filter(pk=claimed.pk, status=EventStatus.QUEUED).update(
                    status=EventStatus.FAILED,
                    code="error",
                    detail=f"{type(error).__name__}: {error}"[:500],
                    decided_at=timezone.now(),
                )
        done += 1
    return done


def events_drain(*, batch: int = BATCH, now: datetime | None = None, linger: float = 0) -> int:
    """Apply every queued event, batch after batch; returns how many were decided. `now`:
    as in `events_apply`. `linger` (the worker's task): seconds to wait after a batch that
    was not full, for the burst to fill the next one: a batch costs a few dozen statements
    whatever its size, so one event at a time, as a shop's burst arrives, costs a worker
    several times what a batch of twenty does (ADR 0007)."""
    _bell_lower()  # first: an event stored from now on rings again
    decided = 0
    full = True
    while True:
        if not full and linger:
            time.sleep(linger)
        try:
            count = events_apply(limit=batch, now=now)
        except DatabaseUnreachable as error:
            logger.error("case events: database unreachable, drain stopped: %s", error)
            return decided
        except Exception:
            logger.exception("case events: a batch failed; applying one at a time")
            count = _apply_singly(limit=batch, now=now)
        if not count:
            return decided
        decided += count
        full = count >= batch


def events_sweep() -> int:
    """Celery beat: apply what is still queued (its ring was lost, its worker died)."""
    if not CaseEvent.objects.filter(status=EventStatus.QUEUED).exists():
        return 0
    return events_drain()
