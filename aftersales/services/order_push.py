"""The shop pushes an order: its snapshot and the identities of the customer who placed
it. The customer is found (or created) the way a customer's message finds them."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from aftersales.models import Order, OrderSource
from aftersales.services.orders import OrderSnapshot, flat_errors, order_upsert
from tickets.identity import normalise_email, normalise_phone
from tickets.models import IdentityKind
from tickets.services.audit import audit_record
from tickets.services.customers import customer_resolve


class PushCustomer(serializers.Serializer[dict[str, Any]]):
    """Who placed the order, as the shop knows them; at least one identity."""

    user_id = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="App user id"
    )
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate_phone(self, value: str) -> str:
        if not value:
            return value
        try:
            return normalise_phone(value)
        except ValidationError as error:
            raise serializers.ValidationError(error.messages) from error

    def validate_email(self, value: str) -> str:
        if not value:
            return value
        try:
            return normalise_email(value)
        except ValidationError as error:
            raise serializers.ValidationError(_("Enter a valid email address.")) from error

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["user_id"] = attrs["user_id"].strip()
        if not any(attrs[field] for field in ("user_id", "phone", "email")):
            raise serializers.ValidationError(
                {"user_id": [_("One of user_id, phone or email is required.")]}
            )
        return attrs


class OrderPush(OrderSnapshot):
    """An order snapshot (docs/aftersales.md) with the customer who placed it."""

    customer = PushCustomer()


@dataclass(frozen=True)
class PushResult:
    order: Order
    created: bool


def order_push(*, body: Mapping[str, object], token_name: str) -> PushResult:
    """Store a pushed order for the customer its identities name, creating the customer
    when none is known, in one transaction (audited, `order_pushed`). Raises ValidationError
    with every bad field (`items.0.quantity`, `customer.phone`) when the body is malformed,
    and with a `code` when the order cannot be stored (`order_customer`, `shipment_order`,
    `item_claimed`); nothing is written then."""
    serializer = OrderPush(data=body)
    if not serializer.is_valid():
        raise ValidationError(flat_errors(serializer.errors))
    person = serializer.validated_data["customer"]
    identities = [
        (kind.value, person[field])
        for field, kind in (
            ("user_id", IdentityKind.APP_USER),
            ("phone", IdentityKind.PHONE),
            ("email", IdentityKind.EMAIL),
        )
        if person[field]
    ]
    number = serializer.validated_data["number"]
    with transaction.atomic():
        created = not Order.objects.filter(number=number).exists()
        customer = customer_resolve(identities=identities, name=person["name"])
        order = order_upsert(snapshot=body, customer=customer, source=OrderSource.PUSH)
        audit_record(
            actor=None,
            action="order_pushed",
            object_type="order",
            object_id=order.number,
            data={"order": order.pk, "customer": customer.pk, "token": token_name, "new": created},
        )
    return PushResult(order=order, created=created)
