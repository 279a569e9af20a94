"""Customer self-service: one-time codes to a ticket's own contact, and writing on the
ticket from the status page.
"""

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.delivery import Outbound, backend_for
from tickets.identity import normalise_identity
from tickets.inbound import Identity, InboundMessage
from tickets.models import (
    Channel,
    IdentityKind,
    StatusAccessCode,
    Ticket,
)
from tickets.services.intake import IntakeResult, intake_message

logger = logging.getLogger("kefu.tickets")


def _code_hash(code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


def status_code_request(*, number: str, contact: str) -> StatusAccessCode | None:
    """Send a one-time code to `contact` if it is the phone or email the ticket belongs to.

    Returns the code record, or None when nothing matched; the caller shows the customer the
    same page either way, so the form cannot be used to probe for tickets or contacts.
    """
    contact = contact.strip()
    kind = IdentityKind.EMAIL if "@" in contact else IdentityKind.PHONE
    try:
        value = normalise_identity(kind, contact)
    except ValidationError:
        return None
    ticket = Ticket.objects.filter(number=number.strip()).select_related("customer").first()
    if ticket is None:
        return None
    if not ticket.customer.identities.filter(kind=kind, value=value).exists():
        return None
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = timezone.now()
    with transaction.atomic():
        access = StatusAccessCode.objects.create(
            ticket=ticket,
            destination=value,
            code_hash=_code_hash(code),
            expires_at=now + timedelta(seconds=settings.STATUS_CODE_TTL_SECONDS),
        )
        channel = Channel.EMAIL if kind == IdentityKind.EMAIL else Channel.SMS
        outbound = Outbound(
            channel=channel,
            to=value,
            subject=_("Your Kefu verification code"),
            body=_(
                "Your code to view ticket %(number)s is %(code)s. "
                "It expires in %(minutes)d minutes."
            )
            % {
                "number": ticket.number,
                "code": code,
                "minutes": settings.STATUS_CODE_TTL_SECONDS // 60,
            },
            ticket_number=ticket.number,
            reference=f"kefu-code-{access.pk}",
            kind="code",
        )
        transaction.on_commit(lambda: _send_code(outbound))
    return access


def portal_message(*, ticket: Ticket, text: str, token: str) -> IntakeResult:
    """A customer writes on their ticket from the self-service page (after proving who they
    are with a one-time code). It goes through intake like any channel, onto that ticket,
    and the answer bot may reply; `token` makes a resubmitted form one message."""
    identity = ticket.customer.identities.order_by("pk").first()
    if identity is None:
        raise ValidationError(_("This ticket has no contact to write from."))
    return intake_message(
        inbound=InboundMessage(
            channel=Channel.WEB,
            provider_id=f"portal:{token}",
            identities=[Identity(kind=identity.kind, value=identity.value)],
            text=text,
            thread_ticket_number=ticket.number,
        )
    )


def _send_code(outbound: Outbound) -> None:
    try:
        backend_for(outbound.channel).send(outbound)
    except Exception:
        logger.exception("could not send a status code on %s", outbound.channel)


def status_code_verify(*, number: str, code: str) -> Ticket | None:
    """Check a code for a ticket. Each code works once, expires, and allows a few attempts."""
    now = timezone.now()
    access = (
        StatusAccessCode.objects.filter(
            ticket__number=number.strip(), used_at__isnull=True, expires_at__gt=now
        )
        .select_related("ticket")
        .order_by("-created_at")
        .first()
    )
    if access is None or access.attempts >= settings.STATUS_CODE_MAX_ATTEMPTS:
        return None
    StatusAccessCode.objects.filter(pk=access.pk).update(attempts=F("attempts") + 1)
    if not hmac.compare_digest(access.code_hash, _code_hash(code.strip())):
        return None
    claimed = StatusAccessCode.objects.filter(pk=access.pk, used_at__isnull=True).update(
        used_at=now
    )
    return access.ticket if claimed == 1 else None
