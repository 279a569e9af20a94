"""The scheduled reports' settings page in Chromium: a supervisor subscribes, previews and
sends the after-sales report now, under the Content-Security-Policy."""

import pytest

from analytics.models import ReportSubscription
from channels_ingest.models import OutboxEntry
from tests.browser.helpers import Watched, _orm, _sign_in
from tests.factories import TeamFactory, make_agent

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def supervisor_name():  # type: ignore[no-untyped-def]
    team = TeamFactory(name="客服一组", is_default=True)
    user = make_agent(teams=[team], role="supervisor").user
    user.email = "chen@shop.example"
    user.save(update_fields=["email"])
    return user.username


def test_a_supervisor_subscribes_previews_and_sends_the_report_now(
    supervisor_name, live_asgi, browser
):
    watched = Watched(browser, locale="en-US")
    page = watched.page()
    _sign_in(page, live_asgi, supervisor_name)
    page.goto(f"{live_asgi}/reports/scheduled/")
    expect(page.locator("#subscriptions")).to_contain_text("No subscriptions yet.")

    page.click("#subscription-add")
    page.wait_for_url(f"{live_asgi}/reports/scheduled/new/")
    page.select_option("#subscription-form select[name=report]", "aftersales_monthly")
    page.select_option("#subscription-form select[name=language]", "en")
    page.uncheck("#subscription-form input[name=attach_pdf]")
    page.click("#subscription-form button[type=submit]")

    page.wait_for_url(f"{live_asgi}/reports/scheduled/")
    row = page.locator("#subscriptions tbody tr")
    expect(row).to_contain_text("After-sales service report, monthly")
    expect(row).to_contain_text("chen@shop.example")
    with page.expect_download() as download:
        row.get_by_role("link", name="XLSX").click()
    assert download.value.suggested_filename.startswith("kefu-aftersales-monthly_")
    row.get_by_role("button", name="Send now").click()
    expect(page.locator(".flash")).to_contain_text("Sent to 1 recipients.")
    watched.assert_clean(page)
    subscription = _orm(ReportSubscription.objects.get)
    assert (subscription.attach_xlsx, subscription.attach_pdf) == (True, False)
    entry = _orm(OutboxEntry.objects.get)
    assert entry.to == "chen@shop.example"
    assert entry.subject.startswith("After-sales service report (monthly) ")
