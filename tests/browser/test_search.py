"""Find anything from the header's search box, in a desktop browser: a phone number typed
in another format than it is stored, and an order number the after-sales app knows."""

import pytest
from django.utils import timezone

from aftersales.models import TicketOrder
from tests.aftersales.factories import make_order
from tests.browser.helpers import Watched, _sign_in
from tests.factories import TeamFactory, intake, make_agent

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "zh-CN"}


@pytest.fixture
def search_setup():  # type: ignore[no-untyped-def]
    # Made before the browser starts (Playwright's loop makes the ORM refuse this thread).
    team = TeamFactory(name="客服一组", is_default=True)
    agent = make_agent(teams=[team])
    by_phone = intake(text="草莓发霉了", phone="+8613800138000", name="王小明").ticket
    by_order = intake(text="Where is my parcel?", user_id="u-browser-order").ticket
    order = make_order(by_order.customer, number="SO2026778899")
    TicketOrder.objects.get_or_create(
        ticket=by_order, defaults={"order": order, "linked_at": timezone.now(), "how": "agent"}
    )
    return agent.user.username, by_phone.number, by_order.number


def _search_from_header(page, text):  # type: ignore[no-untyped-def]
    box = page.locator("header.top form.search-box input[name=q]")
    box.fill(text)
    box.press("Enter")
    page.wait_for_selector("#search-tickets, #search-nothing", timeout=10_000)


def test_a_phone_typed_with_spaces_finds_the_customer_stored_in_e164(
    search_setup, live_asgi, browser
):
    username, phone_ticket, _order_ticket = search_setup
    watched = Watched(browser, **DESKTOP)
    page = watched.page()
    _sign_in(page, live_asgi, username)

    _search_from_header(page, "138 0013 8000")

    rows = page.locator("#search-tickets tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-number") == phone_ticket
    customers = page.locator("#search-customers li")
    assert customers.count() == 1
    assert "王小明" in customers.first.inner_text()
    # Masked as on the ticket page.
    assert "+86138****8000" in customers.first.inner_text()
    assert "13800138000" not in page.content()
    watched.assert_clean(page)

    page.click(f"#search-tickets a:text('{phone_ticket}')")
    page.wait_for_url(f"{live_asgi}/tickets/{phone_ticket}/")


def test_an_order_number_finds_the_ticket_linked_to_it(search_setup, live_asgi, browser):
    username, _phone_ticket, order_ticket = search_setup
    watched = Watched(browser, **DESKTOP)
    page = watched.page()
    _sign_in(page, live_asgi, username)

    _search_from_header(page, "so2026778899")

    rows = page.locator("#search-tickets tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-number") == order_ticket
    assert page.locator("header.top form.search-box input[name=q]").input_value() == (
        "so2026778899"
    )
    watched.assert_clean(page)


def test_a_ticket_number_opens_the_ticket(search_setup, live_asgi, browser):
    username, phone_ticket, _order_ticket = search_setup
    watched = Watched(browser, **DESKTOP)
    page = watched.page()
    _sign_in(page, live_asgi, username)

    box = page.locator("header.top form.search-box input[name=q]")
    box.fill(phone_ticket)
    box.press("Enter")

    page.wait_for_url(f"{live_asgi}/tickets/{phone_ticket}/")
    watched.assert_clean(page)
