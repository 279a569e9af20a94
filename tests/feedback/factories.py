"""Test data for quality inspection: a conversation with its messages at given times, the
stock scorecard, a team's sampling rule and a submitted review."""

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from feedback.models import Rating, Review, SamplingRule, Scorecard
from feedback.services.reviews import ItemRating, review_submit
from feedback.services.scorecards import scorecard_current, scorecard_default
from tests.factories import intake
from tickets.models import Agent, Message, Team, Ticket
from tickets.services.workflow import ticket_reply

# A Monday; its week is the one the tests draw.
WEEK = date(2026, 11, 23)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in WEEK (day 0 = Monday), in the deployment's zone."""
    return datetime.combine(
        WEEK + timedelta(days=day), time(hour, minute), tzinfo=ZoneInfo(settings.TIME_ZONE)
    )


def conversation(
    *, agent: Agent, turns: Sequence[tuple[str, str, datetime]], user_id: str | None = None
) -> Ticket:
    """A ticket whose messages are `turns` of ("in" | "out", text, when): the customer's
    through intake, the agent's through the reply service, then moved to their times."""
    ticket: Ticket | None = None
    customer = user_id or f"qc-{id(turns)}-{len(turns)}-{turns[0][1][:6]}"
    for direction, text, when in turns:
        if direction == "in":
            result = intake(text=text, user_id=customer)
            ticket = result.ticket
            message = result.message
        else:
            assert ticket is not None, "a conversation starts with the customer"
            message = ticket_reply(ticket=ticket, author=agent, body=text)
        Message.objects.filter(pk=message.pk).update(created_at=when)
    assert ticket is not None
    return Ticket.objects.get(pk=ticket.pk)


def rule_for(team: Team, *, scorecard: Scorecard | None = None, **values: object) -> SamplingRule:
    defaults: dict[str, object] = {
        "random_percent": 0,
        "complaints": True,
        "low_csat": True,
        "sla_breached": True,
        "keywords": [],
    }
    defaults.update(values)
    return SamplingRule.objects.create(
        team=team, scorecard=scorecard or scorecard_default(), **defaults
    )


def review(
    *,
    ticket: Ticket,
    agent: Agent,
    reviewer: object,
    ratings: dict[str, str] | None = None,
    scorecard: Scorecard | None = None,
) -> Review:
    """A review rating every item met, except those named (by English name) in `ratings`."""
    version = scorecard_current(scorecard or scorecard_default())
    given = {
        item.pk: ItemRating(rating=(ratings or {}).get(item.name_en, Rating.MET))
        for item in version.items.all()
    }
    return review_submit(
        ticket=ticket,
        agent=agent,
        reviewer=reviewer,  # type: ignore[arg-type]
        version=version,
        ratings=given,
        comment="",
    )
