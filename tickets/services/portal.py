"""Customer self-service: one-time codes that prove a customer (asked for with one of
their ticket or order numbers, sent to one of their phones or emails), and writing on a
ticket from the status page.
"""

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kefu.celery import task_queue
from tickets.delivery import Outbound, backend_for
from tickets.files import PreparedFile
from tickets.identity import normalise_identity
from tickets.inbound import Identity, InboundMessage
from tickets.models import (
    Channel,
    ContactIdentity,
    Customer,
    IdentityKind,
    StatusAccessCode,
    Ticket,
)
from tickets.services.intake import IntakeResult, intake_message

logger = logging.getLogger("kefu.tickets")


def _code_hash(code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


def status_contact_normalise(contact: str) -> tuple[str, str] | None:
    """The identity kind and normalised value a customer typed, or None if it is neither a
    phone nor an email we can read."""
    contact = contact.strip()
    kind = IdentityKind.EMAIL if "@" in contact else IdentityKind.PHONE
    try:
        return kind, normalise_identity(kind, contact)
    except ValidationError:
        return None


def _codes_capped(*, customer_id: int, destination: str, now: datetime) -> bool:
    """Whether the customer or the destination has had its share of codes: at most
    STATUS_CODES_PER_HOUR in the last hour and STATUS_CODES_PER_DAY in the last day, each."""
    hour, day = now - timedelta(hours=1), now - timedelta(days=1)
    for codes in (
        StatusAccessCode.objects.filter(customer_id=customer_id),
        StatusAccessCode.objects.filter(destination=destination),
    ):
        counts = codes.filter(created_at__gte=day).aggregate(
            day=Count("pk"), hour=Count("pk", filter=Q(created_at__gte=hour))
        )
        if counts["hour"] >= settings.STATUS_CODES_PER_HOUR:
            return True
        if counts["day"] >= settings.STATUS_CODES_PER_DAY:
            return True
    return False


@dataclass(frozen=True)
class Subject:
    """Whom a ticket or order number the customer typed belongs to (0: nobody), and the
    ticket when it was a ticket number."""

    customer_id: int
    ticket: Ticket | None


def status_subject(number: str) -> Subject:
    """The customer a ticket number or an order number (an `order` identity) belongs to.
    Both are looked up every time, so a ticket number and an order number cost the same."""
    number = number.strip()
    ticket = Ticket.objects.filter(number=number).first() if number else None
    order_customer = (
        ContactIdentity.objects.filter(kind=IdentityKind.ORDER, value=number)
        .values_list("customer_id", flat=True)
        .first()
    )
    if ticket is not None:
        return Subject(customer_id=ticket.customer_id, ticket=ticket)
    return Subject(customer_id=order_customer or 0, ticket=None)


def status_code_request(*, number: str, contact: str) -> StatusAccessCode | None:
    """Send a one-time code to `contact` if it is a phone or email of the customer whose
    ticket or order `number` is, unless that customer or that phone or email has had its
    share of codes (`_codes_capped`).

    Returns the code record, or None when nothing was sent. The caller shows the customer
    the same page either way, so the form cannot be used to probe for tickets, orders or
    contacts; for the same reason the answer takes the same time either way: both ways make
    and hash a code and run the same queries, the code is sent by a task rather than in the
    request, and the call lasts at least STATUS_LOOKUP_MIN_SECONDS.
    """
    started = time.monotonic()
    try:
        return _status_code_request(number=number, contact=contact)
    finally:
        left = settings.STATUS_LOOKUP_MIN_SECONDS - (time.monotonic() - started)
        if left > 0:
            time.sleep(left)


def _status_code_request(*, number: str, contact: str) -> StatusAccessCode | None:
    code = f"{secrets.randbelow(1_000_000):06d}"
    code_hash = _code_hash(code)
    now = timezone.now()
    identity = status_contact_normalise(contact)
    kind, value = identity if identity is not None else (IdentityKind.PHONE, "")
    with transaction.atomic():
        subject = status_subject(number)
        # Lock the customer so two requests at once cannot both pass the caps (nobody: the
        # same query, for an id no row has).
        customer = Customer.objects.select_for_update().filter(pk=subject.customer_id).first()
        matches = ContactIdentity.objects.filter(
            customer_id=subject.customer_id, kind=kind, value=value
        ).exists()
        capped = _codes_capped(customer_id=subject.customer_id, destination=value, now=now)
        if customer is None or not matches or not value or capped:
            if customer is not None and matches and capped:
                logger.info("status code for customer %s not sent: too many codes", customer.pk)
            return None
        access = StatusAccessCode.objects.create(
            customer=customer,
            ticket=subject.ticket,
            destination=value,
            code_hash=code_hash,
            expires_at=now + timedelta(seconds=settings.STATUS_CODE_TTL_SECONDS),
        )
        channel = Channel.EMAIL if kind == IdentityKind.EMAIL else Channel.SMS
        # In the customer's language when we know it, else in the page's: whoever asked may
        # be at a browser in another language than the phone that gets the code.
        with translation.override(
            customer.language or translation.get_language() or settings.LANGUAGE_CODE
        ):
            subject_line = _("Your Kefu verification code")
            body = _(
                "Your code to see your tickets and orders (you asked with %(number)s) is "
                "%(code)s. It expires in %(minutes)d minutes."
            ) % {
                "number": number.strip(),
                "code": code,
                "minutes": settings.STATUS_CODE_TTL_SECONDS // 60,
            }
        outbound = Outbound(
            channel=channel,
            to=value,
            subject=subject_line,
            body=body,
            ticket_number=subject.ticket.number if subject.ticket is not None else "",
            reference=f"kefu-code-{access.pk}",
            kind="code",
        )
        transaction.on_commit(lambda: _send_code_later(outbound))
    return access


def portal_message(
    *, ticket: Ticket, text: str, token: str, files: Sequence[PreparedFile] = ()
) -> IntakeResult:
    """A customer writes on their ticket from the self-service page (after proving who they
    are with a one-time code). It goes through intake like any channel, onto that ticket,
    and the answer bot may reply; `token` makes a resubmitted form one message. `files`
    (accepted by tickets.files) are stored with the message; a message of files alone is
    written as their names."""
    identity = ticket.customer.identities.order_by("pk").first()
    if identity is None:
        raise ValidationError(_("This ticket has no contact to write from."))
    text = text.strip() or "\n".join(f"📎 {item.filename}" for item in files)
    if not text:
        raise ValidationError(_("Write a message or attach a file."))
    return intake_message(
        inbound=InboundMessage(
            channel=Channel.WEB,
            provider_id=f"portal:{token}",
            identities=[Identity(kind=identity.kind, value=identity.value)],
            text=text,
            thread_ticket_number=ticket.number,
            attachments=[item.as_inbound() for item in files],
        )
    )


def _send_code_later(outbound: Outbound) -> None:
    """Queue the code's message: sending it (an SMS gateway's API) would make a matching
    lookup slower than one that matched nothing. The code itself is only in the queued
    task, never stored in clear."""
    from tickets.tasks import status_code_send

    task_queue(status_code_send, asdict(outbound))


def status_code_send(*, outbound: Outbound) -> None:
    """Send a one-time code's message; a failure is logged (the customer asks again)."""
    try:
        backend_for(outbound.channel).send(outbound)
    except Exception:
        logger.exception("could not send a status code on %s", outbound.channel)


class CodeOutcome(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"  # wrong, used or expired, or no code for the ticket
    LOCKED = "locked"  # the ticket's attempts for the hour are spent


@dataclass(frozen=True)
class CodeCheck:
    outcome: CodeOutcome
    customer: Customer | None = None
    # The ticket named when the code was asked for with a ticket number.
    ticket: Ticket | None = None


def status_code_verify(*, number: str, code: str) -> CodeCheck:
    """Check a code for the customer of a ticket or order number. Each code works once and
    expires. A customer allows STATUS_CODE_MAX_ATTEMPTS attempts in all on the codes sent
    in the last hour: a new code does not bring new attempts.

    Concurrent attempts are counted one by one: the customer's codes of the hour are locked
    (in id order, so two attempts cannot deadlock) before their attempts are added up and
    one more is recorded.
    """
    now = timezone.now()
    presented = _code_hash(code.strip())
    with transaction.atomic():
        subject = status_subject(number)
        codes = list(
            StatusAccessCode.objects.select_for_update(of=("self",))
            .filter(customer_id=subject.customer_id, created_at__gte=now - timedelta(hours=1))
            .order_by("pk")
        )
        if sum(access.attempts for access in codes) >= settings.STATUS_CODE_MAX_ATTEMPTS:
            return CodeCheck(CodeOutcome.LOCKED)
        live = [c for c in codes if c.used_at is None and c.expires_at > now]
        if not live:
            return CodeCheck(CodeOutcome.WRONG)
        access = max(live, key=lambda c: (c.created_at, c.pk))
        StatusAccessCode.objects.filter(pk=access.pk).update(attempts=F("attempts") + 1)
        if not hmac.compare_digest(access.code_hash, presented):
            return CodeCheck(CodeOutcome.WRONG)
        claimed = StatusAccessCode.objects.filter(pk=access.pk, used_at__isnull=True).update(
            used_at=now
        )
    if claimed != 1:
        return CodeCheck(CodeOutcome.WRONG)
    return CodeCheck(
        CodeOutcome.ACCEPTED, Customer.objects.get(pk=access.customer_id), subject.ticket
    )
