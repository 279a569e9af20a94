"""Satisfaction surveys: who is asked, when, on which channel, and what their answer does.

- **Scheduling** (`survey_schedule`, from the core's trail in `on_ticket_event`): a ticket
  resolved by a person, or an after-sales case completed, gets a CSAT survey on the channel
  the customer used; a ticket about an order may instead be sampled for NPS, asked some days
  later; `nps_quarter_sample` asks a sample of recent customers each quarter. None for a
  ticket tagged spam, merged into another or closed by Kefu itself, none for an erased
  customer, none on a channel switched off, and at most one per customer in the fatigue
  window. The row is written in the transaction of the change (unique on its key).
- **Inviting** (`survey_invite`, `surveys_due_send`): when the delay has passed, the survey is
  claimed with a compare-and-set and its invitation is queued on the core's outbox (an
  outbound automatic message, `Message.notice` "survey:<kind>") in one transaction; the
  outbox sends it, retries it and shows its status. An SMS due in the quiet hours waits for
  the morning; a ticket open again by then, or a customer asked meanwhile, gets none.
- **Answering** (`survey_answer`): once, with a compare-and-set on `answered_at`: by the
  signed link (email, app), by a star in the chat widget, or by an SMS digit reply, which
  the core's intake hands over through `sms_reply_intercept` (tickets.hooks) without
  reopening the ticket or opening a new one. A CSAT of 1–2, an angry comment or an NPS
  detractor creates a call-back (feedback.services.callbacks).
"""

