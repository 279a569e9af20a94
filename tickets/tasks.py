"""Celery tasks of the core. They take ids, may run twice, and call a service."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from tickets.delivery import TransientDeliveryError
from tickets.models import Message
from tickets.orders import OrderLookupError
from tickets.services.bot import bot_consider as bot_consider_message
from tickets.services.bot_followup import bot_answers_ignored_record
from tickets.services.delivery import message_deliver, message_delivery_give_up
from tickets.services.notifications import notifications_deliver
from tickets.services.orders import message_orders_link
from tickets.services.retention import retention_run

logger = logging.getLogger("kefu.tickets")


@shared_task(bind=True, name="tickets.tasks.deliver_message", ignore_result=True)
def deliver_message(self, message_id: int) -> None:  # type: ignore[no-untyped-def]
    try:
        message_deliver(message_id=message_id)
    except Message.DoesNotExist:
        # Its transaction did not survive (a database crash after an intake that committed
        # without waiting for the disk; the sweep takes the payload in again, with a new
        # acknowledgement), or it was deleted. Nothing to send.
        logger.warning("message %s to deliver does not exist; skipped", message_id)
    except TransientDeliveryError as error:
        if self.request.retries + 1 >= settings.DELIVERY_MAX_ATTEMPTS:
            message_delivery_give_up(message_id=message_id, error=str(error))
            return
        if self.request.is_eager:
            # Eager mode (embedded) has no broker to hold a retry: give up at once, visibly.
            message_delivery_give_up(message_id=message_id, error=str(error))
            return
        raise self.retry(exc=error, countdown=2 ** (self.request.retries + 1)) from error


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


@shared_task(name="tickets.tasks.retention_enforce", ignore_result=True)
def retention_enforce() -> dict[str, int]:
    """Delete or anonymise the personal data past its retention period (nightly)."""
    counts = retention_run(now=timezone.now(), dry_run=False)
    logger.info("retention: %s", ", ".join(f"{name}={count}" for name, count in counts.items()))
    return counts
