"""A ticket's order: the order identity, linking from the customer's message, by an agent,
and fetching an order a customer names that Kefu lacks."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from aftersales.models import LinkHow, Order, TicketOrder
from aftersales.services import order_upsert
from aftersales.services.order_links import ticket_order_link
from tests.aftersales.factories import NOW, make_order, snapshot
from tests.aftersales.state import database_state
from tests.factories import TeamFactory, intake, make_agent
from tickets.models import (
    AuditEntry,
    ContactIdentity,
    Customer,
    EventKind,
    IdentityKind,
    TicketEvent,
)
from tickets.orders import OrderLookupError

pytestmark = pytest.mark.django_db


def app_customer(user_id: str = "u-501", name: str = "吴十") -> Customer:
    customer = Customer.objects.create(name=name)
    ContactIdentity.objects.create(customer=customer, kind=IdentityKind.APP_USER, value=user_id)
    return customer


# --- the order identity -------------------------------------------------------------------


def test_a_stored_order_is_an_identity_of_its_customer():
    order = make_order(number="SO-ID-1")
    identity = ContactIdentity.objects.get(kind=IdentityKind.ORDER, value="SO-ID-1")
    assert identity.customer == order.customer
    # Storing it again keeps the one identity.
    order_upsert(snapshot=snapshot(number="SO-ID-1"), customer=order.customer, source="push")
    assert ContactIdentity.objects.filter(kind=IdentityKind.ORDER).count() == 1


def test_an_order_number_held_by_another_customer_is_refused_with_nothing_written():
    holder = Customer.objects.create(name="甲")
    ContactIdentity.objects.create(customer=holder, kind=IdentityKind.ORDER, value="SO-ID-2")
    other = Customer.objects.create(name="乙")
    before = database_state()

    with pytest.raises(ValidationError) as refused:
        order_upsert(snapshot=snapshot(number="SO-ID-2"), customer=other, source="push", now=NOW)

    assert refused.value.code == "order_customer"
    assert database_state() == before
    assert ContactIdentity.objects.get(kind=IdentityKind.ORDER).customer == holder


# --- linking from the customer's message -----------------------------------------------------


def test_a_new_ticket_naming_the_customers_order_is_linked_once(default_team):
    customer = app_customer()
    order = make_order(customer, number="SO2026000501")

    ticket = intake(user_id="u-501", text="订单号 SO2026000501 的杯子碎了").ticket

    link = TicketOrder.objects.get(ticket=ticket)
    assert (link.order, link.how, link.linked_by) == (order, LinkHow.AUTO, None)
    linked = TicketEvent.objects.get(ticket=ticket, kind=EventKind.ORDER_LINKED)
    assert linked.data["order"] == "SO2026000501"
    assert AuditEntry.objects.get(action="ticket_order_linked").object_id == ticket.number


def test_the_first_named_order_of_the_customer_wins_over_others(default_team):
    customer = app_customer()
    make_order(Customer.objects.create(name="别人"), number="SO2026000601")
    mine_later = make_order(customer, number="SO2026000603")
    mine = make_order(customer, number="SO2026000602")

    ticket = intake(
        user_id="u-501",
        text="订单 SO2026000601 不是我的；订单号 SO2026000602 和订单号 SO2026000603 都有问题",
    ).ticket

    assert TicketOrder.objects.get(ticket=ticket).order == mine
    assert mine_later != mine


def test_a_later_message_links_an_unlinked_ticket_but_never_relinks(default_team):
    customer = app_customer()
    first = make_order(customer, number="SO2026000701")
    second = make_order(customer, number="SO2026000702")
    ticket = intake(user_id="u-501", text="你好，东西坏了").ticket
    assert not TicketOrder.objects.filter(ticket=ticket).exists()

    again = intake(user_id="u-501", text="订单号 SO2026000701").ticket
    assert again == ticket
    intake(user_id="u-501", text="还有订单号 SO2026000702")

    assert TicketOrder.objects.get(ticket=ticket).order == first
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ORDER_LINKED).count() == 1
    assert second.ticket_links.count() == 0


def test_an_order_of_another_customer_is_never_linked(default_team):
    make_order(Customer.objects.create(name="别人"), number="SO2026000801")
    app_customer()

    ticket = intake(user_id="u-501", text="订单号 SO2026000801").ticket

    assert not TicketOrder.objects.filter(ticket=ticket).exists()
    with pytest.raises(ValidationError):
        ticket_order_link(ticket=ticket, order=Order.objects.get(), actor=None, how=LinkHow.AGENT)


# --- fetching a named order Kefu lacks -------------------------------------------------------


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
    FakeShop.orders, FakeShop.asked, FakeShop.down = {}, [], False
    return FakeShop


def test_a_named_order_kefu_lacks_is_fetched_and_linked(
    orders_api, default_team, django_capture_on_commit_callbacks
):
    app_customer()
    known = make_order(Customer.objects.create(name="别人"), number="SO2026000902")
    orders_api.orders["SO2026000901"] = {**snapshot(number="SO2026000901"), "user_id": "u-501"}

    with django_capture_on_commit_callbacks(execute=True):
        ticket = intake(
            user_id="u-501", text="订单号 SO2026000901 和订单号 SO2026000902 没到"
        ).ticket

    # Only the number Kefu lacked was asked for.
    assert orders_api.asked == ["SO2026000901"]
    order = Order.objects.get(number="SO2026000901")
    assert (order.customer, order.source) == (ticket.customer, "api-fetch")
    assert TicketOrder.objects.get(ticket=ticket).order == order
    assert known.ticket_links.count() == 0


def test_without_an_orders_backend_nothing_is_fetched(
    settings, default_team, django_capture_on_commit_callbacks
):
    settings.KEFU_ORDERS_BACKEND = ""
    app_customer()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        intake(user_id="u-501", text="订单号 SO2026001001")
    assert not Order.objects.exists()
    assert not any("orders_fetch" in repr(callback) for callback in callbacks)


# --- linking by an agent ---------------------------------------------------------------------


def test_an_agent_links_an_order_with_one_click(agent, default_team, client):
    customer = app_customer()
    first = make_order(customer, number="SO2026001101")
    second = make_order(customer, number="SO2026001102")
    ticket = intake(user_id="u-501", text="订单号 SO2026001101 有问题").ticket
    client.force_login(agent.user)
    url = f"/aftersales/orders/tickets/{ticket.number}/order/"

    response = client.post(url, {"order": "SO2026001102"})

    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.number}/"
    link = TicketOrder.objects.get(ticket=ticket)
    assert (link.order, link.how, link.linked_by) == (second, LinkHow.AGENT, agent.user)
    audit = AuditEntry.objects.filter(action="ticket_order_linked").latest("pk")
    assert (audit.actor, audit.data["previous"]) == (agent.user, first.number)
    events = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ORDER_LINKED)
    assert [e.data["order"] for e in events.order_by("pk")] == [first.number, second.number]

    # The same order again changes nothing.
    client.post(url, {"order": "SO2026001102"})
    assert events.count() == 2


def test_agent_linking_is_refused_for_strangers_others_orders_and_without_csrf(
    agent, default_team, client
):
    customer = app_customer()
    make_order(customer, number="SO2026001201")
    make_order(Customer.objects.create(name="别人"), number="SO2026001202")
    ticket = intake(user_id="u-501", text="你好").ticket
    url = f"/aftersales/orders/tickets/{ticket.number}/order/"

    assert client.post(url, {"order": "SO2026001201"}).status_code == 302  # to the login page
    outsider = make_agent(teams=[TeamFactory()])
    client.force_login(outsider.user)
    assert client.post(url, {"order": "SO2026001201"}).status_code == 404
    client.force_login(agent.user)
    assert client.get(url).status_code == 405
    assert client.post(url, {"order": "SO2026001202"}).status_code == 404
    assert client.post(url, {"order": ""}).status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent.user)
    assert strict.post(url, {"order": "SO2026001201"}).status_code == 403
    assert not TicketOrder.objects.exists()


def test_the_migration_gives_orders_stored_before_their_identities():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("aftersales.migrations.0002_ticket_order")
    mine, holder = Customer.objects.create(name="甲"), Customer.objects.create(name="乙")
    for number in ("SO-M-1", "SO-M-2"):
        make_order(mine, number=number)
    # As stored before numbers were identities; one of them is since another's.
    ContactIdentity.objects.filter(kind="order").delete()
    ContactIdentity.objects.create(customer=holder, kind="order", value="SO-M-2")

    migration.order_identities_add(apps, None)

    owners = dict(ContactIdentity.objects.filter(kind="order").values_list("value", "customer_id"))
    assert owners == {"SO-M-1": mine.pk, "SO-M-2": holder.pk}