import functools
import hashlib
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Exists, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from feedback.models import (
    SCALE,
    CallbackReason,
    Survey,
    SurveyKind,
    SurveySettings,
    SurveyTrigger,
)
from feedback.signals import survey_answered, surveys_answered
from kb.triage import triage_text
from tickets import events, hooks
from tickets.delivery import backend_accepts, backends_asked
from tickets.inbound import InboundMessage
from tickets.models import (
    OPEN_STATUSES,
    Channel,
    ContactIdentity,
    Customer,
    DeliveryStatus,
    Direction,
    EventKind,
    IdentityKind,
    Message,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.raw_sql import rows_insert, rows_update
from tickets.services.audit import audit_record
from tickets.services.delivery import customer_address, deliver_later_many, new_message_id
from tickets.services.quiet_hours import quiet_hours_end
from tickets.services.trail import TrailEntry, events_record, ticket_publish

logger = logging.getLogger("kefu.feedback.surveys")

# The tag the core gives spam (tickets.services.actions.SPAM_TAG).
SPAM_TAG = "spam"
# The after-sales step that completes a case (aftersales.steps.Step.COMPLETED), as the trail
# entry names it.
CASE_COMPLETED = "completed"
# How long a claimed invitation is held before another worker may try it again.
INVITE_LEASE = timedelta(minutes=2)
SWEEP_BATCH = 500
SIGNING_SALT = "feedback.survey"
# What each ticket channel is surveyed on: a call by SMS, a self-service ticket by email.
SURVEY_CHANNEL_FOR = {
    Channel.CHAT: Channel.CHAT,
    Channel.SMS: Channel.SMS,
    Channel.EMAIL: Channel.EMAIL,
    Channel.APP: Channel.APP,
    Channel.PHONE: Channel.SMS,
    Channel.WEB: Channel.EMAIL,
}
# A digit reply: "3", "３", " 5 ", "10" (NPS); nothing else.
_DIGITS = re.compile(r"\s*(\d{1,2})\s*[。.!！]?\s*")
MAX_COMMENT_CHARS = 2000
MAX_TAGS = 10


class SurveyRefused(Exception):
    """An answer that cannot be taken; `code` says why (forged, used, expired, score)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- Settings ----------------------------------------------------------------------------


def survey_settings() -> SurveySettings:
    found = SurveySettings.objects.filter(pk=1).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return SurveySettings.objects.create(pk=1)
    except IntegrityError:
        return SurveySettings.objects.get(pk=1)


SETTINGS_FIELDS = (
    "delay_minutes",
    "channels",
    "fatigue_days",
    "expiry_days",
    "tags",
    "nps_is_active",
    "nps_order_days",
    "nps_order_percent",
    "nps_quarter_sample",
    "callback_due_minutes",
    "angry_sentiment",
)


def survey_settings_update(*, actor: User | None, values: dict[str, Any]) -> SurveySettings:
    """Save a supervisor's settings (already validated) and audit what changed."""
    with transaction.atomic():
        survey_settings()  # the row exists
        current = SurveySettings.objects.select_for_update().get(pk=1)
        changed = {
            name: values[name]
            for name in SETTINGS_FIELDS
            if name in values and getattr(current, name) != values[name]
        }
        for name, value in changed.items():
            setattr(current, name, value)
        if changed:
            current.save(update_fields=list(changed))
            audit_record(
                actor=actor,
                action="survey_settings_changed",
                object_type="survey_settings",
                object_id="1",
                data={"fields": sorted(changed)},
            )
    return current


# --- Tokens ------------------------------------------------------------------------------


def survey_token(survey: Survey) -> str:
    """The signed token of the survey's link. It carries no expiry of its own: the survey's
    `expires_at` decides, and an answer uses it up."""
    return signing.Signer(salt=SIGNING_SALT).sign(f"{survey.pk}.{survey.nonce}")


def survey_link(survey: Survey) -> str:
    base = settings.KEFU_PUBLIC_URL.rstrip("/")
    return f"{base}/feedback/s/{survey_token(survey)}/"


def survey_from_token(token: str, *, now: datetime | None = None) -> Survey:
    """The survey a link names, if it may still be answered; else SurveyRefused with code
    `forged` (not our signature, or no such survey), `used` (answered) or `expired`."""
    now = now or timezone.now()
    try:
        value = signing.Signer(salt=SIGNING_SALT).unsign(token[:200])
    except signing.BadSignature:
        raise SurveyRefused("forged", _("This link is not valid.")) from None
    pk, _dot, nonce = value.partition(".")
    survey = (
        Survey.objects.select_related("ticket", "customer").filter(pk=int(pk)).first()
        if pk.isdigit()
        else None
    )
    if survey is None or not secrets.compare_digest(survey.nonce, nonce):
        raise SurveyRefused("forged", _("This link is not valid."))
    if survey.answered_at is not None:
        raise SurveyRefused("used", _("This survey has been answered already. Thank you!"))
    if survey.expires_at is None or survey.expires_at <= now or survey.skipped_reason:
        raise SurveyRefused("expired", _("This survey has closed."))
    return survey


# --- Scheduling --------------------------------------------------------------------------


def _asked_recently(customer_id: int, *, since: datetime, exclude: int | None = None) -> bool:
    """Whether the customer has a survey, sent or on its way, created since `since`."""
    surveys = Survey.objects.filter(
        customer_id=customer_id, created_at__gte=since, skipped_reason=""
    )
    if exclude is not None:
        surveys = surveys.exclude(pk=exclude)
    return surveys.exists()


def _ticket_agents(ticket: Ticket) -> list[int]:
    return list(
        Message.objects.filter(
            ticket=ticket,
            direction=Direction.OUT,
            author__isnull=False,
            is_bot=False,
            is_automatic=False,
        )
        # Without the messages' default ordering, which would make each reply distinct.
        .order_by()
        .values_list("author_id", flat=True)
        .distinct()
    )


def survey_skip_reason(ticket: Ticket) -> str:
    """Why the ticket gets no survey at all ("" when it may get one)."""
    if ticket.merged_into_id is not None:
        return "merged"
    if SPAM_TAG in (ticket.tags or []):
        return "spam"
    if ticket.customer.erased_at is not None:
        return "erased"
    return ""


def survey_schedule(
    *,
    ticket: Ticket,
    kind: str,
    trigger: str,
    key: str,
    now: datetime,
    due_at: datetime | None = None,
    case_number: str = "",
    config: SurveySettings | None = None,
) -> Survey | None:
    """Owe the ticket's customer a survey of `kind`, invited at `due_at` (default: after the
    settings' delay). Runs in the caller's transaction. None when the rules say no survey
    (see the module's docstring) or when `key` was scheduled already. `config`: the
    settings, when the caller has read them."""
    config = config or survey_settings()
    channel = SURVEY_CHANNEL_FOR.get(Channel(ticket.channel))
    if channel is None or channel not in config.channels:
        return None
    if survey_skip_reason(ticket):
        return None
    # Two resolutions of one customer at the same moment must not both pass the fatigue
    # rule: the customer's row is the lock.
    Customer.objects.select_for_update().filter(pk=ticket.customer_id).first()
    if config.fatigue_days and _asked_recently(
        ticket.customer_id, since=now - timedelta(days=config.fatigue_days)
    ):
        return None
    if due_at is None:
        due_at = now + timedelta(minutes=config.delay_minutes)
    try:
        with transaction.atomic():
            survey = Survey.objects.create(
                kind=kind,
                trigger=trigger,
                key=key[:120],
                ticket=ticket,
                customer_id=ticket.customer_id,
                channel=channel,
                team_id=ticket.team_id,
                category=ticket.category,
                case_number=case_number,
                created_at=now,
                due_at=due_at,
                nonce=secrets.token_hex(8),
            )
    except IntegrityError:
        return None  # scheduled already (a second event about the same thing)
    agents = _ticket_agents(ticket)
    if agents:
        # The survey is new: its agents are inserted without reading what it has.
        Survey.agents.through.objects.bulk_create(
            [Survey.agents.through(survey_id=survey.pk, agent_id=agent) for agent in agents]
        )
    if due_at <= now:
        survey_pk = survey.pk
        transaction.on_commit(lambda: survey_invite_later(survey_pk))
    return survey


def survey_invite_later(survey_id: int) -> None:
    from feedback.tasks import survey_invite_task
    from kefu.celery import task_queue

    task_queue(survey_invite_task, survey_id)


def surveys_invite_later(survey_ids: list[int]) -> None:
    """One task for a batch's due surveys (`surveys_invite`); the sweep invites any whose
    task was lost."""
    from feedback.tasks import surveys_invite_task
    from kefu.celery import task_queue

    if len(survey_ids) == 1:
        survey_invite_later(survey_ids[0])
    elif survey_ids:
        task_queue(surveys_invite_task, survey_ids)


def _nps_sampled(ticket: Ticket, percent: int) -> bool:
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"nps:{ticket.pk}".encode()).digest()
    return int.from_bytes(digest[:2], "big") % 100 < percent


