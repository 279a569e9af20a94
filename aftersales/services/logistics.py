"""Carrier tracking events and logistics anomalies (docs/aftersales.md, "Logistics events and
anomalies").

`tracking_event_apply` takes one normalised carrier event (the edge turns each carrier's
format into it): stored once, the shipment moved forward (never back, for an event older
than what is known), and the rules that fire on an event checked. `anomaly_scan` runs on
the clock and checks the rules that fire on silence (no new scan, stuck at a sorting
centre, a perishable order late). A match opens one proactive ticket per shipment for the
logistics team, and the customer hears from us first.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from aftersales.models import (
    SCANNED_KINDS,
    SHIPMENT_DONE,
    AnomalyKind,
    AnomalyRule,
    LinkHow,
    OrderItem,
    ProductType,
    Shipment,
    ShipmentAnomaly,
    ShipmentStatus,
    TrackingEvent,
)
from aftersales.services.notices import notice_send
from aftersales.services.order_links import ticket_order_link
from sla.calendar import WorkCalendar, default_calendar
from sla.selectors import default_calendar_id, work_calendar
from tickets import events
from tickets.models import Department, Team, Ticket
from tickets.routing import routing_table
from tickets.services.proactive import ticket_open_proactive
from tickets.services.trail import ticket_publish

logger = logging.getLogger("kefu.aftersales.logistics")

# The statuses a normalised carrier event may carry: what each makes of the shipment, and
# the rule it fires (None: none).
EVENT_STATUSES: dict[str, tuple[str, str | None]] = {
    "pending": (ShipmentStatus.PENDING, None),
    "collected": (ShipmentStatus.IN_TRANSIT, None),
    "in_transit": (ShipmentStatus.IN_TRANSIT, None),
    "out_for_delivery": (ShipmentStatus.OUT_FOR_DELIVERY, None),
    "delivered": (ShipmentStatus.DELIVERED, None),
    "delivery_failed": (ShipmentStatus.EXCEPTION, AnomalyKind.DELIVERY_FAILED),
    "exception": (ShipmentStatus.EXCEPTION, AnomalyKind.DELIVERY_FAILED),
    "rejected": (ShipmentStatus.EXCEPTION, AnomalyKind.DELIVERY_FAILED),
    "returning": (ShipmentStatus.EXCEPTION, AnomalyKind.RETURNED),
    "returned": (ShipmentStatus.RETURNED, AnomalyKind.RETURNED),
    "lost": (ShipmentStatus.EXCEPTION, AnomalyKind.LOST),
}

# How many shipments one scan opens anomalies for, per rule; the next scan takes the rest.
SCAN_BATCH = 500

# What happened to the parcel, for the ticket's subject and the customer's apology.
_DETAILS = {
    AnomalyKind.NO_SCAN: gettext_lazy("has had no new scan for %(hours)d hours"),
    AnomalyKind.STUCK_AT_HUB: gettext_lazy("has been at a sorting centre for %(hours)d hours"),
    AnomalyKind.DELIVERY_FAILED: gettext_lazy("could not be delivered"),
    AnomalyKind.RETURNED: gettext_lazy("is going back to the sender"),
    AnomalyKind.LOST: gettext_lazy("is reported lost"),
    AnomalyKind.PERISHABLE_LATE: gettext_lazy(
        "(fresh goods) is not delivered %(hours)d hours after the order"
    ),
}


@dataclass(frozen=True)
class EventApplied:
    shipment: Shipment
    event: TrackingEvent
    created: bool  # False: the same event (shipment, time, status) was already stored
    anomaly: ShipmentAnomaly | None  # the anomaly this event opened, if any


def shipment_find(*, carrier: str, tracking_number: str) -> Shipment | None:
    """The shipment a carrier's event names. By tracking number; when several carriers share
    it, the one whose code matches (case aside). An aggregator's carrier codes (shunfeng) need
    not be the shop's (SF), so a number alone is enough when it is unique."""
    found = list(Shipment.objects.filter(tracking_number=tracking_number.strip())[:10])
    if len(found) == 1:
        return found[0]
    wanted = carrier.strip().casefold()
    matching = [shipment for shipment in found if shipment.carrier.casefold() == wanted]
    return matching[0] if len(matching) == 1 else None


def tracking_event_apply(
    *,
    carrier: str,
    tracking_number: str,
    status: str,
    location: str,
    at: datetime,
    raw: dict[str, Any],
    now: datetime | None = None,
) -> EventApplied | None:
    """Store one carrier event and move its shipment on. Returns None, and logs, for a
    tracking number Kefu does not know (the caller keeps the payload). Idempotent: the same
    (shipment, time, status) again changes nothing. An event older than the shipment's last
    one is kept in the history but does not change the shipment's status. A delivery
    resolves the shipment's open anomaly (its ticket stays with the agent); an event whose
    status has a rule (delivery failed, returned, lost) opens one."""
    if status not in EVENT_STATUSES:
        raise ValueError(f"unknown tracking status {status!r}")
    if timezone.is_naive(at):
        raise ValueError("the event's time must carry its time zone")
    now = now or timezone.now()
    shipment_status, kind = EVENT_STATUSES[status]
    with transaction.atomic():
        found = shipment_find(carrier=carrier, tracking_number=tracking_number)
        if found is None:
            logger.warning("tracking event for unknown parcel %s %s", carrier, tracking_number)
            return None
        # Events of one parcel take turns: the newest-wins check below reads what they write.
        shipment = Shipment.objects.select_for_update().select_related("order").get(pk=found.pk)
        event, created = TrackingEvent.objects.get_or_create(
            shipment=shipment,
            at=at,
            status=status,
            defaults={"location": location[:200], "raw": raw},
        )
        if not created:
            return EventApplied(shipment=shipment, event=event, created=False, anomaly=None)
        if shipment.last_event_at is not None and at < shipment.last_event_at:
            return EventApplied(shipment=shipment, event=event, created=True, anomaly=None)
        shipment.status = shipment_status
        shipment.last_event_at = at
        fields = ["status", "last_event_at"]
        if shipment_status == ShipmentStatus.DELIVERED:
            shipment.delivered_at = at
            fields.append("delivered_at")
        shipment.save(update_fields=fields)
        anomaly = None
        if shipment_status == ShipmentStatus.DELIVERED:
            anomalies_resolve(shipment=shipment, now=now)
        elif kind is not None and _rule(kind) is not None:
            anomaly = anomaly_open(shipment=shipment, kind=kind, hours=0, now=now)
    return EventApplied(shipment=shipment, event=event, created=True, anomaly=anomaly)


def anomalies_resolve(*, shipment: Shipment, now: datetime) -> int:
    """Mark the shipment's open anomaly resolved (the parcel arrived). Its ticket is left to
    the agent, who tells the customer or closes it."""
    open_anomalies = list(
        ShipmentAnomaly.objects.filter(shipment=shipment, resolved_at__isnull=True).select_related(
            "ticket"
        )
    )
    for anomaly in open_anomalies:
        anomaly.resolved_at = now
        anomaly.save(update_fields=["resolved_at"])
        if anomaly.ticket is not None:
            # The board counts open anomalies: tell it.
            ticket_publish(
                anomaly.ticket, events.ticket_updated(anomaly.ticket), page=False, queues=False
            )
    return len(open_anomalies)


def logistics_team() -> Team | None:
    """The team proactive logistics tickets go to: the team routing gives logistics
    questions when it is a logistics team, else the first logistics team, else the
    routing's answer (the default team)."""
    routed = routing_table().team_for("logistics")
    if routed is not None and routed.department == Department.LOGISTICS:
        return routed
    return Team.objects.filter(department=Department.LOGISTICS).order_by("pk").first() or routed


def anomaly_open(
    *, shipment: Shipment, kind: str, hours: int, now: datetime
) -> ShipmentAnomaly | None:
    """Record that a rule matched the shipment and open the proactive ticket: for the
    order's customer, on the logistics team, with the customer told first. None when the
    shipment already has an open anomaly (the database's unique index decides, so two scans
    racing open one ticket). `hours`: how long the parcel has been silent or late, for the
    texts."""
    order = shipment.order
    with translation.override(settings.LANGUAGE_CODE):
        detail = _detail(kind, hours)
    with transaction.atomic():
        try:
            with transaction.atomic():
                anomaly = ShipmentAnomaly.objects.create(
                    shipment=shipment,
                    kind=kind,
                    order_number=order.number,
                    detail=detail[:255],
                    detected_at=now,
                )
        except IntegrityError:
            return None
        with translation.override(settings.LANGUAGE_CODE):
            subject = gettext("Logistics anomaly: order %(order)s parcel %(parcel)s %(detail)s") % {
                "order": order.number,
                "parcel": shipment.tracking_number,
                "detail": detail,
            }
            note = gettext(
                "Opened by the logistics rule “%(rule)s”: carrier %(carrier)s, parcel "
                "%(parcel)s, order %(order)s, last carrier event %(last)s."
            ) % {
                "rule": AnomalyKind(kind).label,
                "carrier": shipment.carrier,
                "parcel": shipment.tracking_number,
                "order": order.number,
                "last": (
                    timezone.localtime(shipment.last_event_at).strftime("%Y-%m-%d %H:%M")
                    if shipment.last_event_at
                    else "—"
                ),
            }
        ticket = ticket_open_proactive(
            customer=order.customer,
            team=logistics_team(),
            subject=subject,
            text=note,
            category="logistics",
            now=now,
        )
        anomaly.ticket = ticket
        anomaly.save(update_fields=["ticket"])
        ticket_order_link(ticket=ticket, order=order, actor=None, how=LinkHow.AUTO, now=now)
        _notify_customer(ticket, anomaly, hours=hours, now=now)
    logger.info("logistics anomaly %s on %s: ticket %s", kind, shipment, ticket.number)
    return anomaly


def _notify_customer(
    ticket: Ticket, anomaly: ShipmentAnomaly, *, hours: int, now: datetime
) -> None:
    """Tell the customer, before they ask: an apology and where the parcel stands, as a
    notice (aftersales.services.notices: the template `logistics_anomaly`, their channel and
    language, SMS held in the quiet hours), once per anomaly."""
    language = ticket.customer.language or settings.LANGUAGE_CODE
    with translation.override(language):
        expected = gettext("an update from us within 24 hours (%(detail)s)") % {
            "detail": _detail(anomaly.kind, hours)
        }
    notice_send(
        ticket=ticket,
        event="logistics_anomaly",
        context={
            "order_number": anomaly.order_number,
            "tracking": anomaly.shipment.tracking_number,
            "expected": expected,
        },
        key=f"anomaly:{anomaly.pk}",
        now=now,
    )


def _detail(kind: str, hours: int) -> str:
    return str(_DETAILS[AnomalyKind(kind)]) % {"hours": hours}


def _rule(kind: str) -> AnomalyRule | None:
    return AnomalyRule.objects.filter(kind=kind, is_active=True).first()


# -- the scan ---------------------------------------------------------------------------------


def _moving() -> QuerySet[Shipment]:
    """Shipments still on the way, with no open anomaly. The status condition is the one of
    the partial index `aftersales_ship_moving`, so PostgreSQL reads that index and never the
    delivered majority."""
    open_anomaly = ShipmentAnomaly.objects.filter(shipment=OuterRef("pk"), resolved_at__isnull=True)
    return Shipment.objects.filter(~Q(status__in=SHIPMENT_DONE)).filter(~Exists(open_anomaly))


def scan_candidates(rule: AnomalyRule, *, now: datetime) -> QuerySet[Shipment]:
    """The shipments a scanned rule matches now, oldest news first."""
    if rule.kind == AnomalyKind.NO_SCAN:
        cutoff = business_cutoff(now=now, hours=rule.threshold_hours)
        return _moving().filter(last_event_at__lt=cutoff).order_by("last_event_at")
    if rule.kind == AnomalyKind.STUCK_AT_HUB:
        words = rule.keyword_list()
        if not words:
            return Shipment.objects.none()
        # The location and status of the shipment's last event, read by the unique index on
        # (shipment, at, status) for each shipment walked in `last_event_at` order; one
        # pattern, so the database reads it once per shipment.
        last_event = TrackingEvent.objects.filter(
            shipment=OuterRef("pk"), at=OuterRef("last_event_at")
        ).order_by("-pk")
        last_words = last_event.annotate(
            words=Concat("location", Value(" "), "status", output_field=CharField())
        ).values("words")[:1]
        return (
            _moving()
            .filter(last_event_at__lt=now - timedelta(hours=rule.threshold_hours))
            .annotate(last_words=Subquery(last_words))
            .filter(last_words__iregex="|".join(re.escape(word) for word in words))
            .order_by("last_event_at")
        )
    if rule.kind == AnomalyKind.PERISHABLE_LATE:
        fresh = OrderItem.objects.filter(order=OuterRef("order_id"), product_type=ProductType.FRESH)
        return (
            _moving()
            .filter(order__placed_at__lt=now - timedelta(hours=rule.threshold_hours))
            .filter(Exists(fresh))
            .order_by("last_event_at")
        )
    return Shipment.objects.none()


def anomaly_scan(*, now: datetime | None = None, batch: int = SCAN_BATCH) -> dict[str, int]:
    """Check the rules that fire on the clock and open an anomaly (and its ticket) for each
    shipment they match; returns how many each opened. Perishable orders first, then parcels
    stuck at a hub, then parcels without news: a shipment gets one open anomaly, the first
    rule's."""
    now = now or timezone.now()
    rules = {rule.kind: rule for rule in AnomalyRule.objects.filter(is_active=True)}
    opened: dict[str, int] = {}
    for kind in (AnomalyKind.PERISHABLE_LATE, AnomalyKind.STUCK_AT_HUB, AnomalyKind.NO_SCAN):
        assert kind in SCANNED_KINDS
        rule = rules.get(kind)
        if rule is None:
            continue
        count = 0
        for shipment in scan_candidates(rule, now=now).select_related("order__customer")[:batch]:
            hours = _silence_hours(shipment, kind, now)
            try:
                if anomaly_open(shipment=shipment, kind=kind, hours=hours, now=now):
                    count += 1
            except Exception:
                # One shipment's failure (its transaction is rolled back) must not keep the
                # others waiting; the next scan tries it again.
                logger.exception("logistics anomaly %s on %s could not be opened", kind, shipment)
        opened[kind] = count
    return opened


def _silence_hours(shipment: Shipment, kind: str, now: datetime) -> int:
    since = (
        shipment.order.placed_at if kind == AnomalyKind.PERISHABLE_LATE else shipment.last_event_at
    )
    return int((now - since).total_seconds() // 3600) if since else 0


def open_anomaly_count() -> int:
    """Open logistics anomalies, for the board."""
    return ShipmentAnomaly.objects.filter(resolved_at__isnull=True).count()


# -- business hours ---------------------------------------------------------------------------


def _calendar() -> WorkCalendar:
    team = logistics_team()
    calendar_id = (team.calendar_id if team else None) or default_calendar_id()
    return work_calendar(calendar_id) if calendar_id else default_calendar()


def business_cutoff(*, now: datetime, hours: int, calendar: WorkCalendar | None = None) -> datetime:
    """The latest instant with at least `hours` business hours between it and `now`, in the
    logistics team's calendar (else the default one): news older than it is overdue. Found
    by bisection over `WorkCalendar.between`, to the second; a calendar that never opens
    falls back to plain hours."""
    target = hours * 3600
    if target <= 0:
        return now
    calendar = calendar or _calendar()
    span = timedelta(hours=hours)
    low = now - span
    while calendar.between(low, now) < target:
        span *= 2
        if span > timedelta(days=400):
            return now - timedelta(hours=hours)
        low = now - span
    high = now
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if calendar.between(middle, now) >= target:
            low = middle
        else:
            high = middle
    return low
