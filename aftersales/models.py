"""After-sales records: order snapshots (what the shop told us about an order, its items
and shipments) and the cases (售后单) customers open against them, with each case's step
history and the shop's events already applied to it."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from aftersales.steps import FINAL_STEPS, CaseType, Step
from tickets.models import Customer, Ticket


class OrderSource(models.TextChoices):
    API_FETCH = "api-fetch", _("Fetched from the orders API")
    PUSH = "push", _("Pushed by the shop")
    DEMO = "demo", _("Demo data")


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


class ProductType(models.TextChoices):
    """Kinds of goods with their own after-sales window (settings.AFTERSALES_WINDOW_HOURS)."""

    FRESH = "fresh", _("Fresh food")
    ELECTRONICS = "electronics", _("Electronics")
    GENERAL = "general", _("General goods")


class ShipmentStatus(models.TextChoices):
    PENDING = "pending", _("Not yet collected")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Exception")
    RETURNED = "returned", _("Returned to sender")


# A shipment in one of these is done moving; the anomaly scans look at all the others.
SHIPMENT_DONE = (ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED)


class Order(models.Model):
    """The latest snapshot of one of the shop's orders. Kefu never changes an order; it
    stores what the shop's push or the orders API said (`aftersales.services.orders`)."""

    number = models.CharField(_("order number"), max_length=64, unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer")
    )
    placed_at = models.DateTimeField(_("placed"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    goods_amount = models.DecimalField(_("goods amount"), max_digits=12, decimal_places=2)
    shipping_amount = models.DecimalField(
        _("shipping amount"), default=0, max_digits=12, decimal_places=2
    )
    paid_amount = models.DecimalField(_("paid amount"), max_digits=12, decimal_places=2)
    payment_status = models.CharField(
        _("payment status"), max_length=20, choices=PaymentStatus.choices
    )
    source = models.CharField(_("source"), max_length=10, choices=OrderSource.choices)
    # When Kefu last stored a snapshot, and when the shop says the order last changed (a
    # snapshot older than the stored one is ignored: pushes and fetches may cross).
    fetched_at = models.DateTimeField(_("fetched"))
    updated_at = models.DateTimeField(_("updated at the shop"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["customer", "-placed_at"], name="aftersales_order_cust")]

    def __str__(self) -> str:
        return self.number


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    product_type = models.CharField(
        _("product type"),
        max_length=20,
        choices=ProductType.choices,
        default=ProductType.GENERAL,
    )

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        constraints = [
            models.UniqueConstraint(fields=["order", "sku"], name="aftersales_item_sku"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} × {self.quantity}"


class Shipment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(_("carrier"), max_length=50)
    tracking_number = models.CharField(_("tracking number"), max_length=64)
    status = models.CharField(
        _("status"), max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.PENDING
    )
    last_event_at = models.DateTimeField(_("last event"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"], name="aftersales_shipment_tracking"
            ),
        ]
        indexes = [
            # The logistics anomaly scan ("no news for N hours") reads only shipments still on
            # the way, oldest news first; delivered ones are the vast majority and stay out.
            models.Index(
                fields=["last_event_at"],
                name="aftersales_ship_moving",
                condition=~Q(status__in=SHIPMENT_DONE),
            ),
            # A carrier's event names the parcel by its number; the carrier's code in it is
            # the aggregator's (shunfeng), which need not be the shop's (SF).
            models.Index(fields=["tracking_number"], name="aftersales_ship_number"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class TrackingEvent(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(_("status"), max_length=50)
    location = models.CharField(_("location"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"))
    raw = models.JSONField(_("as received"), default=dict, blank=True)

    class Meta:
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "at", "status"], name="aftersales_tracking_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.status} {self.at:%Y-%m-%d %H:%M}"


class Reason(models.Model):
    """Why a customer asks for after-sales; an editable list (seeded by the migration)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label_zh = models.CharField(_("label (Chinese)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("after-sales reason")
        verbose_name_plural = _("after-sales reasons")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The label in the active language (Chinese unless it is English)."""
        language = get_language() or ""
        return self.label_en if language.startswith("en") else self.label_zh


class OpenedBy(models.TextChoices):
    AGENT = "agent", _("An agent")
    CUSTOMER = "customer", _("The customer")
    API = "api", _("The shop's systems")


class Case(models.Model):
    """An after-sales case (售后单). `step` is where it stands; `steps` is how it got
    there. `refunded_amount` is the money actually given back on this case."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="cases", verbose_name=_("order")
    )
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ticket"),
    )
    type = models.CharField(_("type"), max_length=20, choices=CaseType.choices)
    reason = models.ForeignKey(Reason, on_delete=models.PROTECT, verbose_name=_("reason"))
    description = models.TextField(_("description"), blank=True)
    amount_requested = models.DecimalField(
        _("amount requested"), default=0, max_digits=12, decimal_places=2
    )
    refunded_amount = models.DecimalField(_("refunded"), default=0, max_digits=12, decimal_places=2)
    step = models.CharField(_("step"), max_length=20, choices=Step.choices, default=Step.SUBMITTED)
    is_open = models.GeneratedField(
        # Django takes a Q here (a conditional expression); the stubs ask for an Expression.
        expression=~Q(step__in=FINAL_STEPS),  # type: ignore[arg-type]
        output_field=models.BooleanField(),
        db_persist=True,
    )
    opened_by = models.CharField(_("opened by"), max_length=10, choices=OpenedBy.choices)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("after-sales case")
        verbose_name_plural = _("after-sales cases")
        indexes = [
            models.Index(fields=["order", "is_open"], name="aftersales_case_order"),
            models.Index(fields=["ticket"], name="aftersales_case_ticket"),
        ]

    def __str__(self) -> str:
        return self.number


class CaseSequence(models.Model):
    """The last case number drawn on a day: `AS` + date + this sequence."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("case number sequence")
        verbose_name_plural = _("case number sequences")

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class CaseItem(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="items")
    order_item = models.ForeignKey(OrderItem, on_delete=models.PROTECT, related_name="case_items")
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("case item")
        verbose_name_plural = _("case items")
        constraints = [
            models.UniqueConstraint(fields=["case", "order_item"], name="aftersales_case_item"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="aftersales_case_item_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.order_item_id} × {self.quantity}"


class CaseStep(models.Model):
    """One step a case took, by whom (None: the shop's systems or Kefu), with what it
    carried (a refund's amount and reference, a tracking number, the customer-visible
    reason of a rejection)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(_("step"), max_length=20, choices=Step.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("by"),
    )
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("case step")
        verbose_name_plural = _("case steps")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="aftersales_step_case")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.step}"


class EventStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    APPLIED = "applied", _("applied")
    WAITING = "waiting", _("waiting for the case")
    REFUSED = "refused", _("refused")
    FAILED = "failed", _("failed")


class CaseEvent(models.Model):
    """An event from the shop's systems about a case: stored when it arrives (the inbox),
    applied by a worker (aftersales.services.event_inbox), and kept with its outcome so a
    redelivery is recognised and answered as the first delivery stands."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(_("event id"), max_length=100)
    kind = models.CharField(_("kind"), max_length=50)
    data = models.JSONField(_("data"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received"))
    status = models.CharField(
        _("status"), max_length=10, choices=EventStatus.choices, default=EventStatus.QUEUED
    )
    # The step it made (applied); the guard's code and message (refused, waiting, failed).
    step = models.ForeignKey(
        CaseStep, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    code = models.CharField(_("code"), max_length=50, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        constraints = [
            models.UniqueConstraint(fields=["case", "event_id"], name="aftersales_event_once"),
        ]
        indexes = [
            # The worker's claim: queued events in arrival order.
            models.Index(
                fields=["id"],
                name="aftersales_event_queued",
                condition=Q(status="queued"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.event_id}"


def _photo_path(photo: "CasePhoto", filename: str) -> str:
    """A random name: nothing of the customer's own file name or of the case is in it."""
    return f"aftersales/photos/{uuid.uuid4().hex}.jpg"


class CasePhoto(models.Model):
    """A photo a customer sent with a case, re-encoded as JPEG (at most 2048 px on the long
    side, no EXIF: no camera location) by `aftersales.photos.photo_prepare`."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("file"), upload_to=_photo_path)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("case photo")
        verbose_name_plural = _("case photos")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.file.name}"


class LinkHow(models.TextChoices):
    AUTO = "auto", _("Automatically, from the customer's message")
    AGENT = "agent", _("By an agent")


class TicketOrder(models.Model):
    """The order a ticket is about (one per ticket): found in the customer's message, or
    chosen by an agent on the ticket page."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, related_name="+", verbose_name=_("ticket")
    )
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="ticket_links", verbose_name=_("order")
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("linked by"),
    )
    linked_at = models.DateTimeField(_("linked"))
    how = models.CharField(_("how"), max_length=10, choices=LinkHow.choices)

    class Meta:
        verbose_name = _("ticket's order")
        verbose_name_plural = _("tickets' orders")

    def __str__(self) -> str:
        return f"{self.ticket_id} → {self.order_id}"


class StepClock(models.TextChoices):
    """Where the clock of a case's current step stands (`aftersales.services.clocks`)."""

    NONE = "", _("No clock")
    RUNNING = "running", _("On time")
    AT_RISK = "at_risk", _("Near due")
    BREACHED = "breached", _("Past due")
    PAUSED = "paused", _("Waiting for the customer")


class CaseClock(models.Model):
    """The current step's deadline of a case, kept beside the case for lists and sorting:
    the SLA engine's clock is the truth (`aftersales.services.clocks`), this is its summary,
    written with every step and every warning or breach."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="clock")
    step = models.CharField(_("step"), max_length=20, choices=Step.choices)
    state = models.CharField(
        _("state"), max_length=10, choices=StepClock.choices, blank=True, default=""
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)

    class Meta:
        verbose_name = _("case step clock")
        verbose_name_plural = _("case step clocks")
        indexes = [models.Index(fields=["due_at"], name="aftersales_clock_due")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.step} {self.state}"


class WebhookStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One change of a case owed to the shop's webhook (settings.AFTERSALES_WEBHOOK_URL),
    written in the transaction of the change itself and delivered afterwards, in `sequence`
    order per case (`aftersales.services.webhook`)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="webhooks")
    sequence = models.PositiveIntegerField(_("sequence"))
    event_id = models.UUIDField(_("event id"), unique=True)
    event_type = models.CharField(_("event type"), max_length=50)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created"))
    # When the next attempt is due; moved a lease ahead while a worker sends it, cleared
    # once it is sent or failed for good.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=WebhookStatus.choices, default=WebhookStatus.PENDING
    )
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["case", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sequence"], name="aftersales_webhook_seq"),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="aftersales_webhook_due",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.sequence} {self.event_type} {self.status}"


class AnomalyKind(models.TextChoices):
    """What a logistics anomaly rule looks for (docs/aftersales.md)."""

    NO_SCAN = "no_scan", _("No new scan (超时)")
    STUCK_AT_HUB = "stuck_at_hub", _("Stuck at a sorting centre (分拨滞留)")
    DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
    RETURNED = "returned", _("Returned to sender")
    LOST = "lost", _("Lost")
    PERISHABLE_LATE = "perishable_late", _("Perishable order not delivered in time")


# Rules the scan checks on the clock; the others fire on a carrier's event.
SCANNED_KINDS = (AnomalyKind.NO_SCAN, AnomalyKind.STUCK_AT_HUB, AnomalyKind.PERISHABLE_LATE)


class AnomalyRule(models.Model):
    """One logistics anomaly rule, edited by supervisors at /aftersales/logistics/. One row
    per kind (seeded by the migration); `threshold_hours` is business hours for no_scan,
    real hours for the others, and unused by the rules that fire on an event."""

    kind = models.CharField(_("kind"), max_length=20, choices=AnomalyKind.choices, unique=True)
    label = models.CharField(_("label"), max_length=100)
    threshold_hours = models.PositiveIntegerField(_("threshold (hours)"), default=24)
    # Words that name a sorting centre in a scan's location or status (stuck_at_hub only).
    keywords = models.CharField(_("keywords"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("logistics anomaly rule")
        verbose_name_plural = _("logistics anomaly rules")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.label

    def keyword_list(self) -> list[str]:
        return [
            word.strip() for word in self.keywords.replace("，", ",").split(",") if word.strip()
        ]


class ShipmentAnomaly(models.Model):
    """A rule matched a shipment: the proactive ticket it opened, and when the shipment got
    going again (delivered). At most one open anomaly per shipment, held by the database, so
    two scans racing open one ticket."""

    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, related_name="anomalies", verbose_name=_("shipment")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AnomalyKind.choices)
    # The order's number as it was, for the ticket and the list (the order may be re-fetched).
    order_number = models.CharField(_("order number"), max_length=64)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    detected_at = models.DateTimeField(_("detected"))
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ticket"),
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("shipment anomaly")
        verbose_name_plural = _("shipment anomalies")
        constraints = [
            models.UniqueConstraint(
                fields=["shipment"],
                condition=Q(resolved_at__isnull=True),
                name="aftersales_anomaly_one_open",
            ),
        ]
        indexes = [
            # The open anomalies, newest first: the supervisors' list and the board's count.
            models.Index(
                fields=["-detected_at"],
                condition=Q(resolved_at__isnull=True),
                name="aftersales_anomaly_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.kind}"


# Notices live in their own module; imported here so Django registers them with the app.
from aftersales.notice_models import Notice, NoticeTemplate  # noqa: E402, F401