def survey_on_resolution(*, ticket: Ticket, now: datetime) -> Survey | None:
    """A ticket resolved by a person: CSAT soon, or, for a ticket about an order in the NPS
    sample, the NPS question some days later (one survey either way: the fatigue rule)."""
    config = survey_settings()
    if (
        config.nps_is_active
        and _nps_sampled(ticket, config.nps_order_percent)
        and hooks.ticket_order_number(ticket)
    ):
        return survey_schedule(
            ticket=ticket,
            kind=SurveyKind.NPS,
            trigger=SurveyTrigger.ORDER,
            key=f"nps:ticket:{ticket.pk}",
            now=now,
            due_at=now + timedelta(days=config.nps_order_days),
            config=config,
        )
    return survey_schedule(
        ticket=ticket,
        kind=SurveyKind.CSAT,
        trigger=SurveyTrigger.RESOLVED,
        key=f"csat:ticket:{ticket.pk}",
        now=now,
        config=config,
    )


def on_ticket_event(sender: Any, event: TicketEvent, **kwargs: Any) -> None:
    """Receiver of `tickets.signals.ticket_event_recorded`, in the change's transaction: a
    ticket resolved (or closed from open) by a person, or an after-sales case completed,
    owes its customer a survey. A fault here is logged and left out, in a savepoint: the
    resolution goes ahead."""
    if not _owes_survey(event):
        return  # decided from the entry alone: no savepoint for the many that owe nothing
    if kwargs.get("batch") and event.kind == EventKind.STATUS:
        return  # scheduled with the rest of its batch (`on_ticket_events`)
    try:
        with transaction.atomic():
            _event_survey(event)
    except Exception:
        logger.exception("survey for trail entry %s of ticket %s failed", event.pk, event.ticket_id)


def on_ticket_events(sender: Any, events: Sequence[TicketEvent], **kwargs: Any) -> None:
    """Receiver of `tickets.signals.ticket_events_recorded`: the surveys a batch of status
    changes owes (the queue's bulk status action), scheduled together
    (`surveys_schedule_resolved`). If the batch fails, each is tried on its own, in its own
    savepoint, as `on_ticket_event` does: the resolutions go ahead either way."""
    owing = [event for event in events if event.kind == EventKind.STATUS and _owes_survey(event)]
    if not owing:
        return
    try:
        with transaction.atomic():
            surveys_schedule_resolved(
                resolved=[(event.ticket, event.created_at) for event in owing]
            )
    except Exception:
        logger.exception("%d surveys failed together; scheduling them one by one", len(owing))
        for event in owing:
            on_ticket_event(sender, event)


