"""After-sales from end to end, in Chromium: the customer on a phone, the agent on the ticket
and case pages, the shop's systems on the API. Each journey ends with the customer reading
every step, with its time, on the status page, and one notice per step in the outbox, in the
customer's language."""

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from django.utils import timezone
from PIL import Image

from aftersales.models import Case, CasePhoto
from channels_ingest.models import OutboxEntry
from tests.browser.helpers import PHONE_VIEWPORT, Watched, _orm, _sign_in
from tests.factories import TeamFactory, issue_token, make_agent
from tickets.models import Customer, Message

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCREENSHOTS = Path("/tmp/journeys")
PHONE = "13900139000"


@pytest.fixture(autouse=True)
def _journey_settings(settings, tmp_path):  # type: ignore[no-untyped-def]
    # Photos go to a folder of the test's own. SMS notices are held at night (Shanghai time);
    # the journeys must not depend on when they run.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.NOTICE_QUIET_HOURS = ""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture
def journey_setup():  # type: ignore[no-untyped-def]
    # Made before the browser starts (Playwright's loop would refuse the ORM in this thread).
    team = TeamFactory(name="售后一组", is_default=True)
    agent = make_agent(teams=[team])
    return {
        "agent": agent.user.username,
        "app": issue_token("shop-app", scopes=["inbound:app"]),
        "orders": issue_token("shop-orders", scopes=["orders"]),
        "aftersales": issue_token("shop-aftersales", scopes=["aftersales"]),
    }


# --- the shop's side ---------------------------------------------------------------------


def _api(base: str, token: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/{path}",
        headers={"Authorization": f"Token {token}"},
        json=body,
        timeout=10,
    )


def _push_order(base: str, token: str, number: str, customer: dict[str, str], items: list[Any]):  # type: ignore[no-untyped-def]
    """An order placed yesterday, paid in full, delivered three hours ago (every item is
    still in its after-sales window, fresh ones too)."""
    now = timezone.now()
    goods = sum(float(item["unit_price"]) * item["quantity"] for item in items)
    response = _api(
        base,
        token,
        "orders",
        {
            "number": number,
            "placed_at": (now - timedelta(days=1)).isoformat(),
            "updated_at": now.isoformat(),
            "currency": "CNY",
            "goods_amount": f"{goods:.2f}",
            "shipping_amount": "0.00",
            "paid_amount": f"{goods:.2f}",
            "payment_status": "paid",
            "items": items,
            "shipments": [
                {
                    "carrier": "SF",
                    "tracking_number": f"SF{number[-10:]}",
                    "status": "delivered",
                    "delivered_at": (now - timedelta(hours=3)).isoformat(),
                    "events": [
                        {
                            "status": "collected",
                            "location": "昆明",
                            "at": (now - timedelta(hours=20)).isoformat(),
                        },
                        {
                            "status": "delivered",
                            "location": "上海",
                            "at": (now - timedelta(hours=3)).isoformat(),
                        },
                    ],
                }
            ],
            "customer": customer,
        },
    )
    assert response.status_code == 201, response.text


def _event(base: str, token: str, case: str, event_id: str, kind: str, **data: str) -> None:
    response = _api(
        base,
        token,
        f"aftersales/{case}/events",
        {"event_id": event_id, "kind": kind, "data": data},
    )
    # Stored, then applied at once in embedded mode (in production a worker applies it).
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "applied", response.text


# --- the customer's side -----------------------------------------------------------------


def _status_sign_in(watched: Watched, page: Any, base: str, number: str, contact: str) -> None:
    """Name an order, enter the one-time code the outbox holds, land on the home page."""
    page.goto(f"{base}/status/")
    page.fill("input[name=number]", number)
    page.fill("input[name=contact]", contact)
    page.click("button[type=submit]")
    page.wait_for_url("**/status/verify/")
    body = _orm(lambda: OutboxEntry.objects.filter(kind="code").values_list("body", flat=True)[0])
    code = re.search(r"\b(\d{6})\b", body)
    assert code is not None, body
    page.fill("input[name=code]", code.group(1))
    page.click("button[type=submit]")
    page.wait_for_url("**/status/home/")
    watched.assert_clean(page)


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide on a 390 px phone"


