"""Complaints in Chromium: a supervisor cannot close a complaint before its root-cause
review (the page says why and the ticket stays open); with the review recorded, it closes."""

import pytest

from tests.browser.helpers import Watched, _orm, _sign_in
from tests.factories import TeamFactory, intake, make_agent
from tickets.models import Status, Ticket

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def complaint():  # type: ignore[no-untyped-def]
    # Made before the browser starts (Playwright's loop would refuse the ORM in this thread).
    team = TeamFactory(name="客服一组", is_default=True)
    supervisor = make_agent(teams=[team], role="supervisor")
    ticket = intake(text="我要投诉你们的客服，态度太差了", user_id="browser-complaint").ticket
    return {"supervisor": supervisor.user.username, "ticket": ticket.number}


def test_a_complaint_closes_only_with_its_review(complaint, live_asgi, browser):  # type: ignore[no-untyped-def]
    base = live_asgi
    watched = Watched(browser, locale="en-US")
    watched.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    page = watched.page()
    _sign_in(page, base, complaint["supervisor"])
    number = complaint["ticket"]

    # Without the review: refused, with the reason on the page.
    page.goto(f"{base}/tickets/{number}/")
    card = page.locator("#complaint-card")
    expect(card).to_contain_text("Needs its root-cause review")
    status_form = page.locator(f"form[action='/tickets/{number}/status/']")
    status_form.locator("select[name=status]").select_option(Status.CLOSED)
    status_form.get_by_role("button", name="Set status").click()
    expect(page.locator(".flash")).to_contain_text("a supervisor must record its root-cause review")
    assert _orm(lambda: Ticket.objects.get(number=number).status) == Status.NEW

    # The review, from the complaint card.
    card.get_by_role("link", name="Review this complaint").click()
    expect(page).to_have_url(f"{base}/complaints/{number}/")
    form = page.locator("#complaint-review-form")
    form.get_by_label("Root cause").select_option(label="Agent attitude")
    form.get_by_label("Responsible department").fill("Customer service")
    form.get_by_label("Corrective action").fill("Service etiquette training for the team")
    form.get_by_label("Action due").fill("2031-01-31")
    form.get_by_label("Action status").select_option("in_progress")
    form.get_by_role("button", name="Save the review").click()
    expect(page.locator(".flash")).to_contain_text("The review is saved.")

    # With it: the ticket closes.
    page.goto(f"{base}/tickets/{number}/")
    expect(page.locator("#complaint-review-state")).to_contain_text("Agent attitude")
    status_form = page.locator(f"form[action='/tickets/{number}/status/']")
    status_form.locator("select[name=status]").select_option(Status.CLOSED)
    status_form.get_by_role("button", name="Set status").click()
    expect(page.locator(".flash")).to_have_count(0)
    watched.assert_clean(page)
    watched.context.close()
    assert _orm(lambda: Ticket.objects.get(number=number).status) == Status.CLOSED
