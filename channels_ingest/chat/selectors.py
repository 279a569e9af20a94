"""Reads for the chat widget: the visitor's conversation, its history, who is there to answer."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from channels_ingest.models import ChatSite
from sla.selectors import default_calendar_id, policy_for, work_calendar
from tickets.models import (
    Agent,
    AgentStatus,
    Channel,
    Direction,
    IdentityKind,
    Message,
    Team,
    Ticket,
)

# A conversation the bot or an agent has just resolved is still shown on reconnect for a
# while, so the visitor sees the answer that closed it.
RECENTLY_CLOSED = timedelta(hours=24)


def chat_site_active(key: str) -> ChatSite | None:
    return ChatSite.objects.filter(key=key, is_active=True).select_related("team").first()


def conversation_for(*, address: str, now: datetime) -> Ticket | None:
    """The visitor's chat ticket: the open one (intake threads into it), else the newest
    if it was closed recently."""
    ticket = (
        Ticket.objects.filter(
            channel=Channel.CHAT,
            customer__identities__kind=IdentityKind.APP_USER,
            customer__identities__value=address,
        )
        .order_by("-is_open", "-created_at", "-pk")
        .first()
    )
    if ticket is None or ticket.is_open or ticket.updated_at >= now - RECENTLY_CLOSED:
        return ticket
    return None


def conversation_history(*, ticket: Ticket, limit: int) -> list[Message]:
    """The last `limit` public messages of the ticket, oldest first. Internal notes and
    system lines never leave Kefu."""
    newest = (
        Message.objects.filter(ticket=ticket, direction__in=[Direction.IN, Direction.OUT])
        .select_related("author__user")
        .prefetch_related("attachments")
        .order_by("-created_at", "-pk")[:limit]
    )
    return list(reversed(newest))


def message_for_visitor(*, message_id: int) -> Message | None:
    return (
        Message.objects.filter(pk=message_id, direction__in=[Direction.IN, Direction.OUT])
        .select_related("author__user")
        .prefetch_related("attachments")
        .first()
    )


@dataclass(frozen=True)
class Availability:
    in_hours: bool  # within the answering team's business hours
    agents_available: (
        bool  # an active agent of that team is available and online (a page open, not busy or away)
    )
    opens_at: datetime | None  # the next opening when out of hours
    first_response_minutes: int | None  # the chat SLA's first-response target

    @property
    def is_online(self) -> bool:
        return self.in_hours and self.agents_available


def chat_availability(*, site: ChatSite, now: datetime) -> Availability:
    team = site.team or Team.objects.filter(is_default=True).first()
    calendar_id = (team.calendar_id if team else None) or default_calendar_id()
    in_hours, opens_at = True, None
    if calendar_id is not None:
        calendar = work_calendar(calendar_id)
        in_hours = calendar.is_open(now)
        if not in_hours:
            try:
                opens_at = calendar.next_open(now)
            except ValueError:  # a calendar with no working time at all
                opens_at = None
    agents = Agent.objects.filter(
        is_available=True, user__is_active=True, status=AgentStatus.ONLINE
    )
    if team is not None:
        agents = agents.filter(teams=team)
    policy = policy_for(
        {
            "tier": "regular",
            "channel": Channel.CHAT.value,
            "team": team.pk if team else None,
            "category": "",
            "vip": False,
            "tags": [],
        }
    )
    return Availability(
        in_hours=in_hours,
        agents_available=agents.exists(),
        opens_at=opens_at,
        first_response_minutes=policy.first_response_minutes if policy else None,
    )
