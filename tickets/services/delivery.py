"""Outbound messages: storing what Kefu sends, handing it to the channel's backend
(`tickets.delivery`, chosen in settings) and recording what became of it.
"""

from collections.abc import Sequence
from datetime import datetime
from email.utils import make_msgid

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from kefu.celery import task_queue
from tickets import events
from tickets.compose import attachment_link
from tickets.delivery import (
    DeliveryResult,
    Outbound,
    OutboundFile,
    TransientDeliveryError,
    backend_for,
)
from tickets.models import (
    Channel,
    ContactIdentity,
    Customer,
    DeliveryStatus,
    Direction,
    EventKind,
    IdentityKind,
    Message,
    Ticket,
)
from tickets.services import outbox
from tickets.services.trail import event_record, ticket_publish

# Which identity a reply on a channel is addressed to.
CHANNEL_ADDRESS = {
    Channel.APP: IdentityKind.APP_USER,
    Channel.CHAT: IdentityKind.APP_USER,
    Channel.SMS: IdentityKind.PHONE,
    Channel.PHONE: IdentityKind.PHONE,
    Channel.EMAIL: IdentityKind.EMAIL,
    Channel.WEB: IdentityKind.EMAIL,
}


def ticket_acknowledge(*, ticket: Ticket, text: str) -> Message:
    """Send the customer an automatic acknowledgement on the ticket's channel. It is on the
    timeline and delivered like a reply, but marked automatic: it is no response for the SLA
    and goes out with the headers that stop other systems answering it.

    Inside a caller's transaction (email intake) it joins that transaction without a
    savepoint of its own: a failure here fails the caller's whole transaction anyway."""
    with transaction.atomic(savepoint=False):
        return automatic_message(ticket=ticket, body=text, is_bot=False, now=timezone.now())


def automatic_message(*, ticket: Ticket, body: str, is_bot: bool, now: datetime) -> Message:
    """A message Kefu itself sends the customer on the ticket's channel, delivered after
    commit like a reply."""
    message = Message.objects.create(
        ticket=ticket,
        direction=Direction.OUT,
        channel=ticket.channel,
        body=body,
        delivery_status=DeliveryStatus.QUEUED,
        created_at=now,
        email_message_id=new_message_id(),
        is_automatic=True,
        is_bot=is_bot,
        delivery_due_at=now,
    )
    message_id = message.pk
    transaction.on_commit(lambda: deliver_later(message_id))
    return message


def message_mark_bounced(*, email_message_id: str, reason: str) -> Message | None:
    """A delivery failure report came back for one of our emails: mark it failed."""
    message = (
        Message.objects.select_related("ticket")
        .filter(email_message_id=email_message_id, direction=Direction.OUT)
        .first()
    )
    if message is None:
        return None
    return message_delivery_update(
        message=message,
        status=DeliveryStatus.FAILED,
        reference=message.delivery_ref,
        error=f"bounced: {reason}" if reason else "bounced",
    )


def deliver_later(message_id: int) -> None:
    """Queue the message's delivery (after the commit that stored it). Never raises: if the
    broker is down the outbox sweep sends it later."""
    from tickets.tasks import deliver_message

    task_queue(deliver_message, message_id)


def deliver_later_many(message_ids: Sequence[int]) -> None:
    """`deliver_later` for a batch (a few hundred notices or invitations): one message to
    the broker, whose task queues each delivery in the worker, rather than one round trip
    per message on the batch's own path. Each message is stored as queued and due, so the
    outbox sweep sends any the broker lost."""
    from tickets.tasks import deliver_messages

    if len(message_ids) == 1:
        deliver_later(message_ids[0])
    elif message_ids:
        task_queue(deliver_messages, list(message_ids))


