"""The orders card on the ticket page, and the background refresh of a stale order."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from aftersales.models import LinkHow, Order
from aftersales.services.order_links import ticket_order_link
from tests.aftersales.factories import NOW, make_order, snapshot
from tests.factories import intake
from tickets.models import ContactIdentity, Customer, IdentityKind
from tickets.orders import OrderLookupError

pytestmark = pytest.mark.django_db


def customer_with_ticket() -> tuple[Customer, Any]:
    customer = Customer.objects.create(name="郑一")
    ContactIdentity.objects.create(customer=customer, kind=IdentityKind.APP_USER, value="u-601")
    ticket = intake(user_id="u-601", text="你好，我要退货").ticket
    return customer, ticket


def moving_shipment(tracking: str) -> dict[str, Any]:
    events = [
        {"status": "collected", "location": "杭州", "at": (NOW - timedelta(hours=h)).isoformat()}
        for h in (50,)
    ] + [
        {
            "status": "in_transit",
            "location": f"站点{h}",
            "at": (NOW - timedelta(hours=h)).isoformat(),
        }
        for h in (40, 30, 20, 10)
    ]
    return {"carrier": "ZTO", "tracking_number": tracking, "status": "in_transit", "events": events}


def test_the_card_shows_the_linked_order_and_the_customers_other_orders(agent_client, default_team):
    customer, ticket = customer_with_ticket()
    linked = make_order(
        customer,
        number="SO-P-1",
        goods_amount="1220.00",
        paid_amount="1235.00",
        items=[{"sku": "EAR-1", "name": "蓝牙耳机", "quantity": 2, "unit_price": "610.00"}],
        shipments=[moving_shipment("ZT000111")],
    )
    make_order(customer, number="SO-P-2", placed_at=(NOW - timedelta(days=10)).isoformat())
    make_order(Customer.objects.create(name="别人"), number="SO-P-3")
    ticket_order_link(ticket=ticket, order=linked, actor=None, how=LinkHow.AGENT)

    page = agent_client.get(f"/tickets/{ticket.number}/").content.decode()

    start = page.index('id="orders"')
    card = page[start : page.index("</section>", start)]  # the orders card only
    assert "SO-P-1" in card
    assert "EAR-1" in card and "蓝牙耳机" in card and "¥610.00" in card
    assert "¥1,220.00" in card and "¥15.00" in card and "¥1,235.00" in card
    assert "ZTO ZT000111" in card
    # The last three tracking events, newest first; older ones are left out.
    assert card.index("站点10") < card.index("站点20") < card.index("站点30")
    assert "站点40" not in card and "杭州" not in card
    # Known carrier statuses in words, in the page's language.
    assert "运输中" in card and "in_transit" not in card
    others = card[card.index("recent-order") :]
    assert 'data-order="SO-P-2"' in others and 'data-order="SO-P-1"' not in others
    assert "/aftersales/orders/tickets/" in others
    assert "SO-P-3" not in page


def test_no_card_for_a_customer_without_orders(agent_client, default_team):
    _customer, ticket = customer_with_ticket()
    page = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert 'id="orders"' not in page


def test_recent_orders_are_offered_before_any_link(agent_client, default_team):
    customer, ticket = customer_with_ticket()
    make_order(customer, number="SO-P-4")
    page = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert 'data-order="SO-P-4"' in page
    assert "Link to this ticket" in page or "关联到此工单" in page


class FakeShop:
    orders: dict[str, dict[str, Any]] = {}
    asked: list[str] = []
    down = False

    def owner(self, number: str) -> None:
        return None

    def order(self, number: str) -> dict[str, Any] | None:
        FakeShop.asked.append(number)
        if FakeShop.down:
            raise OrderLookupError("down")
        return FakeShop.orders.get(number)


@pytest.fixture
def orders_api(settings):  # type: ignore[no-untyped-def]
    settings.KEFU_ORDERS_BACKEND = f"{__name__}.FakeShop"
    settings.ORDERS_STALE_SECONDS = 600
    FakeShop.orders, FakeShop.asked, FakeShop.down = {}, [], False
    return FakeShop


def test_a_stale_linked_order_is_fetched_again_once_in_a_while(
    orders_api, agent_client, default_team
):
    customer, ticket = customer_with_ticket()
    order = make_order(customer, number="SO-P-5")  # stored long ago (NOW)
    ticket_order_link(ticket=ticket, order=order, actor=None, how=LinkHow.AUTO)
    orders_api.orders["SO-P-5"] = snapshot(
        number="SO-P-5", updated_at=timezone.now().isoformat(), payment_status="refunded"
    )

    assert agent_client.get(f"/tickets/{ticket.number}/").status_code == 200
    assert agent_client.get(f"/tickets/{ticket.number}/").status_code == 200

    assert orders_api.asked == ["SO-P-5"]
    order.refresh_from_db()
    assert (order.payment_status, order.source) == ("refunded", "api-fetch")


def test_a_fresh_order_is_not_fetched_and_a_failing_fetch_does_not_break_the_page(
    orders_api, agent_client, default_team
):
    customer, ticket = customer_with_ticket()
    order = make_order(customer, number="SO-P-6")
    ticket_order_link(ticket=ticket, order=order, actor=None, how=LinkHow.AUTO)
    Order.objects.filter(pk=order.pk).update(fetched_at=timezone.now())
    agent_client.get(f"/tickets/{ticket.number}/")
    assert orders_api.asked == []

    Order.objects.filter(pk=order.pk).update(fetched_at=timezone.now() - timedelta(hours=1))
    orders_api.down = True
    response = agent_client.get(f"/tickets/{ticket.number}/")
    assert response.status_code == 200
    assert orders_api.asked == ["SO-P-6"]
    assert "SO-P-6" in response.content.decode()