def surveys_schedule_resolved(*, resolved: Sequence[tuple[Ticket, datetime]]) -> list[Survey]:
    """`survey_on_resolution` for many tickets (each with the moment it was resolved by a
    person), under the same rules, in a fixed number of statements whatever their number:
    the settings, the order numbers of the tickets in the NPS sample, the customers' locks,
    the fatigue check, the keys scheduled already, the rows, their agents. Runs in the
    caller's transaction, which holds the tickets' locks. Returns the surveys scheduled."""
    config = survey_settings()
    eligible: list[tuple[Ticket, datetime, str]] = []
    for ticket, now in resolved:
        surveyed_on = SURVEY_CHANNEL_FOR.get(Channel(ticket.channel))
        if surveyed_on is None or surveyed_on not in config.channels or survey_skip_reason(ticket):
            continue
        eligible.append((ticket, now, str(surveyed_on)))
    if not eligible:
        return []
    with_order: set[int] = set()
    if config.nps_is_active:
        sampled = [t for t, _now, _c in eligible if _nps_sampled(t, config.nps_order_percent)]
        if sampled:
            with_order = set(hooks.ticket_order_numbers(sampled))
    customer_ids = sorted({ticket.customer_id for ticket, _now, _c in eligible})
    # The customers' rows are the fatigue rule's lock, as for one survey; taken in id order.
    list(
        Customer.objects.select_for_update()
        .filter(pk__in_ids=customer_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    last_asked: dict[int, datetime] = {}
    window = timedelta(days=config.fatigue_days)
    if config.fatigue_days:
        for customer_id, created_at in Survey.objects.filter(
            customer_id__in_ids=customer_ids,
            created_at__gte=min(now for _t, now, _c in eligible) - window,
            skipped_reason="",
        ).values_list("customer_id", "created_at"):
            last_asked[customer_id] = max(created_at, last_asked.get(customer_id, created_at))
    keys = {ticket.pk: _resolution_key(ticket, with_order) for ticket, _now, _c in eligible}
    taken = set(Survey.objects.filter(key__in=list(keys.values())).values_list("key", flat=True))
    surveys: list[Survey] = []
    for ticket, now, channel in eligible:
        asked = last_asked.get(ticket.customer_id)
        if config.fatigue_days and asked is not None and asked >= now - window:
            continue
        if keys[ticket.pk] in taken:
            continue  # scheduled already
        taken.add(keys[ticket.pk])
        nps = ticket.pk in with_order
        surveys.append(
            Survey(
                kind=SurveyKind.NPS if nps else SurveyKind.CSAT,
                trigger=SurveyTrigger.ORDER if nps else SurveyTrigger.RESOLVED,
                key=keys[ticket.pk],
                ticket=ticket,
                customer_id=ticket.customer_id,
                channel=channel,
                team_id=ticket.team_id,
                category=ticket.category,
                case_number="",
                created_at=now,
                due_at=now
                + (
                    timedelta(days=config.nps_order_days)
                    if nps
                    else timedelta(minutes=config.delay_minutes)
                ),
                nonce=secrets.token_hex(8),
            )
        )
        if config.fatigue_days:
            last_asked[ticket.customer_id] = now
    if not surveys:
        return []
    rows_insert(Survey, surveys)
    by_ticket = {survey.ticket_id: survey.pk for survey in surveys}
    rows_insert(
        Survey.agents.through,
        [
            Survey.agents.through(survey_id=by_ticket[ticket_id], agent_id=agent_id)
            for ticket_id, agent_id in Message.objects.filter(
                ticket_id__in_ids=list(by_ticket),
                direction=Direction.OUT,
                author__isnull=False,
                is_bot=False,
                is_automatic=False,
            )
            .order_by()
            .values_list("ticket_id", "author_id")
            .distinct()
        ],
    )
    due = [s.pk for s in surveys if s.due_at is not None and s.due_at <= s.created_at]
    if due:
        transaction.on_commit(lambda: surveys_invite_later(due))
    return surveys


def _resolution_key(ticket: Ticket, with_order: set[int]) -> str:
    """The survey's key, as `survey_on_resolution` names it."""
    return f"nps:ticket:{ticket.pk}" if ticket.pk in with_order else f"csat:ticket:{ticket.pk}"


def _owes_survey(event: TicketEvent) -> bool:
    if event.kind == EventKind.STATUS:
        to, previous = event.data.get("to"), event.data.get("from")
        return event.actor_id is not None and (
            to == Status.RESOLVED or (to == Status.CLOSED and previous in OPEN_STATUSES)
        )
    if event.kind == EventKind.AFTERSALES:
        return event.data.get("step") == CASE_COMPLETED
    return False


def _event_survey(event: TicketEvent) -> None:
    ticket = event.ticket
    if event.kind == EventKind.STATUS:
        to, previous = event.data.get("to"), event.data.get("from")
        if event.actor_id is None:
            return  # closed by Kefu itself (the bot, a sweep): nobody to rate
        if to == Status.RESOLVED or (to == Status.CLOSED and previous in OPEN_STATUSES):
            survey_on_resolution(ticket=ticket, now=event.created_at)
        return
    number, step = event.data.get("case"), event.data.get("step")
    if step == CASE_COMPLETED and isinstance(number, str):
        survey_schedule(
            ticket=ticket,
            kind=SurveyKind.CSAT,
            trigger=SurveyTrigger.CASE_COMPLETED,
            key=f"csat:case:{number}",
            now=event.created_at,
            case_number=number,
        )


# --- Inviting ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _invitation_formats(language: str, kind: str, channel: str) -> tuple[str, str, str]:
    """The (subject, question, body) of an invitation in `language`, as format strings,
    translated once per process: a sweep invites 500 at a time. The subject and a CSAT
    question take the ticket's `number`; the body takes the `question` and, on email and the
    app, the survey's `link`."""
    with translation.override(language):
        subject = _("How did we do? Ticket %(number)s")
        if kind == SurveyKind.NPS:
            question = _(
                "How likely are you to recommend us to a friend, from 0 (not at all) to 10 "
                "(very likely)?"
            )
            sms = _("%(question)s Reply 0–10.")
        else:
            question = _(
                "Your ticket %(number)s is resolved. How satisfied are you with our service?"
            )
            sms = _("%(question)s Reply 1–5 (5 = very satisfied).")
        if channel == Channel.SMS:
            body = sms
        elif channel == Channel.CHAT:
            body = "%(question)s"
        else:
            body = _("%(question)s Rate us here (one click, no sign-in): %(link)s")
        return str(subject), str(question), str(body)


def _invitation_text(survey: Survey) -> tuple[str, str]:
    """Subject and body of the invitation, in the customer's language."""
    language = "en" if (survey.customer.language or "").lower().startswith("en") else "zh-hans"
    subject, question, body = _invitation_formats(language, survey.kind, survey.channel)
    number = {"number": survey.ticket.number}
    if survey.kind != SurveyKind.NPS:  # the NPS question names no ticket
        question = question % number
    values = {"question": question}
    if "%(link)s" in body:  # signed only where the text carries it
        values["link"] = survey_link(survey)
    return subject % number, body % values


def survey_claim(survey_id: int, *, now: datetime) -> bool:
    """Start inviting if it is due: one worker wins; a second copy of the task does nothing."""
    return bool(
        Survey.objects.filter(pk=survey_id, due_at__lte=now, invited_at=None).update(
            due_at=now + INVITE_LEASE
        )
    )


def surveys_claim_due(*, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` due surveys, the longest due first: their due time moves on by the
    lease, so another sweep (or a task) leaves them alone, and they come due again if this
    worker dies before inviting them. Rows another sweep is claiming are skipped, not waited
    for: two sweeps take two different batches."""
    with transaction.atomic():
        ids = list(
            Survey.objects.select_for_update(skip_locked=True)
            .filter(due_at__lte=now, invited_at=None)
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Survey.objects.filter(pk__in_ids=ids).update(due_at=now + INVITE_LEASE)
    return ids


def survey_invite(*, survey_id: int, now: datetime | None = None) -> Message | None:
    """Queue the survey's invitation on the outbox if it is due (claimed first, so a second
    call does nothing). None when it is not due, held for the quiet hours, or given up (the
    reason stays on the survey)."""
    now = now or timezone.now()
    if not survey_claim(survey_id, now=now):
        return None
    return surveys_invite_claimed(survey_ids=[survey_id], now=now).get(survey_id)


def surveys_invite(*, survey_ids: Sequence[int], now: datetime | None = None) -> dict[int, Message]:
    """`survey_invite` for a batch: those of the surveys that are due are claimed together (a
    second call, or a sweep that claimed them first, leaves them alone) and invited in one
    transaction (`surveys_invite_claimed`)."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = list(
            Survey.objects.select_for_update(skip_locked=True)
            .filter(pk__in_ids=list(survey_ids), due_at__lte=now, invited_at=None)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if claimed:
            Survey.objects.filter(pk__in_ids=claimed).update(due_at=now + INVITE_LEASE)
    return surveys_invite_claimed(survey_ids=claimed, now=now) if claimed else {}


def surveys_invite_claimed(*, survey_ids: Sequence[int], now: datetime) -> dict[int, Message]:
    """Queue the invitations of surveys this worker has claimed, in one transaction and a
    fixed number of statements whatever their number (the delivery backends are asked about
    the batch's addresses at once, `backends_asked`; one without `accepts_many` is asked
    about each): each survey is given up (the reason stays on it: the ticket is open again,
    spam, merged, erased, its channel switched off, the customer asked within the fatigue
    window, no address), held for the morning (an SMS
    in the quiet hours), or invited: its message queued on the outbox, a trail entry on its
    ticket, its delivery task sent after the commit. Returns the queued messages by survey
    id."""
    with transaction.atomic():
        surveys = list(
            Survey.objects.select_for_update(of=("self",))
            .select_related("ticket__customer")
            .filter(pk__in_ids=survey_ids, invited_at=None)
            .order_by("pk")
        )
        if not surveys:
            return {}
        for survey in surveys:
            # The survey's customer is its ticket's: read once, with the ticket (after a
            # merge of customers they may differ, and the survey reads its own).
            if survey.customer_id == survey.ticket.customer_id:
                survey.customer = survey.ticket.customer
        config = survey_settings()
        customer_ids = {survey.customer_id for survey in surveys}
        # Customers asked within the fatigue window, by another survey; those invited in this
        # batch join them as they are invited.
        asked: set[int] = set()
        if config.fatigue_days:
            asked = set(
                Survey.objects.filter(
                    customer_id__in_ids=customer_ids,
                    invited_at__gte=now - timedelta(days=config.fatigue_days),
                )
                .exclude(pk__in_ids=[survey.pk for survey in surveys])
                .values_list("customer_id", flat=True)
            )
        identities: dict[int, list[ContactIdentity]] = {}
        for identity in ContactIdentity.objects.filter(customer_id__in_ids=customer_ids):
            identities.setdefault(identity.customer_id, []).append(identity)
        morning = quiet_hours_end(now)
        skipped: dict[str, list[int]] = {}
        held: list[int] = []
        invited: list[Survey] = []
        addresses = {
            survey.pk: customer_address(
                survey.customer, survey.channel, identities=identities.get(survey.customer_id, [])
            )
            for survey in surveys
        }
        by_channel: dict[str, list[str]] = {}
        for survey in surveys:
            if address := addresses[survey.pk]:
                by_channel.setdefault(survey.channel, []).append(address)
        # The backends are asked about the batch's addresses at once (the SMS opt-outs).
        with backends_asked(by_channel):
            for survey in surveys:
                ticket = survey.ticket
                reason = ""
                if ticket.is_open:
                    reason = "ticket open again"
                elif skip := survey_skip_reason(ticket):
                    reason = skip
                elif survey.channel not in config.channels:
                    reason = "channel switched off"
                elif survey.customer_id in asked:
                    reason = "asked recently"
                elif survey.channel == Channel.SMS and morning is not None:
                    held.append(survey.pk)
                    continue
                else:
                    address = addresses[survey.pk]
                    if not address or not backend_accepts(survey.channel, address):
                        reason = "no way to reach the customer"
                if reason:
                    skipped.setdefault(reason, []).append(survey.pk)
                    continue
                invited.append(survey)
                if config.fatigue_days:
                    asked.add(survey.customer_id)
        for reason, ids in skipped.items():
            Survey.objects.filter(pk__in_ids=ids).update(due_at=None, skipped_reason=reason)
        if held:
            Survey.objects.filter(pk__in_ids=held).update(due_at=morning)
        if not invited:
            return {}
        expires_at = now + timedelta(days=config.expiry_days)
        drafts = []
        for survey in invited:
            subject, body = _invitation_text(survey)
            drafts.append(
                Message(
                    ticket=survey.ticket,
                    direction=Direction.OUT,
                    channel=survey.channel,
                    body=body,
                    subject=subject if survey.channel == Channel.EMAIL else "",
                    delivery_status=DeliveryStatus.QUEUED,
                    created_at=now,
                    email_message_id=new_message_id(),
                    is_automatic=True,
                    notice=f"survey:{survey.kind}",
                    delivery_due_at=now,
                )
            )
        messages = rows_insert(Message, drafts)
        for survey, message in zip(invited, messages, strict=True):
            survey.invited_at = now
            survey.message = message
            survey.due_at = None
            survey.expires_at = expires_at
        # One UPDATE … FROM (VALUES …): `bulk_update`'s CASE expressions took longer to build
        # than the rest of a batch of 500 invitations (bench/feedback.py, tickets.raw_sql).
        rows_update(Survey, invited, ["invited_at", "message", "due_at", "expires_at"])
        events_record(
            [
                TrailEntry(
                    ticket=survey.ticket,
                    kind=EventKind.NOTICE,
                    actor=None,
                    data={
                        "message": message.pk,
                        "event": f"survey:{survey.kind}",
                        "channel": survey.channel,
                        "to": f"{survey.get_kind_display()} · {Channel(survey.channel).label}",
                    },
                    at=now,
                )
                for survey, message in zip(invited, messages, strict=True)
            ]
        )
        message_ids = [message.pk for message in messages]

        transaction.on_commit(lambda: deliver_later_many(message_ids))
        for survey, message in zip(invited, messages, strict=True):
            ticket_publish(survey.ticket, events.message_added(survey.ticket, message), board=False)
    return {survey.pk: message for survey, message in zip(invited, messages, strict=True)}


def surveys_due_send(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Invite the surveys that are due, up to `limit` in one batch (Celery beat, the embedded
    ticker). Returns how many invitations were queued."""
    now = now or timezone.now()
    survey_ids = surveys_claim_due(now=now, limit=limit)
    if not survey_ids:
        return 0
    return len(surveys_invite_claimed(survey_ids=survey_ids, now=now))


# --- Answering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    score: int
    tags: tuple[str, ...] = ()
    comment: str = ""


def answer_check(survey: Survey, answer: Answer) -> None:
    low, high = SCALE[SurveyKind(survey.kind)]
    if not low <= answer.score <= high:
        raise SurveyRefused(
            "score", _("Choose a score from %(low)s to %(high)s.") % {"low": low, "high": high}
        )
    if len(answer.comment) > MAX_COMMENT_CHARS:
        raise SurveyRefused("comment", _("The comment is too long."))


def survey_answer(
    *,
    survey: Survey,
    answer: Answer,
    via: str,
    message: Message | None = None,
    now: datetime | None = None,
) -> Survey:
    """Store the customer's answer, once: a second answer (a reused link, a second tap)
    raises SurveyRefused("used") and changes nothing. A CSAT of 1–2, a comment the
    sentiment model reads as angry, or an NPS of 0–6 creates a call-back."""
    from feedback.services.callbacks import callback_create

    answer_check(survey, answer)
    now = now or timezone.now()
    tags: list[str] = []
    if answer.tags:  # an SMS digit has none: no need to read the settings' list
        allowed = set(survey_settings().tags)
        tags = [tag for tag in dict.fromkeys(answer.tags) if tag in allowed][:MAX_TAGS]
    answered = {
        "score": answer.score,
        "tags": tags,
        "comment": answer.comment.strip(),
        "answered_at": now,
        "answered_via": via,
        "answer_message": message,
        "due_at": None,
    }
    with transaction.atomic():
        won = Survey.objects.filter(pk=survey.pk, answered_at=None).update(**answered)
        if not won:
            raise SurveyRefused("used", _("This survey has been answered already. Thank you!"))
        # Won: the row holds exactly these values now, no need to read it back.
        for name, value in answered.items():
            setattr(survey, name, value)
        survey_answered.send(sender=Survey, survey=survey)
        reason = _callback_reason(survey)
        if reason:
            callback_create(
                ticket=survey.ticket,
                reason=reason,
                note=survey.comment,
                survey=survey,
                actor=None,
                key=f"survey:{survey.pk}",
                now=now,
            )
        ticket_publish(
            survey.ticket, events.ticket_updated(survey.ticket), queues=False, board=False
        )
    return survey


def _callback_reason(survey: Survey) -> str:
    assert survey.score is not None
    if survey.kind == SurveyKind.NPS:
        return CallbackReason.DETRACTOR if survey.score <= 6 else ""
    if survey.score <= 2:
        return CallbackReason.LOW_CSAT
    if (
        survey.comment
        and triage_text(survey.comment).sentiment <= survey_settings().angry_sentiment
    ):
        return CallbackReason.ANGRY_COMMENT
    return ""


def surveys_answer_many(
    items: Sequence[tuple[Survey, Answer, Message | None]],
    *,
    via: str,
    now: datetime | None = None,
) -> list[Survey]:
    """`survey_answer` for many surveys at once (a drain's batch of SMS digits), in a few
    statements whatever the batch's size: the surveys still unanswered locked and written
    together, their call-backs made together. A survey answered meanwhile is left as it is,
    without an error (the first answer counts). Answers with tags go one at a time
    (`survey_answer` checks them against the settings). Returns the surveys answered now."""
    from feedback.services.callbacks import CallbackDraft, callbacks_create_many

    if not items:
        return []
    for survey, answer, _message in items:
        answer_check(survey, answer)
        if answer.tags:
            raise ValueError("surveys_answer_many takes answers without tags")
    now = now or timezone.now()
    with transaction.atomic():
        unanswered = set(
            Survey.objects.select_for_update()
            .filter(pk__in_ids=[survey.pk for survey, _a, _m in items], answered_at=None)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        answered: list[Survey] = []
        for survey, answer, message in items:
            if survey.pk not in unanswered:
                continue
            unanswered.discard(survey.pk)  # a survey twice in the batch: its first answer
            survey.score = answer.score
            survey.tags = []
            survey.comment = answer.comment.strip()
            survey.answered_at = now
            survey.answered_via = via
            survey.answer_message = message
            survey.due_at = None
            answered.append(survey)
        if not answered:
            return []
        rows_update(
            Survey,
            answered,
            ["score", "tags", "comment", "answered_at", "answered_via", "answer_message", "due_at"],
        )
        surveys_answered.send(sender=Survey, surveys=answered)
        callbacks_create_many(
            [
                CallbackDraft(
                    ticket=survey.ticket,
                    reason=reason,
                    note=survey.comment,
                    survey=survey,
                    key=f"survey:{survey.pk}",
                )
                for survey in answered
                if (reason := _callback_reason(survey))
            ],
            now=now,
        )
        for survey in answered:
            ticket_publish(
                survey.ticket, events.ticket_updated(survey.ticket), queues=False, board=False
            )
    return answered


def survey_answer_chat(*, address: str, message_id: int, score: int) -> Survey:
    """A star tapped in the chat widget under the invitation `message_id`, by the visitor
    `address` (their chat identity): the invitation must be theirs."""
    survey = (
        Survey.objects.select_related("ticket", "customer")
        .filter(
            message_id=message_id,
            channel=Channel.CHAT,
            customer__identities__kind=IdentityKind.APP_USER,
            customer__identities__value=address,
        )
        .first()
    )
    if survey is None:
        raise SurveyRefused("forged", _("This survey is not yours."))
    if survey.answered_at is not None:
        raise SurveyRefused("used", _("This survey has been answered already. Thank you!"))
    if survey.expires_at is None or survey.expires_at <= timezone.now():
        raise SurveyRefused("expired", _("This survey has closed."))
    return survey_answer(survey=survey, answer=Answer(score=score), via=Channel.CHAT)


def digit_of(text: str) -> int | None:
    """The number a reply consists of ("4", "４", " 10 "), else None."""
    if len(text) > 8:
        return None
    found = _DIGITS.fullmatch(text)
    return int(found.group(1)) if found else None


def _sms_surveys_open(now: datetime) -> QuerySet[Survey]:
    """SMS surveys invited and not yet expired, with their tickets: what a digit may answer."""
    return Survey.objects.select_related("ticket").filter(
        channel=Channel.SMS, invited_at__isnull=False, expires_at__gt=now
    )


def _sms_survey_for(customer: Customer, *, now: datetime) -> Survey | None:
    """The customer's latest SMS survey still open, with its ticket and, as
    `conversation_open`, whether an SMS ticket of theirs is open: one statement, on the
    indexes (feedback_survey_reply, tickets_threading), for every digit an SMS brings."""
    return (
        _sms_surveys_open(now)
        .filter(customer=customer)
        .annotate(
            conversation_open=Exists(
                Ticket.objects.filter(customer=customer, channel=Channel.SMS, is_open=True)
            )
        )
        .order_by("-invited_at", "-pk")
        .first()
    )


def sms_reply_intercept(customer: Customer, inbound: InboundMessage) -> hooks.InboundClaim | None:
    """The core's intake asks (tickets.hooks): is this SMS an answer to a survey? It is when
    it is a bare number on the survey's scale and the customer has an SMS survey still open
    whose ticket is not open again, and no other SMS conversation is open. Otherwise the
    digit is a normal message (the customer may be answering the agent). A digit after the
    survey was answered is kept on the same ticket and changes nothing: the first answer
    counts."""
    if inbound.channel != Channel.SMS:
        return None
    score = digit_of(inbound.text)
    if score is None:
        return None
    now = timezone.now()
    survey = _sms_survey_for(customer, now=now)
    # `conversation_open` is annotated by _sms_survey_for.
    if survey is None or not _sms_reply_answers(
        survey, score, conversation_open=getattr(survey, "conversation_open", True)
    ):
        return None

    def accept(message: Message) -> None:
        if survey.answered_at is not None:
            return
        try:
            survey_answer(
                survey=survey,
                answer=Answer(score=score),
                via=Channel.SMS,
                message=message,
                now=now,
            )
        except SurveyRefused:
            pass  # answered meanwhile: the message is kept, the first answer counts

    return hooks.InboundClaim(ticket=survey.ticket, accept=accept)


def _sms_reply_answers(survey: Survey, score: int, *, conversation_open: bool) -> bool:
    """Whether a digit answers the customer's latest open SMS survey: its ticket is not open
    again, no other SMS conversation of theirs is going on (the digit may answer the
    agent), and the digit is on the survey's scale."""
    if survey.ticket.is_open or conversation_open:
        return False
    low, high = SCALE[SurveyKind(survey.kind)]
    return low <= score <= high


def sms_replies_intercept(
    pairs: Sequence[tuple[Customer, InboundMessage]],
) -> hooks.InboundClaims:
    """`sms_reply_intercept` for a batch of messages from different customers (tickets
    .hooks: a drain's stored SMS), deciding each as it would, in two statements: the
    customers' latest open SMS surveys, and which of them have an SMS conversation open.
    The claimed messages' `accept` answers their surveys together (`surveys_answer_many`)."""
    scores = {
        index: score
        for index, (_customer, inbound) in enumerate(pairs)
        if inbound.channel == Channel.SMS and (score := digit_of(inbound.text)) is not None
    }
    if not scores:
        return hooks.InboundClaims(tickets={}, accept=lambda messages: None)
    now = timezone.now()
    customer_ids = {pairs[index][0].pk for index in scores}
    latest: dict[int, Survey] = {}
    for survey in (
        _sms_surveys_open(now)
        .filter(customer_id__in_ids=customer_ids)
        .order_by("customer_id", "-invited_at", "-pk")
    ):
        latest.setdefault(survey.customer_id, survey)
    talking = set(
        Ticket.objects.filter(
            customer_id__in_ids=customer_ids, channel=Channel.SMS, is_open=True
        ).values_list("customer_id", flat=True)
    )
    taken: dict[int, tuple[Survey, int]] = {}
    for index, score in scores.items():
        customer = pairs[index][0]
        found = latest.get(customer.pk)
        if found is not None and _sms_reply_answers(
            found, score, conversation_open=customer.pk in talking
        ):
            taken[index] = (found, score)

    def accept(messages: dict[int, Message]) -> None:
        # A digit after the survey was answered is kept on its ticket and changes nothing.
        surveys_answer_many(
            [
                (survey, Answer(score=score), messages[index])
                for index, (survey, score) in taken.items()
                if survey.answered_at is None
            ],
            via=Channel.SMS,
            now=now,
        )

    return hooks.InboundClaims(
        tickets={index: survey.ticket for index, (survey, _score) in taken.items()},
        accept=accept,
    )


def trail_label(data: dict[str, object]) -> str:
    """A survey invitation's trail entry as the timeline shows it after "→": the survey's
    kind and channel, in the active language (the stored `to` is in the language of the
    process that sent it); "" for a notice feedback did not send."""
    event = str(data.get("event", ""))
    if not event.startswith("survey:"):
        return ""
    try:
        kind = SurveyKind(event.removeprefix("survey:")).label
        return f"{kind} · {Channel(str(data['channel'])).label}"
    except (KeyError, ValueError):
        return ""


# --- NPS sample ---------------------------------------------------------------------------


def quarter_of(day: datetime) -> str:
    local = timezone.localtime(day)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def nps_quarter_sample(*, now: datetime | None = None, size: int | None = None) -> int:
    """Ask the quarter's NPS sample: up to `size` (settings) customers with a ticket resolved
    in the last 90 days, chosen by a hash of the quarter and the customer. The quarter's
    sample is `size` in all: a second run adds nothing (the key is unique per quarter and
    customer, and those asked already count). Each is asked on their latest resolved
    ticket's channel, under the usual rules (fatigue, channels). Returns how many it
    added."""
    now = now or timezone.now()
    config = survey_settings()
    if not config.nps_is_active:
        return 0
    size = config.nps_quarter_sample if size is None else size
    quarter = quarter_of(now)
    latest: dict[int, int] = {}
    resolved = (
        Ticket.objects.filter(resolved_at__gte=now - timedelta(days=90), is_open=False)
        .filter(Q(merged_into__isnull=True))
        .order_by("customer_id", "resolved_at", "pk")
        .values_list("customer_id", "pk")
    )
    for customer_id, ticket_id in resolved:
        latest[customer_id] = ticket_id

    def rank(customer_id: int) -> str:
        return hashlib.sha256(f"{quarter}:{customer_id}".encode()).hexdigest()

    # Customers already in this quarter's sample count towards it: a second run adds none.
    sampled = Survey.objects.filter(key__startswith=f"nps:{quarter}:").count()
    asked = 0
    for customer_id in sorted(latest, key=rank):
        if sampled + asked >= size:
            break
        ticket = Ticket.objects.select_related("customer").get(pk=latest[customer_id])
        with transaction.atomic():
            made = survey_schedule(
                ticket=ticket,
                kind=SurveyKind.NPS,
                trigger=SurveyTrigger.SAMPLE,
                key=f"nps:{quarter}:{customer_id}",
                now=now,
            )
        asked += made is not None
    return asked


# --- The quality sample's CSAT source ----------------------------------------------------


def low_csat_tickets(window: Any, candidates: frozenset[int]) -> list[int]:
    """For the weekly quality sample (feedback.services.sampling): the candidates rated 1
    or 2."""
    return list(
        Survey.objects.filter(
            ticket_id__in_ids=candidates, kind=SurveyKind.CSAT, score__lte=2, score__isnull=False
        )
        .values_list("ticket_id", flat=True)
        .distinct()
    )