def _step_times(case_number: str) -> dict[str, str]:
    """Each step the case took, as the status page writes its time (Shanghai)."""
    rows = Case.objects.get(number=case_number).steps.order_by("at", "pk")
    return {row.step: row.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") for row in rows}


def _assert_progress(page: Any, case_number: str, done: list[str], current: str) -> None:
    """The bar shows each step taken done with its time, and where the case stands now."""
    times = _orm(lambda: _step_times(case_number))
    assert set(times) == {*done, current}, times
    bar = page.locator("ol.progress")
    for step in done:
        item = bar.locator(f"li.state-done.step-{step}")
        expect(item).to_have_count(1)
        expect(item.locator(".when").first).to_have_text(times[step])
    item = bar.locator(f"li.state-current.step-{current}")
    expect(item).to_have_count(1)
    expect(item.locator(".when").first).to_have_text(times[current])


# --- the outbox ----------------------------------------------------------------------------


def _notices(ticket_number: str) -> list[tuple[str, str, str]]:
    """(event, channel, text) of each notice the outbox holds for the ticket, oldest first."""
    events = dict(
        Message.objects.filter(ticket__number=ticket_number)
        .exclude(notice="")
        .values_list("pk", "notice")
    )
    sent = []
    for entry in OutboxEntry.objects.filter(
        ticket_number=ticket_number, kind="notification"
    ).order_by("created_at", "pk"):
        pk = int(entry.reference.removeprefix("kefu-"))
        sent.append((events.get(pk, "?"), entry.channel, entry.body))
    return sent


def _wait_for_notices(ticket_number: str, count: int) -> list[tuple[str, str, str]]:
    deadline = time.monotonic() + 10
    while True:
        notices = _orm(lambda: _notices(ticket_number))
        if len(notices) >= count or time.monotonic() > deadline:
            return notices
        time.sleep(0.2)


CJK = re.compile(r"[\u4e00-\u9fff]")


def _assert_language(notices: list[tuple[str, str, str]], language: str, names: str) -> None:
    """Chinese texts for a Chinese customer; English ones (no Chinese but the items' own
    names) for an English one."""
    for event, _channel, text in notices:
        if language == "en":
            assert not CJK.search(re.sub(f"[{names}]", "", text)), (event, text)
        else:
            assert len(CJK.findall(re.sub(f"[{names}]", "", text))) >= 4, (event, text)


# --- journey 1: refund only, opened by the agent -------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_mouldy_strawberries_refund_only_from_message_to_refund(
    journey_setup, live_asgi, browser, language
):
    base = live_asgi
    tokens = journey_setup
    order_number = "SO2026120300001" if language == "zh-hans" else "SO2026120300002"
    _push_order(
        base,
        tokens["orders"],
        order_number,
        {"user_id": "u-berry", "phone": PHONE, "name": "李梅"},
        [
            {
                "sku": "STRAW-500",
                "name": "草莓",
                "quantity": 2,
                "unit_price": "39.90",
                "product_type": "fresh",
            },
            {"sku": "BAG-1", "name": "保温袋", "quantity": 1, "unit_price": "5.00"},
        ],
    )
    _orm(lambda: Customer.objects.filter(orders__number=order_number).update(language=language))

    # The customer writes in the shop's app, naming the order.
    response = _api(
        base,
        tokens["app"],
        "inbound/app",
        {
            "message_id": "berry-1",
            "user_id": "u-berry",
            "phone": PHONE,
            "name": "李梅",
            "text": f"草莓发霉了 要退款 订单号 {order_number}",
        },
    )
    assert response.status_code == 201, response.text
    ticket_number = response.json()["ticket_number"]

    # The agent: the ticket shows the order, and the case is opened from it.
    agent = Watched(browser, **PHONE_VIEWPORT)
    page = agent.page()
    _sign_in(page, base, tokens["agent"])
    page.goto(f"{base}/tickets/{ticket_number}/")
    orders = page.locator("#orders")
    expect(orders).to_contain_text(order_number)
    expect(orders.locator("table.order-items")).to_contain_text("草莓")
    _no_sideways_scroll(page)
    agent.assert_clean(page)
    page.screenshot(path=str(SCREENSHOTS / f"agent-ticket-{language}.png"), full_page=True)

    cases = page.locator("#cases")
    cases.locator("summary").click()
    form = cases.locator("form.case-open")
    form.locator("label", has_text="草莓").locator("input").fill("2")
    form.locator("select[name=type]").select_option("refund_only")
    form.locator("select[name=reason]").select_option("quality_problem")
    expect(form.locator("textarea[name=description]")).to_have_value(re.compile("草莓发霉了"))
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/aftersales/AS\d+/$"))
    case_number = page.url.rstrip("/").rsplit("/", 1)[1]
    expect(page.locator(".meta .badge")).to_have_text(re.compile("已提交|Submitted"))
    agent.assert_clean(page)

    # The agent approves on the case page.
    review = page.locator("#action-review")
    review.locator("select[name=decision]").select_option("approve")
    review.locator("button[type=submit]").click()
    page.wait_for_url(f"**/aftersales/{case_number}/")
    expect(page.locator("#action-review")).to_have_count(0)
    _no_sideways_scroll(page)
    agent.assert_clean(page)
    page.screenshot(path=str(SCREENSHOTS / f"agent-case-{language}.png"), full_page=True)
    agent.context.close()

    case = _orm(lambda: Case.objects.select_related("ticket").get(number=case_number))
    assert (case.type, case.step, case.ticket.number) == ("refund_only", "approved", ticket_number)
    assert str(case.amount_requested) == "79.80"

    # The shop's payment system says the money went back.
    _event(
        base,
        tokens["aftersales"],
        case_number,
        "pay-refund-1",
        "refund.completed",
        amount="79.80",
        method="原路退回",
        reference="WX-REFUND-0001",
    )

    # The customer, on a phone, follows the case on the status page.
    customer = Watched(browser, **PHONE_VIEWPORT)
    status = customer.page()
    if language == "en":
        # Kefu speaks Chinese until asked otherwise: the English customer switches.
        status.goto(f"{base}/status/")
        status.select_option("select[name=language]", "en")
        expect(status.locator("html")).to_have_attribute("lang", "en")
    _status_sign_in(customer, status, base, order_number, PHONE)
    status.click(f'a[href$="/status/cases/{case_number}/"]')
    status.wait_for_url(f"**/status/cases/{case_number}/")
    _assert_progress(status, case_number, done=["submitted", "approved"], current="refunded")
    expect(status.locator("ol.progress li.state-todo.step-completed")).to_have_count(1)
    expect(status.locator("ol.progress li.step-refunded .label")).to_have_text(
        "Refunded" if language == "en" else "已退款"
    )
    expect(status.locator("body")).to_contain_text("79.80")
    _no_sideways_scroll(status)
    customer.assert_clean(status)
    status.screenshot(path=str(SCREENSHOTS / f"refund-only-{language}.png"), full_page=True)
    customer.context.close()

    # One notice per step, in the customer's language, on the app they wrote from.
    notices = _wait_for_notices(ticket_number, 3)
    assert [event for event, _channel, _text in notices] == [
        "case.submitted",
        "case.approved",
        "case.refunded",
    ], notices
    assert {channel for _event, channel, _text in notices} == {"app"}
    _assert_language(notices, language, "草莓保温袋")
    assert "79.80" in notices[-1][2]


