"""Orders and cases for the after-sales tests, made through the services."""

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from django.utils import timezone

from aftersales.models import Case, Order, OrderSource, Reason
from aftersales.services import ItemClaim, case_open, order_upsert
from aftersales.steps import CaseType
from tickets.models import Customer, Ticket

_numbers = count(1)

NOW = timezone.make_aware(datetime(2026, 11, 20, 10, 0))


def snapshot(**overrides: Any) -> dict[str, Any]:
    """An order of two mugs (2 × 50) and one fresh durian box (1 × 120), paid 215 with
    15 shipping, delivered a day before NOW."""
    values: dict[str, Any] = {
        "number": f"SO2026{next(_numbers):06d}",
        "placed_at": (NOW - timedelta(days=3)).isoformat(),
        "currency": "CNY",
        "goods_amount": "220.00",
        "shipping_amount": "15.00",
        "paid_amount": "215.00",
        "payment_status": "paid",
        "items": [
            {"sku": "MUG-1", "name": "马克杯", "quantity": 2, "unit_price": "50.00"},
            {
                "sku": "DURIAN-1",
                "name": "榴莲礼盒",
                "quantity": 1,
                "unit_price": "120.00",
                "product_type": "fresh",
            },
        ],
        "shipments": [
            {
                "carrier": "SF",
                "tracking_number": f"SF{next(_numbers):010d}",
                "status": "delivered",
                "delivered_at": (NOW - timedelta(days=1)).isoformat(),
                "events": [
                    {"status": "collected", "at": (NOW - timedelta(days=2)).isoformat()},
                    {
                        "status": "delivered",
                        "location": "上海",
                        "at": (NOW - timedelta(days=1)).isoformat(),
                        "courier": "王师傅",
                    },
                ],
            }
        ],
    }
    values.update(overrides)
    return values


def make_order(customer: Customer | None = None, **overrides: Any) -> Order:
    customer = customer or Customer.objects.create(name="张三")
    return order_upsert(
        snapshot=snapshot(**overrides), customer=customer, source=OrderSource.PUSH, now=NOW
    )


def reason(code: str = "quality_problem") -> Reason:
    return Reason.objects.get(code=code)


def open_case(
    order: Order,
    *,
    type: CaseType = CaseType.RETURN_REFUND,
    sku: str = "MUG-1",
    quantity: int = 1,
    amount: str = "50.00",
    ticket: Ticket | None = None,
    now: datetime = NOW,
) -> Case:
    return case_open(
        order=order,
        items=[ItemClaim(order_item=order.items.get(sku=sku), quantity=quantity)],
        type=type,
        reason=reason(),
        description="杯子有裂纹",
        amount=Decimal(amount),
        opened_by="customer",  # type: ignore[arg-type]
        ticket=ticket,
        now=now,
    )
