"""Notices: Kefu tells the customer, unasked, of every step of their after-sales case and of
the ticket changes they should know of, on the channel they prefer, in their language.

A notice is an outbound automatic message on the ticket (`Message.notice` names its event),
queued in the transaction of the change it announces: the outbox (tickets.services.outbox,
tickets.services.delivery) sends it after the commit, retries it, and shows its delivery
status on the timeline, where an agent can send a failed one again. It never counts as a
response for the SLA (only an agent's reply does).

`notice_send` is the one way in, for this app's receiver of the core's trail
(`ticket_event_recorded`, below) and for other parts of after-sales (a parcel's delay).
"""

import logging
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aftersales.models import Case, CaseStep, OpenedBy
from aftersales.notice_models import (
    NOTICE_CHANNELS,
    Notice,
    NoticeEvent,
    NoticeLanguage,
    NoticeTemplate,
)
from aftersales.services import batch_scope
from aftersales.services.history import step_being_recorded
from aftersales.steps import Step, expected_minutes
from kefu.revisions import RevisionCache
from tickets import events
from tickets.delivery import backend_accepts, backends_asked
from tickets.models import (
    Channel,
    ContactIdentity,
    Customer,
    DeliveryStatus,
    Direction,
    EventKind,
    Message,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.raw_sql import rows_insert
from tickets.services.audit import audit_record
from tickets.services.delivery import (
    customer_address,
    deliver_later_many,
    new_message_id,
)
from tickets.services.quiet_hours import quiet_hours_end
from tickets.services.trail import TrailEntry, event_record, events_record, ticket_publish
from tickets.tiers import Tier

if TYPE_CHECKING:
    from aftersales.notice_forms import NoticeTemplateForm

logger = logging.getLogger("kefu.aftersales.notices")

# What a template may say, with what the preview shows for each.
PLACEHOLDERS: dict[str, str] = {
    "order_number": "SO2026000123",
    "item": "马克杯 × 1",
    "step": "退货已签收",
    "expected": "1 个工作日",
    "link": "https://kefu.example/status/",
    "case_number": "AS202611200001",
    "ticket_number": "T-000123",
    "reason": "商品已超过售后期",
    "return_address": "上海市浦东新区某路 1 号 售后仓 收",
    "amount": "¥50.00",
    "tracking": "SF 1234567890",
}
DEFAULT_LANGUAGE = NoticeLanguage.ZH_HANS
# Channels tried, in this order, when neither the customer's choice nor the ticket's own
# channel can carry the notice.
FALLBACK_CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.APP)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_BUSINESS_DAY_MINUTES = 480


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


# --- Templates -------------------------------------------------------------------------


def placeholders_unknown(text: str) -> list[str]:
    """The `{names}` in `text` a notice cannot fill in (sorted, each once)."""
    return sorted({name for name in _PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})


