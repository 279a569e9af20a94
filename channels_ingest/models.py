"""The raw inbound log and the outbox."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class InboundState(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    FAILED = "failed", _("Failed")


class InboundRecord(models.Model):
    """A provider's payload exactly as it arrived, stored before we acknowledge it.

    Unique per (channel, provider id): a redelivery finds the first record and changes nothing.
    """

    channel = models.CharField(_("channel"), max_length=20)
    provider_id = models.CharField(_("provider id"), max_length=255)
    source = models.CharField(_("source"), max_length=100, blank=True)
    payload = models.JSONField(_("payload"))
    # The bytes as received, for channels whose payload is not JSON (raw MIME email).
    raw = models.BinaryField(_("raw bytes"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=InboundState.choices, default=InboundState.RECEIVED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    ticket_number = models.CharField(_("ticket"), max_length=32, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbound record")
        verbose_name_plural = _("inbound log")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_id"], name="channels_inbound_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=~Q(state="processed"),
                name="channels_inbound_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.provider_id}"


class OutboxEntry(models.Model):
    """What embedded mode would have sent, kept to be read at /outbox/."""

    channel = models.CharField(_("channel"), max_length=20)
    to = models.CharField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("body"))
    kind = models.CharField(_("kind"), max_length=20)
    ticket_number = models.CharField(_("ticket"), max_length=32, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("outbox entry")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} → {self.to}"


class SmsChannel(models.Model):
    """A Twilio(-compatible) number: its credentials sign webhooks and send replies."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    number = models.CharField(_("number (E.164)"), max_length=20, unique=True)
    account_sid = models.CharField(_("account SID"), max_length=64)
    auth_token = models.CharField(_("auth token"), max_length=128)
    api_base = models.URLField(_("API base URL"), default="https://api.twilio.com")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SMS channel")
        verbose_name_plural = _("SMS channels")

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"


class SmsOptOut(models.Model):
    """A number that asked not to receive SMS (STOP, TD, 退订); removed when it opts back in."""

    phone = models.CharField(_("phone"), max_length=20, unique=True)
    keyword = models.CharField(_("keyword"), max_length=20)
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("SMS opt-out")
        verbose_name_plural = _("SMS opt-outs")

    def __str__(self) -> str:
        return self.phone
