"""Tickets: their status, tier, queue rank and SLA summary, the promise of a ticket
number before intake, and the ticket's event trail.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.models.customers import Customer, IdentityKind
from tickets.models.teams import Agent, Team
from tickets.tiers import Tier


class Channel(models.TextChoices):
    APP = "app", _("App")
    CHAT = "chat", _("Web chat")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    WEB = "web", _("Self-service")
    STORE = "store", _("In store")


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
        # Django takes a Q here (a conditional expression); the stubs ask for an Expression.
        expression=Q(status__in=OPEN_STATUSES),  # type: ignore[arg-type]
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
    # Set when the ticket's personal content was removed (its customer erased, or retention):
    # its timings, status and SLA record stay for the statistics.
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True)
    # Acting on tickets (tickets/services/actions.py, merging.py): the survivor a merged
    # ticket points to (its customer's later messages go there), the store a counter ticket
    # was opened at, the values of the category's custom fields, and the latest transfer,
    # whose note the receiving team's queue shows.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_tickets",
        verbose_name=_("merged into"),
    )
    store = models.ForeignKey(
        "tickets.Store",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("store"),
    )
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    last_transfer = models.ForeignKey(
        "tickets.TicketTransfer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

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
            # The board's first responses today, read from the index alone (their opening
            # time with them): no visit to ticket rows scattered over the table.
            models.Index(
                fields=["first_response_at"],
                include=["created_at"],
                name="tickets_first_response_since",
            ),
            # The board's backlog by category and its age, from the open tickets alone.
            models.Index(
                fields=["category", "created_at"],
                condition=Q(is_open=True),
                name="tickets_open_category",
            ),
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
    AFTERSALES = "aftersales", _("After-sales case")
    ORDER_LINKED = "order_linked", _("Order linked")
    NOTICE = "notice", _("Customer notified")
    OPENED_BY_HAND = "opened_by_hand", _("Opened by an agent")
    TRANSFERRED = "transferred", _("Transferred")
    CATEGORY = "category", _("Category changed")
    MERGED = "merged", _("Merged into another ticket")
    MERGE_RECEIVED = "merge_received", _("Another ticket merged in")
    MERGE_UNDONE = "merge_undone", _("Merge undone")
    SPLIT = "split", _("Messages split off")
    SPLIT_FROM = "split_from", _("Split off another ticket")
    LINKED = "linked", _("Linked")
    UNLINKED = "unlinked", _("Link removed")
    TAGS = "tags", _("Tags changed")
    FIELDS = "fields", _("Fields changed")
    ACCESS_ASKED = "access_asked", _("Access asked")


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
