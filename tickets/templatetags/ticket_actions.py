"""The ticket page's and the queue's parts for acting on tickets, drawn with what they need
so that the pages' own views stay as they are."""

from collections import Counter
from typing import Any

from django import template
from django.core.cache import cache
from django.db.models import QuerySet
from django.db.models.functions import Substr

from kb.rules import Category
from tickets import selectors
from tickets.models import Agent, Direction, Status, Team, Ticket, TicketTransfer
from tickets.services.actions import custom_fields_for, ticket_links
from tickets.services.merging import merges_undoable

register = template.Library()

# How many recent tagged tickets the tag suggestions are drawn from.
_TAG_SAMPLE = 500
# The suggestions are counted again at most this often: with few tagged tickets, finding
# the last 500 of them reads much of the tickets table, on every ticket page.
TAG_SUGGESTIONS_SECONDS = 300
_TAG_CACHE_KEY = "tickets:tag-suggestions"


def _tags_counted(limit: int) -> list[str]:
    counts: Counter[str] = Counter()
    for tags in (
        Ticket.objects.exclude(tags=[]).order_by("-pk").values_list("tags", flat=True)[:_TAG_SAMPLE]
    ):
        counts.update(str(tag) for tag in tags or [])
    return [tag for tag, _count in counts.most_common(limit)]


def tag_suggestions(limit: int = 30) -> list[str]:
    """The tags most used on recent tickets (counted at most every few minutes)."""
    key = f"{_TAG_CACHE_KEY}:{limit}"
    found = cache.get(key)
    if found is None:
        found = _tags_counted(limit)
        cache.set(key, found, TAG_SUGGESTIONS_SECONDS)
    return list(found)


def _categories(ticket: Ticket) -> list[str]:
    known = [
        Category.AFTER_SALES,
        Category.LOGISTICS,
        Category.TECH,
        Category.VALUE_ADDED,
    ]
    if ticket.category and ticket.category not in known:
        known.append(ticket.category)
    return known


def _transfer_shown(ticket: Ticket) -> TicketTransfer | None:
    """The latest transfer, while the ticket is still with the team it was sent to."""
    transfer = ticket.last_transfer
    if transfer is None or transfer.to_team_id != ticket.team_id:
        return None
    return transfer


def _transfer_agents() -> QuerySet[Agent]:
    """The agents a ticket can be given to, with what their names are made of."""
    return (
        Agent.objects.filter(user__is_active=True)
        .select_related("user")
        .only("user__username", "user__first_name", "user__last_name")
        .order_by("user__username")
    )


@register.inclusion_tag("agent/_actions.html", takes_context=True)
def ticket_actions(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    request = context["request"]
    links = ticket_links(ticket)
    visible = (
        set(
            selectors.tickets_visible_to(request.user)
            .filter(pk__in=[t.pk for t in links])
            .values_list("pk", flat=True)
        )
        if links
        else set()
    )
    fields = custom_fields_for(ticket)
    values = ticket.custom_fields or {}
    return {
        "request": request,
        "ticket": ticket,
        "csrf_token": context.get("csrf_token"),
        "teams": Team.objects.order_by("name").only("name"),
        "agents": _transfer_agents(),
        "transfer": _transfer_shown(ticket),
        "links": [(other, other.pk in visible) for other in links],
        "merges": merges_undoable(ticket=ticket),
        "fields": [(field, values.get(field.key, "")) for field in fields],
        "tag_suggestions": tag_suggestions(),
        "categories": _categories(ticket),
        "split_messages": list(
            ticket.messages.filter(direction__in=[Direction.IN, Direction.OUT])
            .order_by("created_at", "pk")
            .only("pk", "ticket_id", "direction", "created_at", "channel")
            .annotate(head=Substr("body", 1, 60))[:100]
        ),
        "statuses": Status.choices,
    }


@register.inclusion_tag("agent/_actions_bulk.html", takes_context=True)
def queue_bulk_bar(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "teams": Team.objects.order_by("name"),
        "agents": Agent.objects.filter(user__is_active=True)
        .select_related("user")
        .order_by("user__username"),
        "statuses": Status.choices,
    }
