"""Celery tasks of the core. They take ids, may run twice, and call a service."""

import logging
from typing import Any

from celery import shared_task
from django.utils import timezone

from kefu.celery import task_queue
from tickets.delivery import Outbound
from tickets.models import Message
from tickets.orders import OrderLookupError
from tickets.services.bot import bot_consider as bot_consider_message
from tickets.services.bot_followup import bot_answers_ignored_record
from tickets.services.delivery import message_deliver
from tickets.services.notifications import notifications_deliver
from tickets.services.orders import message_orders_link
from tickets.services.outbox import outbox_sweep as outbox_sweep_run
from tickets.services.portal import status_code_send as portal_status_code_send
from tickets.services.retention import retention_run

logger = logging.getLogger("kefu.tickets")


@shared_task(name="tickets.tasks.deliver_message", ignore_result=True)
def deliver_message(message_id: int) -> None:
    """Send one outbound message. Retries are the outbox's (tickets/services/outbox.py), not
    Celery's: a failed attempt makes the message due again, and the sweep queues it."""
    try:
        message_deliver(message_id=message_id)
    except Message.DoesNotExist:
        # Its transaction did not survive (a database crash after an intake that committed
        # without waiting for the disk; the sweep takes the payload in again, with a new
        # acknowledgement), or it was deleted. Nothing to send.
        logger.warning("message %s to deliver does not exist; skipped", message_id)


@shared_task(name="tickets.tasks.deliver_messages", ignore_result=True)
def deliver_messages(message_ids: list[int]) -> None:
    """A batch's deliveries (`deliver_later_many`), each queued as its own task, so that
    they are sent in parallel by the workers and one slow provider call holds up no other."""
    for message_id in message_ids:
        task_queue(deliver_message, message_id)


@shared_task(name="tickets.tasks.outbox_sweep", ignore_result=True)
def outbox_sweep() -> dict[str, int]:
    """Queue the sends and bot decisions that are due (never queued, retries, dead workers)."""
    return outbox_sweep_run()


@shared_task(name="tickets.tasks.notifications_release", ignore_result=True)
def notifications_release() -> int:
    """Deliver notifications that were held for business hours and are now due."""
    return notifications_deliver()


@shared_task(name="tickets.tasks.bot_consider", ignore_result=True)
def bot_consider(message_id: int) -> None:
    """The answer bot looks at a customer message, after intake committed."""
    bot_consider_message(message_id=message_id)


@shared_task(name="tickets.tasks.bot_answers_ignored", ignore_result=True)
def bot_answers_ignored() -> int:
    """Record as ignored the bot answers nobody replied to within the feedback window."""
    return bot_answers_ignored_record(now=timezone.now())


@shared_task(
    name="tickets.tasks.orders_link",
    ignore_result=True,
    autoretry_for=(OrderLookupError,),
    retry_backoff=True,
    max_retries=5,
)
def orders_link(message_id: int) -> None:
    """Link the order numbers a customer message mentions to their owners (orders API)."""
    message_orders_link(message_id=message_id)


@shared_task(name="tickets.tasks.status_code_send", ignore_result=True)
def status_code_send(outbound: dict[str, Any]) -> None:
    """Send a status page's one-time code. It takes the message rather than an id: the code
    is stored only as a hash, so the message cannot be rebuilt from the database."""
    fields = {**outbound, "thread_message_ids": tuple(outbound.get("thread_message_ids", ()))}
    portal_status_code_send(outbound=Outbound(**fields))


@shared_task(name="tickets.tasks.retention_enforce", ignore_result=True)
def retention_enforce() -> dict[str, int]:
    """Delete or anonymise the personal data past its retention period (nightly)."""
    counts = retention_run(now=timezone.now(), dry_run=False)
    logger.info("retention: %s", ", ".join(f"{name}={count}" for name, count in counts.items()))
    return counts


@shared_task(name="tickets.tasks.presence_sweep", ignore_result=True)
def presence_sweep() -> dict[str, int]:
    """Every half minute: agents with no live socket go offline, idle ones away; then the
    tickets waiting in team queues go to whoever can take them (a shift that began, a task
    of `waiting_assign` that was lost)."""
    from tickets.services.assignment import waiting_tickets_assign
    from tickets.services.presence import presence_sweep as presence_sweep_run

    done = presence_sweep_run()
    done["assigned"] = waiting_tickets_assign()
    return done


@shared_task(name="tickets.tasks.waiting_assign", ignore_result=True)
def waiting_assign(team_ids: list[int]) -> int:
    """Give the waiting tickets of these teams to agents who can take them now (someone came
    online or closed a ticket)."""
    from tickets.services.assignment import waiting_tickets_assign

    return waiting_tickets_assign(team_ids=team_ids)
