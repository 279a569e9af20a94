"""The raw inbound log and the outbox."""

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.fields import EncryptedCharField


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
            ),
            # What a drain looks for: a channel's records still waiting, oldest first.
            models.Index(
                fields=["channel", "id"],
                condition=Q(state="received"),
                name="channels_inbound_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.provider_id}"


class DeadLetter(InboundRecord):
    """The inbound log's records that did not become messages: refused ones (failed, with the
    reason) and ones still waiting long after arrival. Its own admin page, to retry them."""

    class Meta:
        proxy = True
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")


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
        # Not the address: this names the entry in the admin, where addresses are masked.
        return f"{self.channel} {self.kind} #{self.pk}"


class SmsChannel(models.Model):
    """A Twilio(-compatible) number: its credentials sign webhooks and send replies."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    number = models.CharField(_("number (E.164)"), max_length=20, unique=True)
    account_sid = models.CharField(_("account SID"), max_length=64)
    auth_token = EncryptedCharField(_("auth token"), max_length=128)
    api_base = models.URLField(_("API base URL"), default="https://api.twilio.com")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SMS channel")
        verbose_name_plural = _("SMS channels")

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"


def new_gateway_secret() -> str:
    return secrets.token_urlsafe(32)


class SmsGateway(models.Model):
    """An SMS gateway that speaks Kefu's generic JSON webhook (docs/sms.md): it signs each
    request with HMAC-SHA256 over a timestamp and the body, using this secret."""

    name = models.SlugField(_("name"), max_length=50, unique=True)
    secret = EncryptedCharField(
        _("signing secret"),
        max_length=128,
        default=new_gateway_secret,
        help_text=_("Shared with the gateway; it signs every webhook request with it."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("SMS gateway")
        verbose_name_plural = _("SMS gateways")

    def __str__(self) -> str:
        return self.name


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


class MailboxSecurity(models.TextChoices):
    SSL = "ssl", _("SSL/TLS")
    STARTTLS = "starttls", _("STARTTLS")
    NONE = "none", _("None (plain text)")


class MailboxAction(models.TextChoices):
    MOVE = "move", _("Move to a folder")
    FLAG = "flag", _("Set a flag")


class Mailbox(models.Model):
    """An IMAP mailbox polled for customer mail.

    ``last_uid`` is only meaningful together with ``uidvalidity``: when the server reports a
    different UIDVALIDITY the poller starts again from UID 1 and relies on the inbound log's
    unique (channel, provider id) to skip what it already has.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    host = models.CharField(_("host"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(
        _("security"), max_length=10, choices=MailboxSecurity.choices, default=MailboxSecurity.SSL
    )
    username = models.CharField(_("username"), max_length=255)
    secret = EncryptedCharField(_("password"), max_length=255)
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    action = models.CharField(
        _("after processing"),
        max_length=10,
        choices=MailboxAction.choices,
        default=MailboxAction.MOVE,
    )
    processed_folder = models.CharField(
        _("processed folder"), max_length=255, default="Kefu/Processed"
    )
    processed_flag = models.CharField(_("processed flag"), max_length=100, default="\\Seen")
    is_active = models.BooleanField(_("active"), default=True)
    uidvalidity = models.BigIntegerField(_("UIDVALIDITY"), null=True, blank=True)
    last_uid = models.BigIntegerField(_("last UID"), default=0)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return self.name


def new_chat_site_key() -> str:
    return secrets.token_urlsafe(12)


def new_chat_site_secret() -> str:
    return secrets.token_hex(32)


class ChatSite(models.Model):
    """A website that embeds the chat widget. The key is public (it is in the page); the
    secret stays on the shop's server, which signs the ids of its signed-in users with it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    key = models.CharField(_("site key"), max_length=40, unique=True, default=new_chat_site_key)
    secret = EncryptedCharField(
        _("signing secret"),
        max_length=128,
        default=new_chat_site_secret,
        help_text=_("Signs visitor ids (HMAC-SHA256). Keep it on the shop's server."),
    )
    allowed_origins = models.TextField(
        _("allowed origins"),
        blank=True,
        help_text=_("One origin per line, e.g. https://shop.example. Other pages are refused."),
    )
    team = models.ForeignKey(
        "tickets.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("team"),
        help_text=_(
            "Answers this site's chats (new chat tickets go to it) and its availability is what "
            "the widget shows; empty: routing rules and the default team."
        ),
    )
    allows_anonymous = models.BooleanField(
        _("anonymous visitors may chat"),
        default=True,
        help_text=_("Visitors who are not signed in chat under a random id kept in the browser."),
    )
    anonymous_requires_signature = models.BooleanField(
        _("anonymous visitor ids must be signed"),
        default=False,
        help_text=_(
            "The shop's page hands each anonymous visitor an id signed with the site's secret; "
            "unsigned or forged ids are refused."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("chat site")
        verbose_name_plural = _("chat sites")

    def __str__(self) -> str:
        return self.name

    def origins(self) -> set[str]:
        """The allowed origins, normalised (lower case, no trailing slash)."""
        return {
            line.strip().rstrip("/").lower()
            for line in self.allowed_origins.replace(",", "\n").splitlines()
            if line.strip()
        }


class PushPlatform(models.TextChoices):
    IOS = "ios", _("iOS")
    ANDROID = "android", _("Android")


class PushToken(models.Model):
    """A device of an app user, registered by the shop's app backend; outbound app messages
    name the user's devices so the shop's push service can notify them."""

    user_id = models.CharField(_("app user id"), max_length=100, db_index=True)
    platform = models.CharField(_("platform"), max_length=10, choices=PushPlatform.choices)
    token = models.CharField(_("token"), max_length=512)
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last registered"), auto_now=True)

    class Meta:
        verbose_name = _("push token")
        verbose_name_plural = _("push tokens")
        constraints = [
            models.UniqueConstraint(fields=["platform", "token"], name="channels_push_token_unique")
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.token[:12]}…"


class Pbx(models.Model):
    """A phone system that posts call events to `/webhooks/phone/<name>/` with its token.

    Only a SHA-256 of the token is kept (as for integration tokens); the token itself is shown
    once, when it is issued (`manage.py issue_pbx_token NAME`, or the admin).
    """

    name = models.SlugField(_("name"), max_length=50, unique=True)
    prefix = models.CharField(_("token prefix"), max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    default_team = models.ForeignKey(
        "tickets.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("default team"),
        help_text=_("Gets the screen pops of calls in queues not mapped below."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("PBX")
        verbose_name_plural = _("PBXs")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class PbxQueue(models.Model):
    """Which team hears the calls of one of the PBX's queues (hunt group, ACD queue)."""

    pbx = models.ForeignKey(Pbx, on_delete=models.CASCADE, related_name="queues")
    queue = models.CharField(_("queue"), max_length=100)
    team = models.ForeignKey("tickets.Team", on_delete=models.CASCADE, verbose_name=_("team"))

    class Meta:
        verbose_name = _("PBX queue")
        verbose_name_plural = _("PBX queues")
        constraints = [
            models.UniqueConstraint(fields=["pbx", "queue"], name="channels_pbx_queue_unique")
        ]

    def __str__(self) -> str:
        return f"{self.pbx.name}/{self.queue} → {self.team_id}"


class BlockedNumber(models.Model):
    """A caller the PBXs are told to reject (spam, abuse), on every PBX."""

    phone = models.CharField(_("phone (E.164)"), max_length=20, unique=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("blocked number")
        verbose_name_plural = _("blocked numbers")

    def __str__(self) -> str:
        return self.phone

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from tickets.identity import normalise_phone

        try:
            self.phone = normalise_phone(self.phone)
        except ValidationError as error:
            raise ValidationError({"phone": error.messages}) from error
