"""Orders from the shop: pushed to `POST /api/v1/orders`, or fetched from its orders API."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from rest_framework.test import APIClient

from aftersales.models import Order, OrderSource
from aftersales.services.order_fetch import order_is_stale, order_refresh
from channels_ingest import orders as http_orders
from tests.aftersales.factories import NOW, make_order, snapshot
from tests.factories import issue_token
from tickets.models import AuditEntry, ContactIdentity, Customer, IdentityKind
from tickets.orders import OrderLookupError

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders"


@pytest.fixture
def shop() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token('shop', scopes=['orders'])}")
    return client


def pushed(**overrides: Any) -> dict[str, Any]:
    customer = overrides.pop(
        "customer", {"user_id": "u-77", "phone": "13800001111", "name": "赵六"}
    )
    return {**snapshot(**overrides), "customer": customer}


# --- push ---------------------------------------------------------------------------------


def test_a_pushed_order_creates_its_customer_and_is_stored_once(shop):
    body = pushed()

    first = shop.post(URL, body, format="json")
    again = shop.post(URL, body, format="json")

    assert first.status_code == 201, first.content
    assert first.json() == {"number": body["number"]}
    assert again.status_code == 200
    order = Order.objects.get()
    assert (order.number, order.source, order.paid_amount) == (
        body["number"],
        OrderSource.PUSH,
        Decimal("215.00"),
    )
    customer = order.customer
    assert customer.name == "赵六"
    assert set(customer.identities.values_list("kind", "value")) == {
        ("app_user", "u-77"),
        ("phone", "+8613800001111"),
        ("order", body["number"]),
    }
    assert AuditEntry.objects.filter(action="order_pushed", object_id=body["number"]).count() == 2


def test_a_push_finds_the_customer_by_a_known_identity(shop):
    known = Customer.objects.create(name="钱七")
    ContactIdentity.objects.create(
        customer=known, kind=IdentityKind.EMAIL, value="qian@example.com"
    )

    response = shop.post(URL, pushed(customer={"email": "QIAN@example.com "}), format="json")

    assert response.status_code == 201
    assert Order.objects.get().customer == known
    assert Customer.objects.count() == 1


def test_a_newer_push_updates_the_order(shop):
    body = pushed(updated_at=NOW.isoformat())
    shop.post(URL, body, format="json")

    newer = {
        **body,
        "updated_at": (NOW + timedelta(hours=1)).isoformat(),
        "payment_status": "refunded",
    }
    response = shop.post(URL, newer, format="json")

    assert response.status_code == 200
    assert Order.objects.get().payment_status == "refunded"


def test_a_bad_snapshot_is_refused_field_by_field_and_nothing_is_written(shop):
    body = pushed(customer={"phone": "12"})
    body["items"][0]["quantity"] = 0
    del body["paid_amount"]

    response = shop.post(URL, body, format="json")

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"items.0.quantity", "paid_amount", "customer.phone"}
    assert not Order.objects.exists()
    assert not Customer.objects.exists()


def test_a_push_without_an_identity_or_not_an_object_is_refused(shop):
    response = shop.post(URL, pushed(customer={"name": "无名"}), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"customer.user_id"}
    assert shop.post(URL, [1, 2], format="json").status_code == 400
    assert not Customer.objects.exists()


def test_an_order_of_another_customer_is_refused_with_a_conflict(shop):
    body = pushed()
    shop.post(URL, body, format="json")

    response = shop.post(URL, {**body, "customer": {"email": "other@example.com"}}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "order_customer"
    # The customer made for the refused push is rolled back with it.
    assert Customer.objects.count() == 1


def test_the_order_number_of_another_customer_is_not_taken(shop):
    holder = Customer.objects.create(name="孙八")
    ContactIdentity.objects.create(customer=holder, kind=IdentityKind.ORDER, value="SO-HELD-1")

    response = shop.post(URL, pushed(number="SO-HELD-1"), format="json")

    assert response.status_code == 409
    assert not Order.objects.exists()
    assert ContactIdentity.objects.get(kind=IdentityKind.ORDER).customer == holder


def test_push_needs_a_token_with_the_orders_scope(agent_client):
    body = pushed()
    assert APIClient().post(URL, body, format="json").status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=f"Token {issue_token('app', scopes=['inbound:app'])}")
    assert wrong.post(URL, body, format="json").status_code == 403
    bogus = APIClient()
    bogus.credentials(HTTP_AUTHORIZATION="Token nope")
    assert bogus.post(URL, body, format="json").status_code == 401
    # A staff session acts for a person, not for the shop.
    assert agent_client.post(URL, body, content_type="application/json").status_code == 403
    assert not Order.objects.exists()


def test_the_schema_shows_the_push_with_its_scope(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/orders"]["post"]
    assert operation["x-required-scopes"] == ["orders"]
    assert list(operation["requestBody"]["content"]) == ["application/json"]
    body = schema["components"]["schemas"]["OrderPush"]
    assert {"number", "items", "customer"} <= set(body["properties"])


# --- fetch --------------------------------------------------------------------------------


class FakeShop:
    """The shop's orders API: whole orders with their owners; `asked` lists each fetch."""

    orders: dict[str, dict[str, Any]] = {}
    asked: list[str] = []
    down = False

    def owner(self, number: str) -> None:
        return None

    def order(self, number: str) -> dict[str, Any] | None:
        FakeShop.asked.append(number)
        if FakeShop.down:
            raise OrderLookupError("orders API answered 503")
        return FakeShop.orders.get(number)


