"""The answer bot's turn on a customer message, after intake committed."""

from django.db import transaction
from django.utils import timezone

from kefu.celery import task_queue
from sla import services as sla_services
from tickets import events, hooks
from tickets.models import (
    Channel,
    Message,
    Status,
    Ticket,
)
from tickets.services import outbox
from tickets.services.delivery import automatic_message
from tickets.services.sla_clocks import sla_refresh
from tickets.services.trail import ticket_publish
from tickets.services.workflow import ticket_set_status

# Channels where the bot may answer before a person (kb.bot decides per channel whether it
# does, with its thresholds); email and phone are for people.
BOT_CHANNELS = {Channel.APP, Channel.CHAT, Channel.SMS, Channel.WEB}


def bot_later(message_id: int) -> None:
    """Queue the bot's look at a customer message (after the commit that stored it, with its
    `bot_due_at`). Never raises: if the broker is down the outbox sweep queues it later."""
    from tickets.tasks import bot_consider

    task_queue(bot_consider, message_id)


def bot_consider(*, message_id: int) -> Message | None:
    """Let the answer bot look at one customer message (after intake committed). It answers
    from the knowledge base when it is confident, hands off to a person otherwise, and the
    outcome is recorded for deflection analytics. Returns the bot's message, if it sent one.
    Runs in a task that may run twice: a message it already considered is skipped."""
    from kb.bot import DecisionKind, bot_reply
    from kb.services import deflection_record

    if not outbox.bot_claim(message_id, now=timezone.now()):
        return None  # not due: decided already, or another worker holds it
    message = Message.objects.get(pk=message_id)
    reply = None
    # The decision is taken on the state read under the ticket's lock: another message's turn
    # or the ignored-answer sweep (tickets.bot_followup) cannot change it meanwhile, so an
    # answer's outcome is recorded once.
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=message.ticket_id)
        # Owed no more once this commits, with the decision (or the decision not to).
        outbox.bot_done(message_id)
        state = dict(ticket.bot_state or {})
        if state.get("handed_off") or message_id in state.get("seen", []):
            return None
        decision = bot_reply(text=message.body, channel=message.channel, state=state)
        now = timezone.now()
        new_state = dict(decision.state)
        new_state["seen"] = [*state.get("seen", [])[-20:], message_id]
        if decision.kind == DecisionKind.HANDOFF:
            new_state["handed_off"] = True
        ticket.bot_state = new_state
        fields = ["bot_state"]
        if decision.suggestions:
            ticket.suggestions = [
                {"article_id": hit.article_id, "title": hit.title, "answer": hit.answer[:2000]}
                for hit in decision.suggestions[:3]
            ]
            fields.append("suggestions")
        ticket.save(update_fields=fields)
        if decision.text:
            reply = automatic_message(ticket=ticket, body=decision.text, is_bot=True, now=now)
            if sla_services.bot_answered(subject_id=ticket.pk, at=now):
                ticket.save(update_fields=sla_refresh(ticket))
            ticket_publish(ticket, events.message_added(ticket, reply), board=False)
        if decision.deflection_outcome:
            deflection_record(
                article_id=decision.deflection_article_id,
                channel=message.channel,
                outcome=decision.deflection_outcome,
                reference=ticket.number,
            )
        # A ticket an app's close guard holds open (a complaint awaiting its review) stays
        # open: the customer's "thanks" does not stand in for what the guard asks.
        if (
            decision.kind == DecisionKind.RESOLVED
            and ticket.is_open
            and not hooks.close_refusal(ticket, Status.RESOLVED, None)
        ):
            ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=None)
    return reply