def render_text(text: str, values: Mapping[str, object]) -> str:
    """Fill in the known `{placeholders}` of a supervisor's text. Nothing in the text is
    evaluated (no attribute or index lookups, no format specs): an unknown `{name}` stays as
    written, a known one without a value is left empty."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return match.group(0)
        return str(values.get(name, "") or "")

    return _PLACEHOLDER.sub(fill, text)


# Every notice template, by (event, channel, language), in each process: a handful of rows
# read on every notice. Saving or deleting one moves the revision (aftersales/apps.py).
TEMPLATES_REVISION = "notice_templates"


def _templates_read() -> dict[tuple[str, str, str], NoticeTemplate]:
    return {(t.event, t.channel, t.language): t for t in NoticeTemplate.objects.all()}


_templates: RevisionCache[dict[tuple[str, str, str], NoticeTemplate]] = RevisionCache(
    (TEMPLATES_REVISION,), _templates_read
)


def template_for(*, event: str, channel: str, language: str) -> NoticeTemplate | None:
    """The text for an event on a channel in a language: the channel's own, else the one for
    any channel; in the language, else in the default language."""
    found = _templates.get()
    event = str(event)
    for key in (
        (event, channel, language),
        (event, "", language),
        (event, channel, DEFAULT_LANGUAGE),
        (event, "", DEFAULT_LANGUAGE),
    ):
        if key in found:
            return found[key]
    return None


def render(template: NoticeTemplate, values: Mapping[str, object]) -> Rendered:
    return Rendered(
        subject=render_text(template.subject, values).strip()[:255],
        body=render_text(template.body, values).strip(),
    )


def preview(*, subject: str, body: str) -> Rendered:
    """A text as a customer would read it, filled in with sample values."""
    return Rendered(
        subject=render_text(subject, PLACEHOLDERS), body=render_text(body, PLACEHOLDERS)
    )


# --- Who, how, when ----------------------------------------------------------------------


def customer_language(customer: Customer) -> str:
    language = (customer.language or "").lower()
    return NoticeLanguage.EN if language.startswith("en") else DEFAULT_LANGUAGE


def channel_choose(*, customer: Customer, ticket: Ticket) -> tuple[str, str] | None:
    """The channel and address a notice goes to: the customer's preferred channel when it
    reaches them, else the ticket's own channel when it can carry a message, else the first of
    SMS, email and app that reaches them. A channel reaches them when they have an address on
    it and its backend accepts that address (an SMS number that opted out does not)."""
    candidates = [customer.preferred_channel, ticket.channel, *FALLBACK_CHANNELS]
    scope = batch_scope.current()
    # Read once for a whole batch of the shop's events; a customer without any is read here.
    known = scope.identities.get(customer.pk) if scope is not None else None
    tried: set[str] = set()
    for channel in candidates:
        if not channel or channel in tried or channel not in NOTICE_CHANNELS:
            continue
        tried.add(channel)
        address = customer_address(customer, channel, identities=known)
        if address and backend_accepts(channel, address):
            return channel, address
    return None


def held_until(*, channel: str, urgent: bool, now: datetime) -> datetime | None:
    """When a notice created at `now` may go out, if it must wait: a non-urgent SMS is not
    sent in the quiet hours (tickets.services.quiet_hours) and waits for their end."""
    if channel != Channel.SMS or urgent:
        return None
    return quiet_hours_end(now)


# --- Sending ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeDraft:
    """A notice decided and rendered, not written yet (`notices_write`)."""

    ticket: Ticket
    event: NoticeEvent
    key: str
    channel: str
    language: str
    text: Rendered
    label: str
    hold: datetime | None
    now: datetime


def notice_send(
    *,
    ticket: Ticket,
    event: str,
    context: Mapping[str, object],
    urgent: bool = False,
    key: str | None = None,
    now: datetime | None = None,
) -> Message | None:
    """Queue a notice of `event` (a `NoticeEvent`) to the ticket's customer, with
    `context` filling in the template's placeholders (the ticket number and the status
    page's link are added). Runs in the caller's transaction: the notice commits with the
    change it announces. `key` names the event announced; a key already announced on the
    ticket gives no second notice (None is returned). None too when the customer's data was
    erased, or no channel reaches them (that is on the ticket's trail, for an agent to see).

    A non-urgent SMS in the quiet hours waits until they end; `urgent` (or an urgent ticket)
    sends it at once. `now` is when the change happened (default: the present).

    While `notices_gathered` is open (a batch of steps), the notice is written with the
    others when it closes, and None is returned."""
    event = NoticeEvent(event)
    now = now or timezone.now()
    key = key or f"{event}:{now.isoformat()}"
    gathering = _gathered.get()
    if gathering is None and Notice.objects.filter(ticket=ticket, key=key).exists():
        return None
    draft = _notice_draft(
        ticket=ticket, event=event, context=context, urgent=urgent, key=key, now=now
    )
    if draft is None:
        return None
    if gathering is not None:
        gathering.append(draft)
        return None
    written = notices_write([draft], checked=True)
    return written[0] if written else None


def _notice_draft(
    *,
    ticket: Ticket,
    event: NoticeEvent,
    context: Mapping[str, object],
    urgent: bool,
    key: str,
    now: datetime,
) -> NoticeDraft | None:
    """What `notice_send` decides before it writes: the channel, the language, the text and
    when it may go; None (logged, or on the trail) when there is nothing to send."""
    customer = ticket.customer
    if customer.erased_at is not None:
        return None
    language = customer_language(customer)
    chosen = channel_choose(customer=customer, ticket=ticket)
    if chosen is None:
        event_record(
            ticket=ticket,
            kind=EventKind.NOTICE,
            actor=None,
            data={"event": str(event), "to": _("not sent: no way to reach the customer")},
        )
        return None
    channel, _address = chosen
    template = template_for(event=event, channel=channel, language=language)
    if template is None:
        logger.warning("no notice template for %s (%s, %s)", event, channel, language)
        return None
    values = {
        "ticket_number": ticket.number,
        "link": status_link(),
        **{name: value for name, value in context.items() if value is not None},
    }
    with translation.override(language):
        text = render(template, values)
        label = str(NoticeEvent(event).label)
    hold = held_until(channel=channel, urgent=urgent or ticket.tier == Tier.URGENT, now=now)
    return NoticeDraft(
        ticket=ticket,
        event=event,
        key=key[:100],
        channel=channel,
        language=language,
        text=text,
        label=label,
        hold=hold,
        now=now,
    )


# The notices of a batch of steps, written together when it closes (`notices_gathered`).
_gathered: ContextVar[list[NoticeDraft] | None] = ContextVar("aftersales_notices", default=None)


@contextmanager
def notices_gathered() -> Iterator[None]:
    """Around the trail entries of a batch of steps (`history.steps_record`): the notices
    they give are decided one by one and written together as the block ends, in a few
    statements. A notice that cannot be decided is left out (`on_ticket_event`)."""
    if _gathered.get() is not None:
        yield  # an outer block writes them
        return
    drafts: list[NoticeDraft] = []
    token = _gathered.set(drafts)
    try:
        yield
    finally:
        _gathered.reset(token)
    if not drafts:
        return
    # A notice that cannot be written is left out, not the steps it announces: the batch's
    # notices in one savepoint, and if that fails, each in its own.
    try:
        with transaction.atomic():
            notices_write(drafts, savepoint=False)
    except Exception:
        logger.exception("%d notices failed together; writing them one by one", len(drafts))
        for draft in drafts:
            try:
                notices_write([draft])
            except Exception:
                logger.exception("notice %s of ticket %s failed", draft.key, draft.ticket.pk)


def notices_write(
    drafts: Sequence[NoticeDraft], *, checked: bool = False, savepoint: bool = True
) -> list[Message]:
    """Write the drafts' messages and notices, their trail entries, and queue the messages
    after the commit; a key already announced on its ticket (or twice among the drafts) is
    left out, unless the caller `checked` that already. In a `savepoint` (unless the caller
    holds one), a single notice written meanwhile by another transaction is left out;
    otherwise the IntegrityError is the caller's."""
    if not checked:
        announced = set(
            Notice.objects.filter(
                ticket_id__in_ids={draft.ticket.pk for draft in drafts},
                key__in={draft.key for draft in drafts},
            ).values_list("ticket_id", "key")
        )
    else:
        announced = set()
    fresh: list[NoticeDraft] = []
    for draft in drafts:
        if (draft.ticket.pk, draft.key) not in announced:
            announced.add((draft.ticket.pk, draft.key))
            fresh.append(draft)
    if not fresh:
        return []
    try:
        with transaction.atomic(savepoint=savepoint):
            messages = rows_insert(
                Message,
                [
                    Message(
                        ticket=draft.ticket,
                        direction=Direction.OUT,
                        channel=draft.channel,
                        body=draft.text.body,
                        subject=draft.text.subject if draft.channel == Channel.EMAIL else "",
                        delivery_status=DeliveryStatus.QUEUED,
                        created_at=draft.now,
                        email_message_id=new_message_id(),
                        is_automatic=True,
                        notice=str(draft.event),
                        delivery_due_at=draft.hold or draft.now,
                    )
                    for draft in fresh
                ],
            )
            rows_insert(
                Notice,
                [
                    Notice(
                        ticket=draft.ticket,
                        key=draft.key,
                        event=draft.event,
                        message=message,
                        channel=draft.channel,
                        language=draft.language,
                        held_until=draft.hold,
                        created_at=draft.now,
                    )
                    for draft, message in zip(fresh, messages, strict=True)
                ],
            )
    except IntegrityError:
        if len(fresh) > 1 or not savepoint:
            raise
        return []  # announced meanwhile by another transaction
    entries = []
    for draft, message in zip(fresh, messages, strict=True):
        trail: dict[str, object] = {
            "message": message.pk,
            "event": str(draft.event),
            "channel": draft.channel,
            "language": draft.language,
            "to": f"{draft.label} · {Channel(draft.channel).label}",
        }
        if draft.hold is not None:
            trail["held_until"] = draft.hold.isoformat()
        entries.append(
            TrailEntry(ticket=draft.ticket, kind=EventKind.NOTICE, actor=None, data=trail)
        )
    events_record(entries)
    due = [message.pk for draft, message in zip(fresh, messages, strict=True) if draft.hold is None]
    if due:
        transaction.on_commit(lambda: deliver_later_many(due))
    for draft, message in zip(fresh, messages, strict=True):
        ticket_publish(draft.ticket, events.message_added(draft.ticket, message), board=False)
    return list(messages)


def status_link() -> str:
    """The customer's status page, as an absolute link when KEFU_PUBLIC_URL is set."""
    return settings.KEFU_PUBLIC_URL.rstrip("/") + "/status/"


# --- What the trail tells -----------------------------------------------------------------


def on_ticket_event(sender: Any, event: TicketEvent, **kwargs: Any) -> None:
    """Receiver of `tickets.signals.ticket_event_recorded`, inside the change's transaction:
    a case's step, a ticket waiting for the customer or resolved, and an agent's answer on
    the self-service page each give the customer a notice; what the customer did
    themself gives none.

    A notice that cannot be written (a fault of its own) is logged and left out, in a
    savepoint: the change it would have announced goes ahead."""
    if event.kind not in (EventKind.AFTERSALES, EventKind.STATUS, EventKind.REPLIED):
        return
    if kwargs.get("batch") and event.kind == EventKind.STATUS:
        return  # announced with the rest of its batch (`on_ticket_events`)
    try:
        if _gathered.get() is not None:
            _event_notice(event)  # decided only: `notices_gathered` writes it, in a savepoint
        else:
            with transaction.atomic():
                _event_notice(event)
    except Exception:
        logger.exception("notice for trail entry %s of ticket %s failed", event.pk, event.ticket_id)


def on_ticket_events(sender: Any, events: Sequence[TicketEvent], **kwargs: Any) -> None:
    """Receiver of `tickets.signals.ticket_events_recorded`: the status notices of a batch
    of status changes (the queue's bulk status action), decided one by one with the
    customers' addresses read once, and written together (`notices_gathered`). A notice
    that cannot be decided is logged and left out; the changes go ahead."""
    changes = [
        event
        for event in events
        if event.kind == EventKind.STATUS and event.data.get("to") in _STATUS_NOTICES
    ]
    if not changes:
        return
    try:
        by_bot = _bots_resolved(
            [
                e.ticket
                for e in changes
                if e.actor_id is None and e.data.get("to") == Status.RESOLVED
            ]
        )
        customers = {event.ticket.customer_id: event.ticket.customer for event in changes}
        identities: dict[int, list[ContactIdentity]] = {pk: [] for pk in customers}
        for identity in ContactIdentity.objects.filter(customer_id__in_ids=list(customers)):
            identities[identity.customer_id].append(identity)
        # Every address a notice might go to, asked of the backends at once (opt-outs).
        addresses: dict[str, list[str]] = {
            channel: [
                address
                for pk, customer in customers.items()
                if (address := customer_address(customer, channel, identities=identities[pk]))
            ]
            for channel in NOTICE_CHANNELS
        }
    except Exception:
        logger.exception("status notices of a batch of %d changes failed", len(changes))
        return
    with (
        batch_scope.batch_scope(items={}, waiting=set(), identities=identities),
        backends_asked(addresses),
        notices_gathered(),
    ):
        for event in changes:
            try:
                _status_notice(event, by_bot=event.ticket_id in by_bot)
            except Exception:
                logger.exception(
                    "notice for trail entry %s of ticket %s failed", event.pk, event.ticket_id
                )


# The statuses a customer is told of.
_STATUS_NOTICES = (Status.PENDING_CUSTOMER, Status.RESOLVED)


def _bots_resolved(tickets: Sequence[Ticket]) -> set[int]:
    """`_bot_resolved` for many tickets in one statement: the ids of those whose last answer
    was the bot's."""
    if not tickets:
        return set()
    last = (
        Message.objects.filter(ticket=OuterRef("pk"), direction=Direction.OUT)
        .order_by("-created_at", "-pk")
        .values("is_bot")[:1]
    )
    return set(
        Ticket.objects.filter(pk__in_ids=[ticket.pk for ticket in tickets])
        .annotate(last_is_bot=Subquery(last))
        .filter(last_is_bot=True)
        .values_list("pk", flat=True)
    )


def _event_notice(event: TicketEvent) -> None:
    if event.kind == EventKind.AFTERSALES:
        _case_step_notice(event)
    elif event.kind == EventKind.STATUS:
        _status_notice(event)
    elif event.kind == EventKind.REPLIED and event.ticket.channel == Channel.WEB:
        notice_send(
            ticket=event.ticket,
            event=NoticeEvent.TICKET_REPLIED,
            context={},
            key=f"event:{event.pk}",
        )


def _status_notice(event: TicketEvent, *, by_bot: bool | None = None) -> None:
    """`by_bot`: whether the bot gave the ticket's last answer, when the caller has read it."""
    status = event.data.get("to")
    if status == Status.PENDING_CUSTOMER:
        notice_event = NoticeEvent.TICKET_PENDING_CUSTOMER
    elif status == Status.RESOLVED:
        if event.actor_id is None and (_bot_resolved(event.ticket) if by_bot is None else by_bot):
            return  # the customer told the answer bot it helped: they know
        notice_event = NoticeEvent.TICKET_RESOLVED
    else:
        return
    notice_send(ticket=event.ticket, event=notice_event, context={}, key=f"event:{event.pk}")


def _bot_resolved(ticket: Ticket) -> bool:
    last = ticket.messages.filter(direction=Direction.OUT).order_by("-created_at", "-pk").first()
    return last is not None and last.is_bot


def _case_step_notice(event: TicketEvent) -> None:
    number, step = event.data.get("case"), event.data.get("step")
    if not isinstance(number, str) or step not in Step.values:
        return
    recording = step_being_recorded(number, step)
    if recording is not None:
        case, row = recording  # the step this entry is about: nothing to read again
    else:
        found = Case.objects.select_related("order").filter(number=number).first()
        if found is None:
            return
        case = found
        latest = case.steps.filter(step=step).order_by("-at", "-pk").first()
        if latest is None:
            return
        row = latest
    if _by_customer(case, row):
        return
    with translation.override(customer_language(event.ticket.customer)):
        context = case_context(case, row)
    notice_send(
        ticket=event.ticket,
        event=NoticeEvent.for_step(step),
        context=context,
        key=f"case:{case.number}:{row.pk}",
    )


def _by_customer(case: Case, row: CaseStep) -> bool:
    """A step the customer took themself: opening a case from the self-service page, or a
    step recorded with `data["by"] == "customer"`."""
    if row.data.get("by") == "customer":
        return True
    return row.step == Step.SUBMITTED and case.opened_by == OpenedBy.CUSTOMER


def case_context(case: Case, row: CaseStep) -> dict[str, str]:
    """The placeholders of a case's step notice, in the active language."""
    scope = batch_scope.current()
    if scope is not None and case.pk in scope.items:
        claimed = scope.items[case.pk]
    else:
        claimed = list(case.items.select_related("order_item").order_by("pk"))
    items = "、".join(f"{item.order_item.name} × {item.quantity}" for item in claimed)
    data = row.data
    reason = ""
    if row.step == Step.REJECTED:
        reason = str(data.get("reason") or row.note)
    elif row.step == Step.INSPECTION_FAILED:
        reason = row.note
    amount = ""
    if data.get("amount") and row.step == Step.REFUNDED:
        amount = money(Decimal(str(data["amount"])), str(data.get("currency") or "CNY"))
    tracking = " ".join(
        str(data[part]) for part in ("carrier", "tracking_number") if data.get(part)
    )
    return {
        "order_number": case.order.number,
        "case_number": case.number,
        "item": items,
        "step": str(Step(row.step).label),
        "expected": expected_text(expected_minutes(case.type, row.step)),
        "reason": reason,
        "return_address": str(data.get("return_address") or ""),
        "amount": amount,
        "tracking": tracking,
    }


def money(amount: Decimal, currency: str) -> str:
    return f"¥{amount:.2f}" if currency == "CNY" else f"{amount:.2f} {currency}"


def expected_text(minutes: int | None) -> str:
    """Business minutes as the customer reads them: business days from a day on, else
    working hours."""
    if not minutes:
        return ""
    if minutes >= _BUSINESS_DAY_MINUTES:
        days = math.ceil(minutes / _BUSINESS_DAY_MINUTES)
        return ngettext("%(count)d business day", "%(count)d business days", days) % {"count": days}
    hours = math.ceil(minutes / 60)
    return ngettext("%(count)d working hour", "%(count)d working hours", hours) % {"count": hours}


# --- Supervisors' edits -------------------------------------------------------------------


def notice_template_save(*, form: "NoticeTemplateForm", actor: User) -> NoticeTemplate:
    """Save a supervisor's text (a valid form) and write what changed to the audit log."""
    with transaction.atomic():
        is_new = form.instance.pk is None
        template: NoticeTemplate = form.save(commit=False)
        template.updated_by = actor
        template.save()
        audit_record(
            actor=actor,
            action="notice_template_created" if is_new else "notice_template_changed",
            object_type="notice_template",
            object_id=str(template.pk),
            data={
                "event": template.event,
                "channel": template.channel,
                "language": template.language,
                "fields": sorted(form.changed_data),
                # The texts as they were (templates hold no personal data).
                "previous": {
                    name: form.initial.get(name, "")
                    for name in ("subject", "body")
                    if not is_new and name in form.changed_data
                },
            },
        )
    return template


def trail_label(data: dict[str, object]) -> str:
    """A notice's trail entry as the timeline shows it after "→": what it announced and on
    which channel, in the active language (the stored `to` is in the customer's); "" for a
    notice after-sales did not send."""
    try:
        return f"{NoticeEvent(str(data['event'])).label} · {Channel(str(data['channel'])).label}"
    except (KeyError, ValueError):
        return ""
