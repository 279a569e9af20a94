"""What became of a bot answer the customer never replied to.

The answer bot ends every answer with "did this help?". A yes or a no comes back through
intake and `services.bot_consider` records it (helpful, handed off). Silence produces no
message at all, so nothing would ever be recorded and the deflection figures would count
only the answers someone replied to. Here a periodic task records those answers as ignored
once the customer has been quiet for `BOT_FEEDBACK_WINDOW_HOURS`.

An ignored answer changes nothing a person sees: the ticket keeps its status, team, assignee
and SLA clocks, and stays in the agents' queue as it was. Only the bot's memory of the
conversation moves on (it no longer waits for a yes or a no), so a later message is a new
question to it rather than a late reply.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery

from kb.models import DeflectionOutcome, DeflectionRecord
from kb.services import deflection_record
from tickets.models import Direction, Message, Ticket

logger = logging.getLogger("kefu.tickets")

# Tickets examined per run; the next run (minutes later) takes the rest.
BATCH_SIZE = 500


def feedback_window() -> timedelta:
    return timedelta(hours=settings.BOT_FEEDBACK_WINDOW_HOURS)


def _last_bot_message(ticket_ref: OuterRef) -> Subquery:
    return Subquery(
        Message.objects.filter(ticket=ticket_ref, is_bot=True, direction=Direction.OUT)
        .order_by("-created_at", "-pk")
        .values("created_at")[:1]
    )


def bot_answers_unanswered(*, now: datetime, limit: int = BATCH_SIZE) -> list[int]:
    """Ids of tickets whose bot is still waiting for feedback on its last answer, sent more
    than the window before `now`, with no customer message since."""
    cutoff = now - feedback_window()
    # The bot's state marks the conversations waiting for a yes or a no; the messages decide.
    # Tickets are scanned on that JSON key (it has no index): after a run only the answers of
    # the last few minutes are still waiting, so the matching rows stay few.
    waiting = (
        Ticket.objects.filter(bot_state__awaiting_feedback=True, bot_state__has_key="last_article")
        .annotate(answered_at=_last_bot_message(OuterRef("pk")))
        .filter(answered_at__lte=cutoff)
        .exclude(
            Exists(
                Message.objects.filter(
                    ticket=OuterRef("pk"),
                    direction=Direction.IN,
                    created_at__gt=OuterRef("answered_at"),
                )
            )
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return list(waiting[:limit])


def bot_answer_ignored_record(*, ticket_id: int, now: datetime) -> DeflectionRecord | None:
    """Record the ticket's last bot answer as ignored, if the customer has written nothing
    since it for the whole window. Returns the record, or None when there was nothing to
    record (no answer waiting, too recent, or the customer replied). Safe to run twice and
    beside the bot: the ticket row is locked and the state re-read under the lock, and the
    record is unique per answer."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
        if ticket is None:
            return None
        state = dict(ticket.bot_state or {})
        article_id = state.get("last_article")
        if not state.get("awaiting_feedback") or article_id is None:
            return None
        answer = (
            ticket.messages.filter(is_bot=True, direction=Direction.OUT)
            .order_by("-created_at", "-pk")
            .first()
        )
        if answer is None or answer.created_at > now - feedback_window():
            return None
        # A reply that intake has stored but the bot has not read yet still counts: the bot
        # will take it from here (as feedback or as a new question).
        if ticket.messages.filter(
            direction=Direction.IN, created_at__gt=answer.created_at
        ).exists():
            return None
        record = deflection_record(
            article_id=int(article_id),
            channel=answer.channel,
            outcome=DeflectionOutcome.IGNORED,
            reference=ticket.number,
        )
        ticket.bot_state = {**state, "awaiting_feedback": False}
        ticket.save(update_fields=["bot_state"])
    logger.info("bot answer on %s ignored (article %s)", ticket.number, article_id)
    return record


def bot_answers_ignored_record(*, now: datetime) -> int:
    """Record every bot answer left without a reply for the whole window as ignored; the
    number recorded."""
    recorded = 0
    for ticket_id in bot_answers_unanswered(now=now):
        if bot_answer_ignored_record(ticket_id=ticket_id, now=now) is not None:
            recorded += 1
    return recorded