def customer_address(
    customer: Customer, channel: str, *, identities: Sequence[ContactIdentity] | None = None
) -> str | None:
    """The customer's newest address on `channel`. `identities`: the customer's identities
    when the caller has read them already (a batch of notices); else they are read."""
    kind = CHANNEL_ADDRESS.get(Channel(channel))
    if identities is None:
        identity = customer.identities.filter(kind=kind).order_by("-created_at").first()
    else:
        identity = max(
            (known for known in identities if known.kind == kind),
            key=lambda known: known.created_at,
            default=None,
        )
    return identity.value if identity else None


def message_deliver(*, message_id: int) -> Message:
    """Send a queued outbound message through its channel's backend and record the outcome.

    Runs in a Celery task that may run twice or more (the outbox sweep queues it again when
    it is due): only the worker that claims the due delivery sends it. A failure that may
    pass (TransientDeliveryError) makes it due again after a backoff, and after
    DELIVERY_MAX_ATTEMPTS it is failed for good, visibly, for an agent to retry.
    """
    now = timezone.now()
    if not outbox.delivery_claim(message_id, now=now):
        return Message.objects.get(pk=message_id)
    message = Message.objects.select_related("ticket__customer", "recipient").get(pk=message_id)
    ticket = message.ticket
    address = (
        message.recipient.value
        if message.recipient is not None
        else customer_address(ticket.customer, message.channel)
    )
    if message.channel == Channel.WEB:
        # The self-service page is where the customer reads it: there it is the moment it is
        # stored (a notice on the channel that reaches them says there is something to read).
        result = DeliveryResult(status=DeliveryStatus.DELIVERED)
    elif address is None:
        result = DeliveryResult(status=DeliveryStatus.FAILED, error="no address on this channel")
    else:
        files = _outbound_files(message)
        outbound = Outbound(
            channel=message.channel,
            to=address,
            body=_body_with_files(message, files),
            html=message.html if message.channel == Channel.EMAIL else "",
            attachments=files,
            subject=message.subject if message.notice and message.subject else ticket.subject,
            ticket_number=ticket.number,
            reference=f"kefu-{message.pk}",
            kind=_outbound_kind(message),
            message_id=message.email_message_id,
            thread_message_ids=_thread_ids(ticket=ticket, before=message),
            reply_token=ticket.reply_token or "",
        )
        try:
            result = backend_for(message.channel).send(outbound)
        except TransientDeliveryError as error:
            attempts = message.delivery_attempts + 1
            if attempts >= settings.DELIVERY_MAX_ATTEMPTS:
                Message.objects.filter(pk=message.pk).update(delivery_attempts=attempts)
                message.delivery_attempts = attempts
                return message_delivery_update(
                    message=message, status=DeliveryStatus.FAILED, reference="", error=str(error)
                )
            Message.objects.filter(pk=message.pk).update(
                delivery_attempts=F("delivery_attempts") + 1,
                delivery_error=str(error)[:500],
                delivery_due_at=now + outbox.retry_delay(attempts),
            )
            message.refresh_from_db()
            return message
    return message_delivery_update(
        message=message, status=result.status, reference=result.provider_id, error=result.error
    )


def _outbound_files(message: Message) -> tuple[OutboundFile, ...]:
    if message.direction != Direction.OUT:
        return ()
    return tuple(
        OutboundFile(
            filename=item.filename,
            content_type=item.content_type,
            size=item.size,
            url=attachment_link(item),
            storage_name=item.file.name or "",
        )
        for item in message.attachments.filter(refused_reason="").exclude(file="").order_by("pk")
    )


