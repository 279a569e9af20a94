"""Payloads pushed to browsers. Each has a `type`; none carries personal data (phones,
addresses): a browser that needs more fetches it through a view that checks roles and masks.
The one exception is the screen pop of a ringing call (`call.ringing`), which must show who is
calling at once: it carries the caller's name and their number masked as on the ticket page.
"""

from typing import Any

from django.urls import reverse

from tickets.identity import mask_phone
from tickets.masking import mask_text
from tickets.models import Agent, Call, Message, Notification, Ticket


def _ticket(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "number": ticket.number,
        # The subject is the customer's first line: numbers they wrote in it stay masked.
        "subject": mask_text(ticket.subject),
        "status": ticket.status,
        "tier": ticket.tier,
        "priority_rank": ticket.priority_rank,
        "channel": ticket.channel,
        "team_id": ticket.team_id,
        "assignee_id": ticket.assignee_id,
        "sla_state": ticket.sla_state,
        "sla_due_at": ticket.sla_due_at.isoformat() if ticket.sla_due_at else None,
        "created_at": ticket.created_at.isoformat(),
    }


def ticket_created(ticket: Ticket) -> dict[str, Any]:
    return {"type": "ticket.created", "ticket": _ticket(ticket)}


def ticket_updated(ticket: Ticket) -> dict[str, Any]:
    return {"type": "ticket.updated", "ticket": _ticket(ticket)}


def message_added(ticket: Ticket, message: Message) -> dict[str, Any]:
    return {
        "type": "ticket.message",
        "ticket": _ticket(ticket),
        "message": {
            "id": message.pk,
            "direction": message.direction,
            "delivery_status": message.delivery_status,
        },
    }


def delivery_changed(ticket: Ticket, message: Message) -> dict[str, Any]:
    return {
        "type": "message.delivery",
        "ticket": {"id": ticket.pk, "number": ticket.number},
        "message": {"id": message.pk, "delivery_status": message.delivery_status},
    }


def agent_typing(*, is_typing: bool) -> dict[str, Any]:
    """For the customer's chat widget: an agent is (no longer) writing a reply."""
    return {"type": "typing", "typing": is_typing}


def sla_fired(ticket: Ticket, *, milestone: str, kind: str) -> dict[str, Any]:
    return {
        "type": "sla.breach" if kind == "breach" else "sla.warning",
        "ticket": _ticket(ticket),
        "milestone": milestone,
    }


def notification(item: Notification) -> dict[str, Any]:
    return {
        "type": "notification",
        "id": item.pk,
        "kind": item.kind,
        "text": item.text,
        "ticket": item.ticket.number if item.ticket else None,
    }


def _call(call: Call) -> dict[str, Any]:
    return {
        "id": call.pk,
        "direction": call.direction,
        "state": call.state,
        "cause": call.cause,
        "queue": call.queue,
        "team_id": call.team_id,
        "answered_by": str(call.answered_by) if call.answered_by else None,
        "duration": call.duration,
        "started_at": call.started_at.isoformat(),
        "url": reverse("tickets:call", args=[call.pk]),
    }


def _masked_number(number: str) -> str:
    # A withheld caller id ("anonymous") or an extension is shown as the PBX sent it.
    return mask_phone(number) if number.startswith("+") else number


def call_ringing(call: Call, *, open_tickets: list[Ticket]) -> dict[str, Any]:
    """The screen pop: who is calling (a customer card, or an offer to create one)."""
    customer = call.customer
    number = call.customer_number
    return {
        "type": "call.ringing",
        "call": _call(call),
        "phone": _masked_number(number),
        "customer": (
            {"id": customer.pk, "name": customer.name, "is_vip": customer.is_vip}
            if customer is not None
            else None
        ),
        # Sent to the call's team: the subject of a ticket of another team (which its agents
        # may not open) stays out, the number and status are enough to ask about it.
        "open_tickets": [
            {
                "number": ticket.number,
                "subject": mask_text(ticket.subject) if ticket.team_id == call.team_id else "",
                "status": ticket.status,
                "url": reverse("tickets:ticket", args=[ticket.number]),
            }
            for ticket in open_tickets
        ],
        "create_customer_url": (
            reverse("tickets:call_customer", args=[call.pk])
            if customer is None and number.startswith("+")
            else None
        ),
    }


def call_updated(call: Call, *, ticket: Ticket | None = None) -> dict[str, Any]:
    """A call was answered or ended; with `ticket`, sent to that ticket's page."""
    event: dict[str, Any] = {"type": "call.updated", "call": _call(call)}
    if ticket is not None:
        event["ticket"] = {"id": ticket.pk, "number": ticket.number}
    return event


# Who else has a ticket open (sent between the agent sockets of the ticket's page, see
# tickets/viewers.py): the viewer's user id and display name, a staff member's, no customer's.
# `connection` tells one open page from another of the same user.


def viewer_joined(
    *, number: str, connection: str, viewer: dict[str, Any], typing: bool
) -> dict[str, Any]:
    return {
        "type": "viewing.joined",
        "number": number,
        "connection": connection,
        "viewer": viewer,
        "typing": typing,
    }


def viewer_left(*, number: str, connection: str) -> dict[str, Any]:
    return {"type": "viewing.left", "number": number, "connection": connection}


def viewer_typing(
    *, number: str, connection: str, viewer: dict[str, Any], typing: bool
) -> dict[str, Any]:
    return {
        "type": "viewing.typing",
        "number": number,
        "connection": connection,
        "viewer": viewer,
        "typing": typing,
    }


def agent_presence(agent: Agent) -> dict[str, Any]:
    """An agent's status changed: for the board and the agent's own pages (no name: the
    board fetches its fragment)."""
    return {
        "type": "agent.presence",
        "agent": {"id": agent.pk, "user_id": agent.user_id, "status": agent.status},
        "auto": agent.status_is_auto,
    }
