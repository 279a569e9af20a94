"""Reads for writing replies: the macros an agent may use and edit, their variables, the
customer's other channels a reply may go out on, and the links that let a customer open a
file of their ticket outside the workspace."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import Q, QuerySet
from django.urls import reverse

from kefu.roles import Role, has_role
from tickets import hooks
from tickets.identity import mask_identity
from tickets.models import (
    Agent,
    Attachment,
    Channel,
    ContactIdentity,
    Direction,
    IdentityKind,
    Macro,
    Ticket,
)
from tickets.selectors import ORDER_NUMBER, customer_identities

VARIABLES = ("customer_name", "ticket_number", "order_number", "agent_name")
_LINK_SALT = "tickets.attachment.link"


def macros_for(*, agent: Agent) -> QuerySet[Macro]:
    """The macros an agent may use: their own, those shared with one of their teams, and
    those shared with everyone."""
    return (
        Macro.objects.filter(
            Q(owner=agent)
            | Q(owner__isnull=True, team__isnull=True)
            | Q(owner__isnull=True, team__in=agent.teams.all())
        )
        .select_related("team", "transfer_to", "owner")
        .order_by("name", "pk")
    )


def macro_may_edit(*, user: Any, agent: Agent | None, macro: Macro) -> bool:
    """Agents edit their own macros; supervisors edit shared ones (nobody edits another
    agent's personal macro)."""
    if macro.owner_id is not None:
        return agent is not None and macro.owner_id == agent.pk
    return has_role(user, Role.SUPERVISOR)


def macro_variables(*, ticket: Ticket, agent: Agent) -> dict[str, str]:
    return {
        "customer_name": ticket.customer.name or "",
        "ticket_number": ticket.number,
        "order_number": ticket_order_number(ticket),
        "agent_name": agent.user.first_name or str(agent),
    }


def ticket_order_number(ticket: Ticket) -> str:
    """The order the ticket is about: as an app above the core knows it (the linked order),
    else the last order number the customer wrote on it, else their order identity."""
    if number := hooks.ticket_order_number(ticket):
        return number
    texts = ticket.messages.filter(direction=Direction.IN).order_by("-created_at")
    for text in texts.values_list("body", flat=True)[:20]:
        found = ORDER_NUMBER.findall(text or "")
        if found:
            return str(found[-1]).upper()
    identity = (
        ticket.customer.identities.filter(kind=IdentityKind.ORDER).order_by("-created_at").first()
    )
    return identity.value if identity else ""


def macro_render(macro: Macro, variables: dict[str, str]) -> str:
    """The macro's text with its variables filled. Only the names in VARIABLES are
    replaced (plain text replacement, never str.format: a macro cannot reach attributes)."""
    text = macro.body
    for name in VARIABLES:
        text = text.replace("{" + name + "}", variables.get(name, ""))
    return text


@dataclass(frozen=True)
class ReplyRoute:
    """A contact of the customer a reply may go to instead of the ticket's own channel."""

    identity_id: int
    channel: str
    label: str  # the channel and the masked contact, as the ticket page shows it


def channel_for_identity(identity: ContactIdentity) -> str:
    """The channel a reply to this contact travels on."""
    if identity.kind == IdentityKind.PHONE:
        return Channel.SMS
    if identity.kind == IdentityKind.EMAIL:
        return Channel.EMAIL
    # An anonymous chat visitor exists only in the widget; a shop account has the app too.
    return Channel.CHAT if identity.value.startswith("visitor:") else Channel.APP


def reply_routes(ticket: Ticket) -> list[ReplyRoute]:
    identities = sorted(
        (i for i in customer_identities(ticket.customer) if i.kind != IdentityKind.ORDER),
        key=lambda identity: (identity.kind, identity.pk),
    )
    routes = []
    for identity in identities:
        channel = channel_for_identity(identity)
        routes.append(
            ReplyRoute(
                identity_id=identity.pk,
                channel=channel,
                label=f"{Channel(channel).label} · {mask_identity(identity.kind, identity.value)}",
            )
        )
    return routes


def reply_recipient(*, ticket: Ticket, identity_id: int) -> ContactIdentity | None:
    """The customer's contact with this id (None: not theirs, or an order number)."""
    return (
        ticket.customer.identities.exclude(kind=IdentityKind.ORDER).filter(pk=identity_id).first()
    )


def attachment_link(attachment: Attachment, *, absolute: bool = True) -> str:
    """A link that opens the file of a public message without signing in, valid for
    KEFU_ATTACHMENT_LINK_DAYS: what a chat or app message carries, and the status page."""
    token = signing.dumps(attachment.pk, salt=_LINK_SALT, compress=True)
    path = reverse("portal:file", kwargs={"token": token})
    if absolute and settings.KEFU_PUBLIC_URL:
        return settings.KEFU_PUBLIC_URL.rstrip("/") + path
    return path


def attachment_for_link(token: str) -> Attachment | None:
    """The attachment a link names, while it is valid and only if it belongs to a message
    the customer sees (never an internal note's)."""
    try:
        pk = signing.loads(
            token, salt=_LINK_SALT, max_age=settings.KEFU_ATTACHMENT_LINK_DAYS * 24 * 3600
        )
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    return (
        Attachment.objects.filter(
            pk=pk, message__direction__in=[Direction.IN, Direction.OUT], refused_reason=""
        )
        .exclude(file="")
        .first()
    )
