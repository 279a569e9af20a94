"""Customers, identities, teams, agents, tickets, messages and the trail of what happened."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sla.models import BusinessCalendar, Tier


class Channel(models.TextChoices):
    APP = "app", _("App")
    CHAT = "chat", _("Web chat")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    WEB = "web", _("Self-service")


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200, blank=True)
    is_vip = models.BooleanField(_("VIP"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Set while this record is merged into another customer (see CustomerMerge).
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_customers",
        verbose_name=_("merged into"),
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"


class IdentityKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    APP_USER = "app_user", _("App user")
    ORDER = "order", _("Order number")


class ContactIdentity(models.Model):
    """One way to recognise a customer. Values are normalised (E.164 phones, lower-case
    email) so that the same person writing from anywhere is one customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(_("kind"), max_length=20, choices=IdentityKind.choices)
    value = models.CharField(_("value"), max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact identity")
        verbose_name_plural = _("contact identities")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="tickets_identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Department(models.TextChoices):
    CUSTOMER_SERVICE = "customer_service", _("Customer service")
    TECH_SUPPORT = "tech_support", _("Tech support")
    LOGISTICS = "logistics", _("Logistics")
    AFTER_SALES = "after_sales", _("After-sales")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    department = models.CharField(_("department"), max_length=30, choices=Department.choices)
    is_default = models.BooleanField(
        _("default team"), default=False, help_text=_("Gets tickets no routing rule matches.")
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("business calendar"),
        help_text=_("The team's hours for SLA timers; empty for the policy's calendar."),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="tickets_one_default_team"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Agent(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    teams = models.ManyToManyField(Team, related_name="agents", blank=True)
    capacity = models.PositiveSmallIntegerField(_("capacity (open tickets)"), default=20)
    is_available = models.BooleanField(_("available"), default=True)

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class RoutingRule(models.Model):
    """Send tickets of a triage category to a team."""

    category = models.CharField(_("category"), max_length=50, unique=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return f"{self.category} → {self.team}"


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING_CUSTOMER = "pending_customer", _("Pending customer")
    PENDING_INTERNAL = "pending_internal", _("Pending internal")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING_CUSTOMER, Status.PENDING_INTERNAL)


class SlaState(models.TextChoices):
    OK = "ok", _("On track")
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")


# Lower sorts first in queues: urgent, then VIP, then regular, then value-added.
PRIORITY_URGENT = 0
PRIORITY_VIP = 1
PRIORITY_REGULAR = 2
PRIORITY_VALUE_ADDED = 3


class Ticket(models.Model):
    # The number contains the id, which intake draws from the sequence before the INSERT.
    number = models.CharField(_("number"), max_length=32, unique=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    # Derived by the database from the status, so it can never disagree with it; the queue's
    # partial indexes are on it. A save that changes the status leaves the instance's value
    # stale until it is read again (the services that change a status read it back).
    is_open = models.GeneratedField(
        expression=Q(status__in=OPEN_STATUSES),
        output_field=models.BooleanField(),
        db_persist=True,
    )
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, default=Tier.REGULAR)
    priority_rank = models.PositiveSmallIntegerField(default=PRIORITY_REGULAR)
    category = models.CharField(_("category"), max_length=50, blank=True)
    urgency_reasons = models.JSONField(_("why urgent"), default=list, blank=True)
    sentiment = models.FloatField(_("sentiment"), default=0.0)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True)
    assignee = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets"
    )
    sla_state = models.CharField(max_length=10, choices=SlaState.choices, default=SlaState.OK)
    sla_due_at = models.DateTimeField(_("next SLA due"), null=True, blank=True)
    awaiting_reply_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    plan_at = models.DateTimeField(_("plan proposed"), null=True, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    # The answer bot's memory of this conversation (kb.bot), and the articles it would
    # suggest to the agent who takes over.
    bot_state = models.JSONField(default=dict, blank=True)
    suggestions = models.JSONField(default=list, blank=True)
    # The token in this ticket's reply address (reply+TOKEN@…): a reply finds its ticket
    # even when the client dropped every other thread header.
    reply_token = models.CharField(max_length=32, unique=True, null=True, blank=True)
    previous = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followups",
        verbose_name=_("follows up on"),
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # The queue: open tickets of a team in priority order, paged by keyset.
            models.Index(
                fields=["team", "priority_rank", "created_at", "id"],
                condition=Q(is_open=True),
                name="tickets_queue_team",
            ),
            models.Index(
                fields=["assignee", "priority_rank", "created_at", "id"],
                condition=Q(is_open=True),
                name="tickets_queue_assignee",
            ),
            models.Index(
                fields=["team", "sla_due_at", "id"],
                condition=Q(is_open=True),
                name="tickets_queue_team_due",
            ),
            models.Index(fields=["customer", "channel", "is_open"], name="tickets_threading"),
            models.Index(fields=["first_response_at"], name="tickets_first_response"),
        ]

    def __str__(self) -> str:
        return self.number


class TicketPromise(models.Model):
    """The ticket a sender's next message on a channel goes to, promised before the message
    is taken in. Queued intake answers the sender with a ticket number at once and leaves the
    work to a worker; when the sender has no open ticket, a ticket id is reserved here and
    the worker opens the ticket under exactly that id and number.

    One row per (channel, identity). It outlives the opening of its ticket: until that ticket
    is closed, a message sent in the meantime is promised the same ticket, however its
    worker and the first one interleave. The row is replaced once the ticket has ended, or
    when the promised ticket never opened within a day (its message was refused)."""

    channel = models.CharField(_("channel"), max_length=20)
    kind = models.CharField(_("kind"), max_length=20, choices=IdentityKind.choices)
    value = models.CharField(_("value"), max_length=254)
    # Not a foreign key: the ticket does not exist until a worker opens it. Its number is
    # the local date of `promised_at` and this id (tickets.numbers).
    ticket_id = models.BigIntegerField(_("ticket id"))
    promised_at = models.DateTimeField(_("promised"))

    class Meta:
        verbose_name = _("ticket promise")
        verbose_name_plural = _("ticket promises")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "kind", "value"], name="tickets_promise_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.kind}:{self.value} -> #{self.ticket_id}"


