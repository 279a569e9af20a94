"""Demo orders for the demo customers of `seed_demo`: fresh food delivered yesterday,
electronics delivered a few days ago, a refunded milk order of last month, and one parcel
stuck at a sorting centre for 30 hours (the order the demo SMS asks about, which is linked
to that ticket). Runs after `seed_demo`; running it again changes nothing."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from aftersales.models import Order, OrderSource
from aftersales.services import order_upsert
from aftersales.services.order_links import ticket_order_autolink
from tickets.models import ContactIdentity, Customer, Ticket

# (identity kind, value) of a seed_demo customer → their orders, each made by a function of
# the time the demo is loaded.
Item = tuple[str, str, int, str, str]  # sku, name, quantity, unit price, product type


def _order(
    number: str,
    placed: datetime,
    items: list[Item],
    *,
    shipping: str = "0.00",
    discount: str = "0.00",
    payment_status: str = "paid",
    shipments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    goods = sum((Decimal(price) * quantity for _s, _n, quantity, price, _t in items), Decimal(0))
    paid = goods + Decimal(shipping) - Decimal(discount)
    return {
        "number": number,
        "placed_at": placed.isoformat(),
        "currency": "CNY",
        "goods_amount": f"{goods:.2f}",
        "shipping_amount": shipping,
        "paid_amount": f"{paid:.2f}",
        "payment_status": payment_status,
        "items": [
            {
                "sku": sku,
                "name": name,
                "quantity": quantity,
                "unit_price": price,
                "product_type": kind,
            }
            for sku, name, quantity, price, kind in items
        ],
        "shipments": shipments or [],
    }


def _shipment(
    carrier: str, tracking: str, status: str, events: list[tuple[datetime, str, str]]
) -> dict[str, Any]:
    delivered = [at for at, event, _where in events if event == "delivered"]
    return {
        "carrier": carrier,
        "tracking_number": tracking,
        "status": status,
        "delivered_at": delivered[-1].isoformat() if delivered else None,
        "events": [
            {"status": event, "location": where, "at": at.isoformat()}
            for at, event, where in events
        ],
    }


def demo_orders(now: datetime) -> dict[tuple[str, str], list[dict[str, Any]]]:
    day = timedelta(days=1)
    hour = timedelta(hours=1)
    # Yesterday afternoon, local time: "delivered yesterday" whatever the hour of loading.
    yesterday = (timezone.localtime(now) - day).replace(hour=15, minute=0, second=0, microsecond=0)
    return {
        ("app_user", "u1001"): [
            _order(
                "SO202611300101",
                now - 2 * day,
                [
                    ("FRU-STRAW-500", "丹东99草莓 500g", 2, "39.90", "fresh"),
                    ("FRU-CHERRY-1KG", "智利车厘子 JJ级 1kg", 1, "128.00", "fresh"),
                    ("DAI-MILK-1L", "鲜牛奶 1L", 2, "12.50", "fresh"),
                ],
                shipping="8.00",
                discount="10.00",
                shipments=[
                    _shipment(
                        "SF",
                        "SF1402611300101",
                        "delivered",
                        [
                            (now - 2 * day + 3 * hour, "collected", "上海青浦冷链仓"),
                            (yesterday - 3 * hour, "out_for_delivery", "上海徐汇营业部"),
                            (yesterday, "delivered", "上海徐汇"),
                        ],
                    )
                ],
            ),
            _order(
                "SO202611260102",
                now - 6 * day,
                [
                    ("ELE-EARBUDS-X2", "无线蓝牙耳机 X2", 1, "299.00", "electronics"),
                    ("ELE-COOKER-4L", "智能电饭煲 4L", 1, "459.00", "electronics"),
                ],
                shipments=[
                    _shipment(
                        "JD",
                        "JDV0026112601020",
                        "delivered",
                        [
                            (now - 6 * day + 5 * hour, "collected", "北京亚洲一号仓"),
                            (now - 4 * day - 8 * hour, "in_transit", "上海嘉定分拨中心"),
                            (now - 4 * day, "delivered", "上海徐汇"),
                        ],
                    )
                ],
            ),
            _order(
                "SO202611100103",
                now - 24 * day,
                [("DAI-MILK-1L", "鲜牛奶 1L", 4, "12.50", "fresh")],
                shipping="6.00",
                payment_status="refunded",
                shipments=[
                    _shipment(
                        "SF",
                        "SF1402611100103",
                        "delivered",
                        [
                            (now - 24 * day + 4 * hour, "collected", "上海青浦冷链仓"),
                            (now - 23 * day, "delivered", "上海徐汇"),
                        ],
                    )
                ],
            ),
        ],
        ("phone", "+8613912345678"): [
            # The order the demo SMS names; its parcel has sat at a sorting centre for 30 hours.
            _order(
                "SO20261120-88",
                now - 3 * day - 4 * hour,
                [
                    ("ELE-EARBUDS-X2", "无线蓝牙耳机 X2", 1, "299.00", "electronics"),
                    ("GEN-CASE-01", "耳机保护套", 2, "19.90", "general"),
                ],
                shipping="10.00",
                shipments=[
                    _shipment(
                        "ZTO",
                        "ZTO7826112088",
                        "in_transit",
                        [
                            (now - 3 * day, "collected", "广州白云揽收点"),
                            (now - 2 * day - 14 * hour, "in_transit", "广州转运中心"),
                            (now - 30 * hour, "in_transit", "上海浦东分拨中心"),
                        ],
                    )
                ],
            )
        ],
        ("email", "emma.wilson@example.com"): [
            _order(
                "SO202611250201",
                now - 8 * day,
                [("ELE-BLENDER-1200", "破壁料理机 Blender 1200W", 1, "699.00", "electronics")],
                shipments=[
                    _shipment(
                        "YTO",
                        "YT8826112502010",
                        "delivered",
                        [
                            (now - 8 * day + 6 * hour, "collected", "杭州仓"),
                            (now - 6 * day, "delivered", "上海静安"),
                        ],
                    )
                ],
            )
        ],
        ("app_user", "u1002"): [
            _order(
                "SO202612010301",
                now - 2 * day - 5 * hour,
                [("GEN-TOWEL-3", "纯棉毛巾 3条装", 1, "49.90", "general")],
                shipments=[
                    _shipment(
                        "YD",
                        "YD3126120103010",
                        "delivered",
                        [
                            (now - 2 * day, "collected", "苏州仓"),
                            (now - day - 2 * hour, "delivered", "上海长宁"),
                        ],
                    )
                ],
            )
        ],
    }


class Command(BaseCommand):
    help = "Load demo orders for the customers of seed_demo. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        stored = 0
        customers: list[Customer] = []
        with transaction.atomic():
            for (kind, value), orders in demo_orders(now).items():
                identity = (
                    ContactIdentity.objects.filter(kind=kind, value=value)
                    .select_related("customer")
                    .first()
                )
                if identity is None:  # seed_demo did not run (or its customers were erased)
                    continue
                customers.append(identity.customer)
                for snapshot in orders:
                    if Order.objects.filter(number=snapshot["number"]).exists():
                        continue
                    order_upsert(
                        snapshot=snapshot,
                        customer=identity.customer,
                        source=OrderSource.DEMO,
                        now=now,
                    )
                    stored += 1
            # Tickets opened before their orders were here: link them now.
            for ticket in Ticket.objects.filter(customer__in=customers).order_by("pk"):
                ticket_order_autolink(ticket=ticket, now=now)
        if options["verbosity"]:
            self.stdout.write(f"demo orders: {stored} stored")
