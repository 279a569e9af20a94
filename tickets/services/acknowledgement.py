"""The acknowledgement a customer gets when their message opens a ticket: the ticket's
number and the status page's link, in the customer's language, on the channel that reaches
them (a missed call's by SMS). Each channel's switch is in settings (`<CHANNEL>_AUTO_ACKNOWLEDGE`).
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tickets.models import Channel, Customer, DeliveryStatus, Direction, Message, Ticket
from tickets.services.delivery import customer_address, deliver_later, new_message_id

# The channel an acknowledgement of a ticket opened on a channel goes out on: a phone cannot
# carry text, so a missed call's goes by SMS to the number that called. The self-service
# page (web) shows the ticket itself and is not acknowledged.
ACKNOWLEDGE_ON = {
    Channel.APP: Channel.APP,
    Channel.CHAT: Channel.CHAT,
    Channel.SMS: Channel.SMS,
    Channel.EMAIL: Channel.EMAIL,
    Channel.PHONE: Channel.SMS,
}


def customer_language(customer: Customer) -> str:
    """The language Kefu writes to the customer in: theirs when Kefu speaks it, else the site's
    default (zh-Hans)."""
    language = (customer.language or "").lower()
    supported = {code for code, _name in settings.LANGUAGES}
    if language in supported:
        return language
    primary = language.split("-")[0]
    if primary == "zh":
        return "zh-hans"
    return primary if primary in supported else settings.LANGUAGE_CODE


def status_page_link() -> str:
    """The customer's status page, absolute when KEFU_PUBLIC_URL is set."""
    return settings.KEFU_PUBLIC_URL.rstrip("/") + "/status/"


def acknowledgement_text(*, ticket: Ticket) -> str:
    """The acknowledgement's text for a ticket, in the customer's language."""
    with translation.override(customer_language(ticket.customer)):
        if ticket.channel == Channel.PHONE:
            text = _(
                "Sorry we missed your call. We have opened ticket %(number)s and will call "
                "you back. Follow it at %(link)s"
            )
        elif ticket.channel == Channel.EMAIL:
            text = _(
                "We have received your message and opened ticket %(number)s. We will answer "
                "within our business hours. Reply to this email to add to the ticket. "
                "Follow it at %(link)s"
            )
        else:
            text = _(
                "We have received your message: your ticket number is %(number)s. We will "
                "answer as soon as we can. Follow it at %(link)s"
            )
        return text % {"number": ticket.number, "link": status_page_link()}


def ticket_acknowledge_opened(*, ticket: Ticket) -> Message | None:
    """Acknowledge a ticket a customer's message just opened, inside the caller's transaction
    (delivered after commit, like a reply; automatic, so no response for the SLA and sent
    with the headers that stop other systems answering it). Nothing when the ticket's
    channel's switch is off or the customer has no address on the acknowledging channel."""
    channel = ACKNOWLEDGE_ON.get(Channel(ticket.channel))
    if channel is None or not settings.AUTO_ACKNOWLEDGE.get(ticket.channel, False):
        return None
    if customer_address(ticket.customer, channel) is None:
        return None
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        message = Message.objects.create(
            ticket=ticket,
            direction=Direction.OUT,
            channel=channel,
            body=acknowledgement_text(ticket=ticket),
            delivery_status=DeliveryStatus.QUEUED,
            created_at=now,
            email_message_id=new_message_id(),
            is_automatic=True,
            is_bot=False,
            delivery_due_at=now,
        )
    message_id = message.pk
    transaction.on_commit(lambda: deliver_later(message_id))
    return message