class Direction(models.TextChoices):
    IN = "in", _("From customer")
    OUT = "out", _("To customer")
    NOTE = "note", _("Internal note")
    SYSTEM = "system", _("System")


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued")
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
    # Sent by Kefu itself (an acknowledgement, a bot answer), not written by a person: it
    # goes out marked as automatic and never counts as a response for the SLA.
    is_automatic = models.BooleanField(default=False)
    # Written by the answer bot (an automatic message that answers a question).
    is_bot = models.BooleanField(default=False)
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
            )
        ]
        indexes = [models.Index(fields=["ticket", "created_at"], name="tickets_msg_timeline")]

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


class EventKind(models.TextChoices):
    CREATED = "created", _("Ticket opened")
    MESSAGE_IN = "message_in", _("Customer wrote")
    REPLIED = "replied", _("Agent replied")
    NOTE = "note", _("Internal note")
    ASSIGNED = "assigned", _("Assigned")
    STATUS = "status", _("Status changed")
    DELIVERY = "delivery", _("Delivery status")
    SLA_WARNING = "sla_warning", _("SLA at risk")
    SLA_BREACH = "sla_breach", _("SLA breached")
    ESCALATED = "escalated", _("Escalated")
    PRIORITY = "priority", _("Priority changed")
    PLAN = "plan", _("Plan proposed")
    REOPENED = "reopened", _("Reopened by the customer")
    PII_REVEALED = "pii_revealed", _("Personal data revealed")
    CUSTOMER_MERGED = "customer_merged", _("Customer records merged")
    CUSTOMER_MERGE_UNDONE = "customer_unmerged", _("Customer merge undone")


class TicketEvent(models.Model):
    """The audit trail of a ticket: who did what, when."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="tickets_event_ticket")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"


class AuditEntry(models.Model):
    """Who changed or revealed what outside a ticket's own trail (customers, tokens)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    action = models.CharField(max_length=50)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=50)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class CustomerMerge(models.Model):
    """A supervisor merged one customer record (`source`) into another (`target`).

    `moved` lists the primary keys of what moved, per kind ("identities", "tickets",
    "calls"), and the source's own fields before the merge, so that undoing moves exactly
    those rows back, whatever was added to the target since."""

    source = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="merges_out",
        verbose_name=_("merged customer"),
    )
    target = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="merges_in", verbose_name=_("into")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    moved = models.JSONField(_("moved"), default=dict)
    created_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("undone by"),
    )

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.source_id} → {self.target_id}"


