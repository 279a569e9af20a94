"""Opening a case for a customer who has no ticket about it yet (the shop's API, the
self-service pages): a ticket is taken in through the core's intake first, so the case has a
trail for its history and a channel for its notices."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.models import Case, OpenedBy, Order, Reason
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
) -> Case:
    """Open a case as `case_open` does, with a ticket for it: a message from the order's
    customer (from their first contact identity) is taken in on `channel` through the core's
    intake — threading into their open ticket on that channel, or opening one with triage,
    SLA clocks and routing — naming the case, the order, the type, the reason and the
    description; the case is then opened on that ticket.

    One transaction: a case refused by its guards (ValidationError) leaves no ticket or
    message behind. Raises ValidationError too when the customer has no identity to write
    from."""
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

    def text(number: str) -> str:
        line = _("After-sales case %(case)s (%(type)s) for order %(order)s: %(reason)s.") % {
            "case": number,
            "type": CaseType(type).label,
            "order": order.number,
            "reason": reason.label,
        }
        return f"{line}\n{description.strip()}" if description.strip() else line

    with transaction.atomic():
        intake = intake_message(
            inbound=InboundMessage(
                channel=channel,
                provider_id=f"aftersales:{uuid.uuid4().hex}",
                identities=[Identity(kind=identity.kind, value=identity.value)],
                text=text(_("(being opened)")),
                name=customer.name,
            )
        )
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
        # The case's number is drawn by the opening; the message names it from then on.
        Message.objects.filter(pk=intake.message.pk).update(body=text(case.number))
    return case
