"""Opening a case for a customer who has no ticket about it yet (the shop's API, the
self-service pages): a ticket is taken in through the core's intake first, so the case has a
trail for its history and a channel for its notices."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.models import Case, CasePhoto, OpenedBy, Order, Reason
from aftersales.photos import PreparedPhoto
from aftersales.services.cases import ItemClaim, case_open
from aftersales.steps import CaseType
from tickets.inbound import Identity, InboundMessage
from tickets.models import Channel, Message
from tickets.services.intake import intake_message


def case_open_with_ticket(
    *,
    order: Order,
    items: Sequence[ItemClaim],
    type: CaseType,
    reason: Reason,
    description: str,
    amount: Decimal,
    opened_by: OpenedBy,
    channel: str = Channel.WEB,
    actor: User | None = None,
    now: datetime | None = None,
    text: str = "",
    subject: str = "",
    provider_id: str = "",
    photos: Sequence[PreparedPhoto] = (),
) -> Case:
    """Open a case as `case_open` does, with a ticket for it: a message from the order's
    customer (from their first contact identity) is taken in on `channel` through the core's
    intake — threading into their open ticket on that channel, or opening one with triage,
    SLA clocks and routing; the case is then opened on that ticket, with its `photos`.

    The message is `text` (and `subject`) when given — the customer's own words on the
    status page — else a line naming the case, the order, the type, the reason and the
    description. `provider_id` makes a resubmission idempotent: when intake has already
    taken that message in, the case it opened on the order is returned and nothing is
    written.

    One transaction: a case refused by its guards (ValidationError) leaves no ticket,
    message or photo behind (photo files written before the refusal are removed). Raises
    ValidationError too when the customer has no identity to write from."""
    if type not in CaseType.values:
        raise ValidationError(_("Unknown case type: %(type)s.") % {"type": type}, code="type")
    customer = order.customer
    identity = customer.identities.order_by("pk").first()
    if identity is None:
        raise ValidationError(
            _("The customer of order %(order)s has no contact to open a ticket for.")
            % {"order": order.number},
            code="customer",
        )

    def line(number: str) -> str:
        said = _("After-sales case %(case)s (%(type)s) for order %(order)s: %(reason)s.") % {
            "case": number,
            "type": CaseType(type).label,
            "order": order.number,
            "reason": reason.label,
        }
        return f"{said}\n{description.strip()}" if description.strip() else said

    stored: list[str] = []
    try:
        with transaction.atomic():
            intake = intake_message(
                inbound=InboundMessage(
                    channel=channel,
                    provider_id=provider_id or f"aftersales:{uuid.uuid4().hex}",
                    identities=[Identity(kind=identity.kind, value=identity.value)],
                    text=text or line(_("(being opened)")),
                    subject=subject,
                    name=customer.name,
                )
            )
            if provider_id and not intake.created:
                earlier = (
                    Case.objects.filter(order=order, ticket=intake.ticket).order_by("-pk").first()
                )
                if earlier is not None:
                    return earlier
            case = case_open(
                order=order,
                items=items,
                type=type,
                reason=reason,
                description=description,
                amount=amount,
                opened_by=opened_by,
                ticket=intake.ticket,
                actor=actor,
                now=now,
            )
            if not text:
                # The case's number is drawn by the opening; the message names it from then on.
                Message.objects.filter(pk=intake.message.pk).update(body=line(case.number))
            for photo in photos:
                row = CasePhoto(
                    case=case,
                    width=photo.width,
                    height=photo.height,
                    size=photo.size,
                    sha256=photo.sha256,
                )
                row.file.save("photo.jpg", ContentFile(photo.data), save=False)
                stored.append(row.file.name or "")
                row.save()
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    return case