class IntegrationToken(models.Model):
    """A secret an integration (shop system, PBX, gateway) sends as `Token <key>`.

    Only a SHA-256 of the key is stored; the key itself is shown once when issued.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("integration token")
        verbose_name_plural = _("integration tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class StatusAccessCode(models.Model):
    """A one-time code that lets a customer see one ticket on the self-service page."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
    destination = models.CharField(max_length=254)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["ticket", "expires_at"], name="tickets_status_code")]

    def __str__(self) -> str:
        return f"code for {self.ticket_id}"


class Notification(models.Model):
    """A message to one staff user (an escalation, a breach on their ticket). Held until
    `deliver_after` when it should wait for business hours."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kefu_notifications"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=30)
    text = models.CharField(_("text"), max_length=500)
    created_at = models.DateTimeField(_("created"))
    deliver_after = models.DateTimeField(_("deliver after"))
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["deliver_after"],
                condition=Q(delivered_at__isnull=True),
                name="tickets_notification_due",
            ),
            models.Index(fields=["user", "read_at"], name="tickets_notification_user"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id}"


class CallDirection(models.TextChoices):
    IN = "in", _("Inbound")
    OUT = "out", _("Outbound")


class CallState(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    ENDED = "ended", _("Ended")


class CallCause(models.TextChoices):
    """Why a call ended, as the PBX reports it."""

    NORMAL_CLEARING = "normalClearing", _("Ended normally")
    BUSY = "busy", _("Busy")
    CANCEL = "cancel", _("Caller hung up")
    NO_ANSWER = "noAnswer", _("No answer")
    CONGESTION = "congestion", _("Network congestion")
    NOT_FOUND = "notFound", _("Number not found")
    FORWARDED = "forwarded", _("Forwarded")


class Call(models.Model):
    """A phone call as the PBX reported it, built up from its events (which may arrive late,
    twice or out of order). `customer` is empty while the number belongs to nobody known."""

    call_id = models.CharField(_("call id"), max_length=200, unique=True)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("customer"),
    )
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("ticket"),
    )
    direction = models.CharField(
        _("direction"), max_length=3, choices=CallDirection.choices, default=CallDirection.IN
    )
    # E.164 when the number is one; otherwise as the PBX sent it ("anonymous", an extension).
    from_number = models.CharField(_("from"), max_length=40, blank=True)
    to_number = models.CharField(_("to"), max_length=40, blank=True)
    queue = models.CharField(_("queue"), max_length=100, blank=True)
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("team")
    )
    state = models.CharField(
        _("state"), max_length=10, choices=CallState.choices, default=CallState.RINGING
    )
    cause = models.CharField(_("cause"), max_length=20, choices=CallCause.choices, blank=True)
    answered_by = models.ForeignKey(
        Agent,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("answered by"),
    )
    answering_number = models.CharField(_("answering number"), max_length=40, blank=True)
    started_at = models.DateTimeField(_("started"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    duration = models.PositiveIntegerField(_("talk time (seconds)"), null=True, blank=True)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    voicemail_url = models.URLField(_("voicemail"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "started_at"], name="tickets_call_customer"),
            # Calls of a number nobody is known by yet, attached when an agent creates them.
            models.Index(
                fields=["from_number"],
                condition=Q(customer__isnull=True, direction="in"),
                name="tickets_call_unknown_from",
            ),
            models.Index(
                fields=["to_number"],
                condition=Q(customer__isnull=True, direction="out"),
                name="tickets_call_unknown_to",
            ),
        ]

    def __str__(self) -> str:
        return self.call_id

    @property
    def customer_number(self) -> str:
        """The customer's side of the call: the caller inbound, the callee outbound."""
        return self.from_number if self.direction == CallDirection.IN else self.to_number
