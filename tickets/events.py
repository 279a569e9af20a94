"""Payloads pushed to browsers. Each has a `type`; none carries personal data (phones,
addresses): a browser that needs more fetches it through a view that checks roles and masks.
"""

from typing import Any

from tickets.models import Message, Notification, Ticket


def _ticket(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "subject": ticket.subject,
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