def _body_with_files(message: Message, files: tuple[OutboundFile, ...]) -> str:
    """The text as the channel carries it. Email attaches the files and chat shows them
    (from the message itself); the app gets a link per file under the text; an SMS cannot
    carry a file, nor a long link well: it says the files wait on the status page."""
    if not files or message.channel not in (Channel.SMS, Channel.APP):
        return message.body
    language = message.ticket.customer.language or settings.LANGUAGE_CODE
    with translation.override(language):
        if message.channel == Channel.APP:
            lines = [f"📎 {item.filename}: {item.url}" for item in files]
            return "\n".join([message.body, "", *lines])
        status_page = settings.KEFU_PUBLIC_URL.rstrip("/") + reverse("portal:lookup")
        note = ngettext(
            "(%(count)d attachment: see it on your ticket's status page, %(url)s)",
            "(%(count)d attachments: see them on your ticket's status page, %(url)s)",
            len(files),
        ) % {"count": len(files), "url": status_page}
        return f"{message.body}\n{note}"


def _outbound_kind(message: Message) -> str:
    if message.notice:
        return "notification"
    return "acknowledgement" if message.is_automatic else "reply"


def new_message_id() -> str:
    """A Message-ID for a message we send, on our own mail domain (without angle brackets)."""
    return make_msgid(domain=settings.KEFU_EMAIL_DOMAIN).strip("<>")


def _thread_ids(*, ticket: Ticket, before: Message) -> tuple[str, ...]:
    """The email ids of the ticket's earlier messages, oldest first (the References chain),
    capped so a long thread does not grow the header without bound."""
    ids = (
        ticket.messages.filter(created_at__lte=before.created_at)
        .exclude(pk=before.pk)
        .exclude(email_message_id="")
        .order_by("created_at", "pk")
        .values_list("email_message_id", flat=True)
    )
    chain = list(dict.fromkeys(ids))
    # RFC 5322 suggests keeping the first and the most recent ones when trimming.
    return tuple(chain[:1] + chain[1:][-19:]) if len(chain) > 20 else tuple(chain)


def message_delivery_update(
    *, message: Message, status: str, reference: str, error: str
) -> Message:
    """Record a delivery outcome (from the backend or a provider's status callback)."""
    if (
        status == DeliveryStatus.SENT
        and Message.objects.filter(pk=message.pk, delivery_status=DeliveryStatus.DELIVERED).exists()
    ):
        # The recipient's confirmation overtook the send's own answer (a chat widget confirms
        # before the backend returns; status callbacks arrive out of order): keep delivered.
        status = DeliveryStatus.DELIVERED
    message.delivery_status = status
    message.delivery_ref = reference or message.delivery_ref
    message.delivery_error = error[:500]
    if status != DeliveryStatus.QUEUED:
        message.delivery_due_at = None
    message.save(
        update_fields=["delivery_status", "delivery_ref", "delivery_error", "delivery_due_at"]
    )
    ticket = message.ticket
    event_record(
        ticket=ticket,
        kind=EventKind.DELIVERY,
        actor=None,
        data={"message": message.pk, "status": status, "error": error[:200]},
    )
    ticket_publish(ticket, events.delivery_changed(ticket, message), queues=False, board=False)
    return message


def message_delivery_retry(*, message: Message, actor: User) -> bool:
    """An agent sends a message that failed again: it is queued as new (attempts from zero)
    and delivered like a reply. False if it has not failed (sent meanwhile, or still
    sending): nothing is sent twice."""
    now = timezone.now()
    with transaction.atomic():
        retried = Message.objects.filter(
            pk=message.pk, direction=Direction.OUT, delivery_status=DeliveryStatus.FAILED
        ).update(
            delivery_status=DeliveryStatus.QUEUED,
            delivery_attempts=0,
            delivery_error="",
            delivery_due_at=now,
        )
        if not retried:
            return False
        message.refresh_from_db()
        ticket = message.ticket
        event_record(
            ticket=ticket,
            kind=EventKind.DELIVERY,
            actor=actor,
            data={"message": message.pk, "status": DeliveryStatus.QUEUED, "retry": True},
        )
        ticket_publish(ticket, events.delivery_changed(ticket, message), queues=False, board=False)
        message_id = message.pk
        transaction.on_commit(lambda: deliver_later(message_id))
    return True