@pytest.fixture
def orders_api(settings):  # type: ignore[no-untyped-def]
    settings.KEFU_ORDERS_BACKEND = f"{__name__}.FakeShop"
    FakeShop.orders, FakeShop.asked, FakeShop.down = {}, [], False
    return FakeShop


def test_a_fetched_order_goes_to_the_customer_its_owner_identities_name(orders_api):
    owner = Customer.objects.create(name="周九")
    ContactIdentity.objects.create(customer=owner, kind=IdentityKind.PHONE, value="+8613900002222")
    body = {**snapshot(number="SO-F-1"), "phone": "139 0000 2222", "user_id": "u-unknown"}
    orders_api.orders["SO-F-1"] = body

    order = order_refresh(number="SO-F-1", now=NOW)

    assert order is not None
    assert (order.customer, order.source, order.fetched_at) == (owner, "api-fetch", NOW)
    assert ContactIdentity.objects.get(kind=IdentityKind.ORDER).customer == owner


def test_a_fetched_order_of_an_unknown_owner_makes_a_customer_and_none_without_identities(
    orders_api,
):
    orders_api.orders["SO-F-2"] = {**snapshot(number="SO-F-2"), "email": "new@example.com"}
    orders_api.orders["SO-F-3"] = snapshot(number="SO-F-3")

    order = order_refresh(number="SO-F-2", now=NOW)

    assert order is not None
    assert order.customer.identities.filter(kind="email", value="new@example.com").exists()
    assert order_refresh(number="SO-F-3", now=NOW) is None
    assert order_refresh(number="SO-NONE", now=NOW) is None
    assert Order.objects.count() == 1


def test_a_refresh_keeps_the_stored_customer_and_takes_the_newer_snapshot(orders_api):
    stored = make_order(number="SO-F-4")
    orders_api.orders["SO-F-4"] = {
        **snapshot(number="SO-F-4", updated_at=(NOW + timedelta(hours=2)).isoformat()),
        "payment_status": "partially_refunded",
        "email": "somebody.else@example.com",
    }
    later = NOW + timedelta(hours=3)

    order = order_refresh(number="SO-F-4", now=later)

    assert order is not None
    assert order.customer == stored.customer
    assert (order.payment_status, order.source, order.fetched_at) == (
        "partially_refunded",
        "api-fetch",
        later,
    )


def test_a_fetch_answering_for_another_number_is_refused(orders_api):
    from django.core.exceptions import ValidationError

    orders_api.orders["SO-F-5"] = snapshot(number="SO-F-6")
    with pytest.raises(ValidationError):
        order_refresh(number="SO-F-5", now=NOW)
    assert not Order.objects.exists()


def test_without_an_orders_backend_nothing_is_fetched(settings):
    settings.KEFU_ORDERS_BACKEND = ""
    assert order_refresh(number="SO-F-7") is None


def test_an_order_is_stale_after_the_configured_seconds(settings):
    settings.ORDERS_STALE_SECONDS = 600
    order = make_order()  # fetched at NOW
    assert not order_is_stale(order, now=NOW + timedelta(seconds=600))
    assert order_is_stale(order, now=NOW + timedelta(seconds=601))


def test_the_http_backend_gives_the_whole_order(settings, monkeypatch):
    settings.ORDERS_API_URL = "https://shop.example/api/orders/{number}"
    body = {**snapshot(number="SO9"), "user_id": "u42"}
    answers = {
        "SO9": httpx.Response(200, json=body),
        "SO8": httpx.Response(404),
        "SO7": httpx.Response(502),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return answers[request.url.path.rsplit("/", 1)[-1]]

    client = httpx.Client(transport=httpx.MockTransport(handler))
    monkeypatch.setattr(http_orders, "http_client", lambda: client)
    api = http_orders.ShopOrdersApi()

    assert api.order("SO9") == body
    assert api.owner("SO9").user_id == "u42"
    assert api.order("SO8") is None
    with pytest.raises(OrderLookupError):
        api.order("SO7")