# --- journey 2: return and refund, started by the customer -----------------------------------


def _jpeg(path: Path) -> Path:
    image = Image.new("RGB", (1200, 900), (230, 230, 225))
    for x in range(500, 700):
        for y in range(350, 550):
            image.putpixel((x, y), (40, 40, 40))
    image.save(path, format="JPEG", quality=85)
    return path


def test_a_return_started_on_the_status_page_with_a_photo(
    journey_setup, live_asgi, browser, tmp_path
):
    base = live_asgi
    tokens = journey_setup
    order_number = "SO2026120300010"
    _push_order(
        base,
        tokens["orders"],
        order_number,
        {"user_id": "u-kettle", "phone": PHONE, "name": "陈静"},
        [
            {
                "sku": "KETTLE-1",
                "name": "电热水壶",
                "quantity": 1,
                "unit_price": "129.00",
                "product_type": "electronics",
            },
            {"sku": "MUG-2", "name": "马克杯", "quantity": 2, "unit_price": "25.00"},
        ],
    )

    # The customer applies from the order, with a photo.
    customer = Watched(browser, **PHONE_VIEWPORT)
    status = customer.page()
    _status_sign_in(customer, status, base, order_number, PHONE)
    status.click(f'a[href$="/status/orders/{order_number}/"]')
    status.wait_for_url(f"**/status/orders/{order_number}/")
    _no_sideways_scroll(status)
    status.click(f'a[href$="/status/orders/{order_number}/apply/"]')
    status.wait_for_url(f"**/status/orders/{order_number}/apply/")
    _no_sideways_scroll(status)
    form = status.locator("form.apply-form")
    form.locator(".item-pick", has_text="电热水壶").locator("input").fill("1")
    form.locator("input[name=type][value=return_refund]").check()
    form.locator("select[name=reason]").select_option(label="质量问题")
    form.locator("textarea[name=description]").fill("水壶底座漏电，一插电就跳闸")
    form.locator("input[type=file]").set_input_files(str(_jpeg(tmp_path / "kettle.jpg")))
    form.locator("button[type=submit]").click()
    status.wait_for_url(re.compile(r"/status/cases/AS\d+/$"))
    case_number = status.url.rstrip("/").rsplit("/", 1)[1]
    expect(status.locator("ol.progress li.state-current.step-submitted")).to_have_count(1)
    photo = status.locator("ul.photos img")
    expect(photo).to_have_count(1)
    photo.scroll_into_view_if_needed()
    expect(photo).to_have_js_property("complete", True)
    assert photo.evaluate("img => img.naturalWidth") > 0
    _no_sideways_scroll(status)
    customer.assert_clean(status)
    status.screenshot(path=str(SCREENSHOTS / "return-submitted.png"), full_page=True)

    case = _orm(lambda: Case.objects.select_related("ticket").get(number=case_number))
    assert (case.type, case.opened_by, str(case.amount_requested)) == (
        "return_refund",
        "customer",
        "129.00",
    )
    assert _orm(lambda: CasePhoto.objects.filter(case__number=case_number).count()) == 1
    ticket_number = case.ticket.number

    # The agent approves, with where to send the kettle.
    agent = Watched(browser, **PHONE_VIEWPORT)
    page = agent.page()
    _sign_in(page, base, tokens["agent"])
    page.goto(f"{base}/aftersales/{case_number}/")
    review = page.locator("#action-review")
    review.locator("select[name=decision]").select_option("approve")
    review.locator("textarea[name=return_address]").fill("上海市浦东新区张江路 88 号 售后仓 收")
    review.locator("button[type=submit]").click()
    page.wait_for_url(f"**/aftersales/{case_number}/")
    expect(page.locator("#action-review")).to_have_count(0)
    _no_sideways_scroll(page)
    agent.assert_clean(page)
    agent.context.close()

    # The customer sends it back and says how.
    status.reload()
    todo = status.locator("section.todo")
    expect(todo.locator(".address")).to_contain_text("张江路 88 号")
    status.screenshot(path=str(SCREENSHOTS / "return-waiting.png"), full_page=True)
    todo.locator("input[name=carrier]").fill("顺丰")
    todo.locator("input[name=tracking_number]").fill("SF7700112233")
    todo.locator("button[type=submit]").click()
    expect(status.locator("ol.progress li.state-current.step-return_shipped")).to_have_count(1)
    customer.assert_clean(status)

    # The warehouse: received, inspected, refunded.
    aftersales = tokens["aftersales"]
    _event(base, aftersales, case_number, "wh-1", "return.received", note="已签收")
    _event(base, aftersales, case_number, "wh-2", "inspection.passed", note="底座故障属实")
    _event(
        base,
        aftersales,
        case_number,
        "pay-1",
        "refund.completed",
        amount="129.00",
        method="原路退回",
        reference="ALI-REFUND-0002",
    )

    status.reload()
    _assert_progress(
        status,
        case_number,
        done=["submitted", "waiting_for_return", "return_shipped", "received", "inspected"],
        current="refunded",
    )
    expect(status.locator("body")).to_contain_text("SF7700112233")
    _no_sideways_scroll(status)
    customer.assert_clean(status)
    status.screenshot(path=str(SCREENSHOTS / "return-refunded.png"), full_page=True)
    customer.context.close()

    # One notice per step the shop took; none for what the customer did themself (applying,
    # sending the parcel back). The status page's ticket reaches nobody, so they go by SMS.
    notices = _wait_for_notices(ticket_number, 4)
    assert [event for event, _channel, _text in notices] == [
        "case.waiting_for_return",
        "case.received",
        "case.inspected",
        "case.refunded",
    ], notices
    assert {channel for _event, channel, _text in notices} == {"sms"}
    _assert_language(notices, "zh-hans", "电热水壶")
