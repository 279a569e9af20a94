"""A scheduled report for the embedded demo: the demo supervisor receives the weekly
after-sales service report in Chinese, XLSX and PDF, so the settings page
(/reports/scheduled/) shows a subscription; and six weeks of finished after-sales cases, so
its preview and the after-sales page's time per step have figures to show (the other demo
cases are all of this week); and the shop's orders per day over the history, for contacts per
order."""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from aftersales.models import OpenedBy, Order, OrderSource, Reason
from aftersales.services import (
    case_cancel,
    case_complete,
    case_goods_received,
    case_open,
    case_receive,
    case_refund,
    case_return_tracking,
    case_review,
)
from aftersales.services.cases import ItemClaim
from aftersales.services.orders import order_upsert
from aftersales.steps import CaseType
from analytics.models import OrderVolume, ReportLanguage, ReportSubscription, ScheduledReport
from analytics.scheduled import period_last, subscription_save
from analytics.services import order_volume_store
from tickets.models import Customer

# Per week back from the last full one: refund-only cases refunded and completed, exchanges
# withdrawn, repairs still open.
# Days back from yesterday with the shop's order counts (the demo history's eight weeks).
ORDER_DAYS = 56
HISTORY = [(5, 1, 1), (3, 1, 0), (4, 0, 1), (2, 1, 0), (3, 0, 1), (2, 1, 0)]
# Per week back, returns and refunds taken the whole way (approved, sent back, received,
# inspected, refunded, completed), none finishing in the last full week.
RETURNS = [0, 0, 2, 1, 2, 2]


class Command(BaseCommand):
    help = "A weekly after-sales report subscription for the demo supervisor (embedded mode)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED:
            raise CommandError("seed_demo_reports writes demo data; it runs in embedded mode only.")
        self._history()
        self._order_volume()
        if ReportSubscription.objects.exists():
            return
        supervisor = get_user_model().objects.filter(username="supervisor").first()
        if supervisor is None:
            return
        if not supervisor.email:
            # Demo data: the outbox (/outbox/) shows what would have gone to this address.
            supervisor.email = "chen@kefu.localhost"
            supervisor.save(update_fields=["email"])
        subscription_save(
            subscription=None,
            report=ScheduledReport.AFTERSALES_WEEKLY,
            recipients=[supervisor],
            language=ReportLanguage.ZH_HANS,
            attach_xlsx=True,
            attach_pdf=True,
            is_active=True,
            actor=None,
        )

    def _order_volume(self) -> None:
        """The demo shop's orders per day over the history (as its orders API would report
        them): more at the weekend, a sale every few weeks; today's count not in yet."""
        if OrderVolume.objects.exists():
            return
        rng = random.Random(618)
        today = timezone.localdate()
        days = []
        for back in range(1, ORDER_DAYS + 1):
            day = today - timedelta(days=back)
            orders = rng.randint(160, 220) + (90 if day.weekday() >= 5 else 0)
            if day.day in (6, 18):  # the shop's monthly sale days
                orders *= 2
            days.append((day, orders))
        order_volume_store(days=days, source="demo")

    @transaction.atomic
    def _history(self) -> None:
        if Order.objects.filter(number__startswith="SOH").exists():
            return
        customer = Customer.objects.order_by("pk").first()
        reason = Reason.objects.filter(code="quality_problem").first()
        if customer is None or reason is None:
            return
        zone = timezone.get_current_timezone()
        last = period_last(ScheduledReport.AFTERSALES_WEEKLY, timezone.localdate())
        for weeks_back, (refunds, exchanges, repairs) in enumerate(HISTORY):
            monday = last.start - timedelta(weeks=weeks_back)
            kinds = [CaseType.REFUND_ONLY] * refunds + [CaseType.EXCHANGE] * exchanges
            kinds += [CaseType.REPAIR] * repairs
            kinds += [CaseType.RETURN_REFUND] * RETURNS[weeks_back]
            for n, kind in enumerate(kinds):
                opened = datetime.combine(monday + timedelta(days=n % 6), time(10 + n), zone)
                number = f"SOH{opened:%Y%m%d}{n:02d}"
                price = Decimal("29.90") + 10 * n
                order = order_upsert(
                    snapshot={
                        "number": number,
                        "placed_at": (opened - timedelta(days=1)).isoformat(),
                        "currency": "CNY",
                        "goods_amount": f"{price:.2f}",
                        "shipping_amount": "0.00",
                        "paid_amount": f"{price:.2f}",
                        "payment_status": "paid",
                        "items": [
                            {
                                "sku": "GEN-CASE-01",
                                "name": "耳机保护套",
                                "quantity": 1,
                                "unit_price": f"{price:.2f}",
                                "product_type": "general",
                            }
                        ],
                        "shipments": [],
                    },
                    customer=customer,
                    source=OrderSource.DEMO,
                    now=opened - timedelta(days=1),
                )
                refund = kind in (CaseType.REFUND_ONLY, CaseType.RETURN_REFUND)
                case = case_open(
                    order=order,
                    items=[ItemClaim(order_item=order.items.get(), quantity=1)],
                    type=kind,
                    reason=reason,
                    description="演示：历史售后单",
                    amount=price if refund else Decimal(0),
                    opened_by=OpenedBy.AGENT,
                    now=opened,
                )
                if kind == CaseType.REPAIR:
                    continue
                if kind == CaseType.EXCHANGE:
                    case_cancel(case=case, note="客户撤回", now=opened + timedelta(days=1))
                    continue
                if kind == CaseType.RETURN_REFUND:
                    self._returned(case, number, price, opened, n)
                    continue
                hours = timedelta(hours=4 + 7 * n)
                case_review(case=case, approve=True, now=opened + timedelta(hours=1))
                case_refund(
                    case=case,
                    amount=price,
                    method="原路退回",
                    reference=f"RF{number}",
                    now=opened + hours,
                )
                case_complete(case=case, now=opened + hours + timedelta(hours=1))

    def _returned(self, case: Any, number: str, price: Decimal, opened: datetime, n: int) -> None:
        """Approved within hours, sent back the next day or two, two days on the road, a
        day to inspect, refunded the same afternoon, closed the next morning."""
        at = opened + timedelta(hours=2 + n % 3)
        case_review(case=case, approve=True, return_address="上海市仓库退货组", now=at)
        at += timedelta(hours=20 + 9 * (n % 3))
        case_return_tracking(case=case, carrier="SF", tracking_number=f"SFR{number}", now=at)
        at += timedelta(hours=40 + 6 * (n % 2))
        case_goods_received(case=case, now=at)
        at += timedelta(hours=18 + 5 * (n % 2))
        case_receive(case=case, passed=True, now=at)
        at += timedelta(hours=5)
        case_refund(case=case, amount=price, method="原路退回", reference=f"RF{number}", now=at)
        case_complete(case=case, now=at + timedelta(hours=16))
