"""Messages on a ticket's timeline (from the customer, to them, internal notes) and
their attachments.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.models.customers import ContactIdentity
from tickets.models.teams import Agent
from tickets.models.tickets import Channel, Ticket


class Direction(models.TextChoices):
    IN = "in", _("From customer")
    OUT = "out", _("To customer")
    NOTE = "note", _("Internal note")
    SYSTEM = "system", _("System")


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Sending…")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    NOT_APPLICABLE = "n/a", _("—")


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    author = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True)
    body = models.TextField(_("body"))
    # NULL (not "") for our own messages: the unique key below only covers provider ids.
    provider_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    delivery_status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.NOT_APPLICABLE
    )
    delivery_error = models.CharField(max_length=500, blank=True)
    # The provider's id for a message we sent (kept apart from `provider_id`, which is the
    # idempotency key of messages we received).
    delivery_ref = models.CharField(max_length=255, blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    # The outbox (tickets/services/outbox.py): when work still owed on this message is due,
    # its delivery (while `queued`) and the bot's look at it (a customer message). The worker
    # that starts the work moves the time a lease ahead, so the sweep queues it again only if
    # that worker died. NULL: nothing owed.
    delivery_due_at = models.DateTimeField(null=True, blank=True)
    bot_due_at = models.DateTimeField(null=True, blank=True)
    # The one-time key of the agent's reply form: the same form sent twice is one reply.
    client_token = models.CharField(max_length=64, blank=True)
    # Sent by Kefu itself (an acknowledgement, a bot answer), not written by a person: it
    # goes out marked as automatic and never counts as a response for the SLA.
    is_automatic = models.BooleanField(default=False)
    # Written by the answer bot (an automatic message that answers a question).
    is_bot = models.BooleanField(default=False)
    # A notice Kefu sent the customer on its own (a step of their after-sales case, a change
    # of their ticket): the event it announces ("case.refunded", "ticket.resolved"); "" for
    # every other message. It goes out as a notification, with its own `subject` by email.
    notice = models.CharField(_("notice"), max_length=40, blank=True, default="")
    sentiment = models.FloatField(_("sentiment"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent by the customer"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    html = models.TextField(_("HTML (sanitised)"), blank=True)
    quoted_text = models.TextField(_("quoted history"), blank=True)
    defects = models.JSONField(_("defects"), default=list, blank=True)
    # The email Message-ID of this message (theirs when inbound, ours when outbound), so a
    # reply's In-Reply-To/References lead back to the ticket.
    email_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    # A reply the agent sent to one particular contact of the customer (another channel
    # than the ticket's, when that one cannot reach them); NULL: the customer's latest
    # address on the message's channel.
    recipient = models.ForeignKey(
        ContactIdentity,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent to"),
    )

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        constraints = [
            # The idempotency key of intake: a provider's message id is unique per channel.
            models.UniqueConstraint(
                fields=["channel", "provider_id"],
                condition=Q(provider_id__isnull=False),
                name="tickets_message_provider_unique",
            ),
            models.UniqueConstraint(
                fields=["ticket", "client_token"],
                condition=~Q(client_token=""),
                name="tickets_message_client_token_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="tickets_msg_timeline"),
            # The outbox sweep's two questions: what is due (a handful of rows at most).
            models.Index(
                fields=["delivery_due_at"],
                condition=Q(delivery_due_at__isnull=False),
                name="tickets_msg_delivery_due",
            ),
            models.Index(
                fields=["bot_due_at"],
                condition=Q(bot_due_at__isnull=False),
                name="tickets_msg_bot_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.body[:40]}"

    @property
    def is_public(self) -> bool:
        return self.direction in (Direction.IN, Direction.OUT)


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=127)
    size = models.PositiveBigIntegerField(_("size"))
    md5 = models.CharField(max_length=32)
    sha256 = models.CharField(max_length=64)
    content_id = models.CharField(max_length=255, blank=True)
    is_inline = models.BooleanField(default=False)
    file = models.FileField(upload_to="attachments/%Y/%m/", null=True, blank=True)
    refused_reason = models.CharField(_("refused because"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename
