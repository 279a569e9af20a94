"""Order snapshots: storing what the shop says about an order.

The shop's push and the orders-API fetch both hand a snapshot to `order_upsert`; it is
validated whole before anything is written, and stored idempotently by order number.
"""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from aftersales.models import (
    Order,
    OrderItem,
    OrderSource,
    PaymentStatus,
    ProductType,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)
from aftersales.selectors import claimed_quantities
from tickets.models import ContactIdentity, Customer, IdentityKind


class _TrackingEventSnapshot(serializers.Serializer[dict[str, Any]]):
    status = serializers.CharField(max_length=50)
    location = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    at = serializers.DateTimeField()


class _ShipmentSnapshot(serializers.Serializer[dict[str, Any]]):
    carrier = serializers.CharField(max_length=50)
    tracking_number = serializers.CharField(max_length=64)
    status = serializers.ChoiceField(choices=ShipmentStatus.choices)
    delivered_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    events = _TrackingEventSnapshot(many=True, required=False, default=list)


class _ItemSnapshot(serializers.Serializer[dict[str, Any]]):
    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    quantity = serializers.IntegerField(min_value=1)
    unit_price = serializers.DecimalField(min_value=0, max_digits=12, decimal_places=2)
    product_type = serializers.ChoiceField(
        choices=ProductType.choices, required=False, default=ProductType.GENERAL
    )


class OrderSnapshot(serializers.Serializer[dict[str, Any]]):
    """The shape of an order snapshot (docs/aftersales.md)."""

    number = serializers.CharField(max_length=64)
    placed_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, default="CNY")
    goods_amount = serializers.DecimalField(min_value=0, max_digits=12, decimal_places=2)
    shipping_amount = serializers.DecimalField(
        min_value=0, required=False, default=Decimal(0), max_digits=12, decimal_places=2
    )
    paid_amount = serializers.DecimalField(min_value=0, max_digits=12, decimal_places=2)
    payment_status = serializers.ChoiceField(choices=PaymentStatus.choices)
    items = _ItemSnapshot(many=True, allow_empty=False)
    shipments = _ShipmentSnapshot(many=True, required=False, default=list)

    def validate_items(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        skus = [item["sku"] for item in items]
        if len(set(skus)) != len(skus):
            raise serializers.ValidationError(_("Each SKU may appear only once in an order."))
        return items

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["paid_amount"] > attrs["goods_amount"] + attrs["shipping_amount"]:
            raise serializers.ValidationError(
                {"paid_amount": _("The paid amount exceeds the goods and shipping amounts.")}
            )
        return attrs


def snapshot_validate(snapshot: Mapping[str, object]) -> dict[str, Any]:
    """The snapshot's values, or a django ValidationError naming every bad field."""
    serializer = OrderSnapshot(data=snapshot)
    if not serializer.is_valid():
        raise ValidationError(flat_errors(serializer.errors))
    return dict(serializer.validated_data)


def flat_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error tree as a flat {"items.0.quantity": [...]} mapping."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            name = prefix if key == "non_field_errors" else f"{prefix}{key}"
            for inner, messages in flat_errors(value, f"{name}." if name else "").items():
                flat.setdefault(inner.rstrip("."), []).extend(messages)
    elif isinstance(errors, list) and errors and not isinstance(errors[0], str):
        for index, value in enumerate(errors):
            if value:
                flat.update(flat_errors(value, f"{prefix}{index}."))
    else:
        flat[prefix or "snapshot"] = [str(message) for message in errors]
    return flat


def order_upsert(
    *,
    snapshot: Mapping[str, object],
    customer: Customer,
    source: OrderSource,
    now: datetime | None = None,
) -> Order:
    """Store an order snapshot: create the order, or bring the stored one up to date (items
    by SKU, shipments by carrier and tracking number, tracking events once each). Calling
    it again with the same snapshot changes nothing. A snapshot older than the stored one
    (its `updated_at` is earlier) is ignored, so a slow fetch cannot undo a newer push.

    The order's number is one of the customer's identities (an `order` identity: the
    customer's self-service pages find them by it); it is added when missing.

    Raises ValidationError, with nothing written, when the snapshot is malformed, names
    another customer than the stored order's (or the order number is another customer's
    identity), or drops or shrinks an item below what after-sales cases already claim."""
    values = snapshot_validate(snapshot)
    now = now or timezone.now()
    updated_at = values["updated_at"] or values["placed_at"]
    fields = {
        "placed_at": values["placed_at"],
        "currency": values["currency"],
        "goods_amount": values["goods_amount"],
        "shipping_amount": values["shipping_amount"],
        "paid_amount": values["paid_amount"],
        "payment_status": values["payment_status"],
        "source": source,
        "fetched_at": now,
        "updated_at": updated_at,
    }
    with transaction.atomic():
        order = _order_locked(values["number"], customer=customer, fields=fields)
        if order.customer_id != customer.pk:
            raise ValidationError(
                _("Order %(number)s belongs to another customer.") % {"number": order.number},
                code="order_customer",
            )
        _order_identity_ensure(order.number, customer=customer)
        if order.updated_at > updated_at:
            return order
        for name, value in fields.items():
            setattr(order, name, value)
        order.save()
        _items_store(order, values["items"])
        raw_shipments = list(snapshot.get("shipments") or [])  # type: ignore[call-overload]
        for shipment, raw in zip(values["shipments"], raw_shipments, strict=True):
            _shipment_store(order, shipment, raw_events=list(raw.get("events") or []))
    return order


def _order_identity_ensure(number: str, *, customer: Customer) -> None:
    """The order number as the customer's `order` identity; one another customer holds is
    never taken from them (the order is refused instead)."""
    identity, _created = ContactIdentity.objects.get_or_create(
        kind=IdentityKind.ORDER, value=number, defaults={"customer": customer}
    )
    if identity.customer_id != customer.pk:
        raise ValidationError(
            _("Order number %(number)s is known as another customer's.") % {"number": number},
            code="order_customer",
        )


def _order_locked(number: str, *, customer: Customer, fields: dict[str, Any]) -> Order:
    """The stored order, locked, or a new one. Two snapshots of a new order racing: the
    loser's insert fails on the unique number and it updates the winner's row instead."""
    order = Order.objects.select_for_update().filter(number=number).first()
    if order is not None:
        return order
    try:
        with transaction.atomic():
            return Order.objects.create(number=number, customer=customer, **fields)
    except IntegrityError:
        return Order.objects.select_for_update().get(number=number)


def _items_store(order: Order, items: list[dict[str, Any]]) -> None:
    stored = {item.sku: item for item in order.items.all()}
    claimed = _claimed_by_sku(order)
    for values in items:
        sku = values["sku"]
        if values["quantity"] < claimed.get(sku, 0):
            raise ValidationError(
                _("Item %(sku)s: %(claimed)d are in after-sales cases, more than %(quantity)d.")
                % {"sku": sku, "claimed": claimed[sku], "quantity": values["quantity"]},
                code="item_claimed",
            )
        item = stored.pop(sku, None)
        if item is None:
            OrderItem.objects.create(order=order, **values)
            continue
        changed = [name for name, value in values.items() if getattr(item, name) != value]
        if changed:
            for name in changed:
                setattr(item, name, values[name])
            item.save(update_fields=changed)
    for sku, item in stored.items():
        if item.case_items.exists():
            raise ValidationError(
                _("Item %(sku)s is in an after-sales case and cannot be removed.") % {"sku": sku},
                code="item_claimed",
            )
        item.delete()


def _claimed_by_sku(order: Order) -> dict[str, int]:
    by_id = claimed_quantities(order=order)
    return {item.sku: by_id.get(item.pk, 0) for item in order.items.all()}


def _shipment_store(
    order: Order, values: dict[str, Any], *, raw_events: list[dict[str, object]]
) -> None:
    events = values.pop("events")
    shipment, _created = Shipment.objects.get_or_create(
        carrier=values["carrier"],
        tracking_number=values["tracking_number"],
        defaults={"order": order, "status": values["status"]},
    )
    if shipment.order_id != order.pk:
        raise ValidationError(
            _("Shipment %(tracking)s belongs to another order.")
            % {"tracking": values["tracking_number"]},
            code="shipment_order",
        )
    # The carrier's own words are kept as they came, for the anomaly rules to read later.
    for event, raw in zip(events, raw_events, strict=True):
        TrackingEvent.objects.get_or_create(
            shipment=shipment,
            at=event["at"],
            status=event["status"],
            defaults={"location": event["location"], "raw": raw},
        )
    last = shipment.events.order_by("-at").values_list("at", flat=True).first()
    delivered_at = values["delivered_at"]
    if delivered_at is None and values["status"] == ShipmentStatus.DELIVERED:
        delivered_at = shipment.delivered_at or last
    shipment.status = values["status"]
    shipment.last_event_at = last
    shipment.delivered_at = delivered_at
    shipment.save(update_fields=["status", "last_event_at", "delivered_at"])
