"""Order numbers a customer writes are linked to whoever placed the order (orders API)."""

from urllib.parse import unquote

import httpx
import pytest

from channels_ingest import orders as http_orders
from tests.factories import intake
from tickets.models import AuditEntry, ContactIdentity, IdentityKind
from tickets.orders import OrderLookupError, OrderOwner
from tickets.selectors import merge_suggestions

pytestmark = pytest.mark.django_db


class FakeOrders:
    """The shop's orders, as its API would answer; `asked` lists every lookup."""

    orders: dict[str, OrderOwner] = {}
    asked: list[str] = []
    down = False

    def owner(self, number: str) -> OrderOwner | None:
        FakeOrders.asked.append(number)
        if FakeOrders.down:
            raise OrderLookupError("orders API answered 503")
        return FakeOrders.orders.get(number)


@pytest.fixture
def shop(settings):  # type: ignore[no-untyped-def]
    settings.KEFU_ORDERS_BACKEND = f"{__name__}.FakeOrders"
    FakeOrders.orders = {
        "SO20261123001": OrderOwner(phone="+86 139 0000 1111"),
        "SO20261123002": OrderOwner(email="nobody.we.know@example.com"),
    }
    FakeOrders.asked = []
    FakeOrders.down = False
    return FakeOrders


def test_an_order_number_is_linked_to_the_customer_who_placed_it_and_suggests_a_merge(
    shop, default_team, django_capture_on_commit_callbacks
):
    placed_by = intake(phone="13900001111", text="你好").ticket.customer
    with django_capture_on_commit_callbacks(execute=True):
        writer = intake(email="wei@example.com", text="订单号：SO20261123001 还没发货").ticket

    order = ContactIdentity.objects.get(kind=IdentityKind.ORDER)
    assert (order.value, order.customer) == ("SO20261123001", placed_by)
    audit = AuditEntry.objects.get(action="order_linked")
    assert audit.object_id == str(placed_by.pk)
    assert audit.data["ticket"] == writer.number
    suggested = merge_suggestions(customer=writer.customer)
    assert [s.customer for s in suggested] == [placed_by]


def test_an_order_placed_by_someone_who_never_wrote_stays_unlinked(
    shop, default_team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        intake(email="wei@example.com", text="order no. SO20261123002 and order SO99999999")

    assert sorted(shop.asked) == ["SO20261123002", "SO99999999"]
    assert not ContactIdentity.objects.filter(kind=IdentityKind.ORDER).exists()
    assert not AuditEntry.objects.filter(action="order_linked").exists()


def test_a_linked_number_is_not_asked_again_and_a_message_without_one_asks_nothing(
    shop, default_team, django_capture_on_commit_callbacks
):
    intake(phone="13900001111", text="你好")
    with django_capture_on_commit_callbacks(execute=True):
        intake(email="a@example.com", text="订单号 SO20261123001")
        intake(email="b@example.com", text="订单号 SO20261123001 到哪了")
        intake(email="c@example.com", text="什么时候发货")

    assert shop.asked == ["SO20261123001"]


def test_when_the_api_is_down_the_lookup_raises_for_the_task_to_retry(shop, default_team):
    from tickets.services.orders import message_orders_link

    intake(phone="13900001111", text="你好")
    message = intake(email="wei@example.com", text="订单号 SO20261123001").message
    shop.down = True

    with pytest.raises(OrderLookupError):
        message_orders_link(message_id=message.pk)

    shop.down = False
    assert message_orders_link(message_id=message.pk) == ["SO20261123001"]


def test_without_an_orders_api_nothing_is_asked(default_team, settings, monkeypatch):
    from tickets.services import intake as intake_service

    settings.KEFU_ORDERS_BACKEND = ""
    monkeypatch.setattr(intake_service, "orders_later", lambda message_id: pytest.fail("asked"))

    intake(email="wei@example.com", text="订单号 SO20261123001")

    assert not ContactIdentity.objects.filter(kind=IdentityKind.ORDER).exists()


@pytest.fixture
def orders_api(settings, monkeypatch):  # type: ignore[no-untyped-def]
    """The HTTP backend against a scripted orders API; returns the requests it saw."""
    settings.ORDERS_API_URL = "https://shop.example/api/orders/{number}"
    settings.ORDERS_API_TOKEN = "s3cret"
    seen: list[httpx.Request] = []
    answers: dict[str, httpx.Response] = {
        "SO1": httpx.Response(200, json={"user_id": "u42", "phone": "", "email": None}),
        "SO2": httpx.Response(404, json={"detail": "no such order"}),
        "SO3": httpx.Response(503),
        "SO4": httpx.Response(200, text="<html>maintenance</html>"),
        "SO5": httpx.Response(403),
        "SO 6/7": httpx.Response(200, json=["not", "an", "object"]),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        number = unquote(request.url.raw_path.decode().rsplit("/", 1)[-1])
        return answers[number]

    client = httpx.Client(transport=httpx.MockTransport(handler))
    monkeypatch.setattr(http_orders, "http_client", lambda: client)
    return seen


def test_the_http_backend_reads_owners_and_tells_absent_from_unavailable(orders_api):
    api = http_orders.ShopOrdersApi()

    assert api.owner("SO1") == OrderOwner(user_id="u42")
    assert api.owner("SO2") is None
    with pytest.raises(OrderLookupError):
        api.owner("SO3")
    assert api.owner("SO4") is None  # not JSON: logged, not retried
    assert api.owner("SO5") is None  # refused: asking again will not help
    assert api.owner("SO 6/7") is None  # quoted into the path, and not an object

    assert orders_api[0].headers["Authorization"] == "Bearer s3cret"
    assert str(orders_api[0].url) == "https://shop.example/api/orders/SO1"
    assert orders_api[-1].url.raw_path == b"/api/orders/SO%206%2F7"
