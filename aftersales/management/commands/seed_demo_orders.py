"""Demo orders for the demo customers of `seed_demo`: fresh food delivered yesterday,
electronics delivered a few days ago, a refunded milk order of last month, and one parcel
stuck at a sorting centre for 30 hours (the order the demo SMS asks about, which is linked
to that ticket). Runs after `seed_demo`; running it again changes nothing."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from aftersales.models import Case, LinkHow, OpenedBy, Order, OrderSource, Reason
from aftersales.services import (
    ItemClaim,
    case_complete,
    case_open,
    case_refund,
    case_review,
    order_upsert,
)
from aftersales.services.order_links import ticket_order_autolink, ticket_order_link
from aftersales.steps import CaseType
from tickets.models import Agent, ContactIdentity, Customer, Ticket

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
            cases = _demo_cases(now) if not Case.objects.exists() else 0
        if options["verbosity"]:
            self.stdout.write(f"demo orders: {stored} stored; demo cases: {cases} opened")


@dataclass(frozen=True)
class _DemoCase:
    order: str
    ticket_words: str  # the demo ticket it is opened on: the customer's, with these words
    sku: str
    quantity: int
    type: CaseType
    reason: str
    description: str
    amount: str
    # Hours after `now` (negative: before) of opening and review; None: from the order's
    # placing, a day and two hours on (a case of last month).
    opened: int | None
    return_address: str = ""
    refund_reference: str = ""  # refunded and completed, when set


_DEMO_CASES = (
    _DemoCase(
        order="SO202611300101",
        ticket_words="草莓",
        sku="FRU-STRAW-500",
        quantity=1,
        type=CaseType.REFUND_ONLY,
        reason="quality_problem",
        description="草莓到货有几颗发霉，申请退一盒的钱。",
        amount="39.90",
        opened=-2,
    ),
    _DemoCase(
        order="SO202611250201",
        ticket_words="blender",
        sku="ELE-BLENDER-1200",
        quantity=1,
        type=CaseType.RETURN_REFUND,
        reason="not_as_described",
        description="The blender is much louder than described; I'd like to return it.",
        amount="699.00",
        opened=-3,
        return_address="上海市青浦区华新镇售后仓 3 号门 退货组（收）021-5555 0100",
    ),
    _DemoCase(
        order="SO202611100103",
        ticket_words="牛奶",
        sku="DAI-MILK-1L",
        quantity=4,
        type=CaseType.REFUND_ONLY,
        reason="quality_problem",
        description="牛奶开盖有酸味。",
        amount="50.00",
        opened=None,
        refund_reference="RF2026111100042",
    ),
)


def _demo_cases(now: datetime) -> int:
    """After-sales cases at three stages, on the demo tickets that ask for them, through the
    same services an agent's clicks and the shop's events call: 张伟's mouldy strawberries
    (refund only, approved, waiting for the payment system's refund), Emma Wilson's blender
    (return and refund, approved, waiting for her parcel), and 张伟's milk of last month
    (refunded and completed)."""
    agent = Agent.objects.filter(user__username="agent").select_related("user").first()
    actor = agent.user if agent is not None else None
    hour = timedelta(hours=1)
    reasons = {reason.code: reason for reason in Reason.objects.all()}
    opened = 0
    for demo in _DEMO_CASES:
        order = Order.objects.filter(number=demo.order).first()
        if order is None or demo.reason not in reasons:
            continue
        ticket = (
            Ticket.objects.filter(customer=order.customer, subject__contains=demo.ticket_words)
            .order_by("pk")
            .first()
        )
        if ticket is not None:
            ticket_order_link(ticket=ticket, order=order, actor=actor, how=LinkHow.AGENT, now=now)
        start = (
            now + demo.opened * hour
            if demo.opened is not None
            else order.placed_at + timedelta(days=1, hours=2)
        )
        case = case_open(
            order=order,
            items=[ItemClaim(order_item=order.items.get(sku=demo.sku), quantity=demo.quantity)],
            type=demo.type,
            reason=reasons[demo.reason],
            description=demo.description,
            amount=Decimal(demo.amount),
            opened_by=OpenedBy.AGENT,
            ticket=ticket,
            actor=actor,
            now=start,
        )
        case_review(
            case=case,
            approve=True,
            return_address=demo.return_address,
            actor=actor,
            now=start + hour,
        )
        if demo.refund_reference:
            case_refund(
                case=case,
                amount=Decimal(demo.amount),
                method="原路退回",
                reference=demo.refund_reference,
                now=start + 5 * hour,
            )
            case_complete(case=case, now=start + 6 * hour)
        opened += 1
    return opened
