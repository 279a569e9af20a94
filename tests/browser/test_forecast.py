"""The forecast and staffing pages in Chromium: their charts draw under the
Content-Security-Policy and the channel picker redraws the forecast."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from analytics.models import ForecastRun
from tests.browser.helpers import Watched, _sign_in
from tests.factories import TeamFactory, make_agent

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def planned():  # type: ignore[no-untyped-def]
    team = TeamFactory(name="客服一组", is_default=True)
    supervisor = make_agent(teams=[team], role="supervisor")
    start = datetime.combine(
        timezone.localdate() + timedelta(days=1), time(), tzinfo=timezone.get_default_timezone()
    )
    shape = [0.0] * 16 + [4.0] * 28 + [0.0] * 4
    ForecastRun.objects.create(
        computed_at=timezone.now(),
        start=start,
        interval_minutes=30,
        intervals=14 * 48,
        history_days=70,
        forecast={"phone": shape * 14, "chat": [v * 2 for v in shape] * 14},
        backtest={
            "start": (start - timedelta(days=28)).isoformat(),
            "actual": {"phone": shape * 28, "chat": shape * 28},
            "predicted": {"phone": shape * 28, "chat": shape * 28},
        },
        accuracy={"": {"mape": 0.05, "wape": 0.2, "days": 28}},
    )
    return supervisor.user.username


def test_the_forecast_and_staffing_charts_draw_under_the_csp(planned, live_asgi, browser):
    watched = Watched(browser)
    page = watched.page()
    _sign_in(page, live_asgi, planned)

    page.goto(f"{live_asgi}/reports/forecast/")

    expect(page.locator("html")).to_have_attribute("data-charts-ready", "1", timeout=10_000)
    expect(page.locator("#chart-forecast canvas")).to_have_count(1)
    page.select_option("#forecast-channel", index=2)
    page.locator("#chart-forecast canvas").hover()
    watched.assert_clean(page)

    page.goto(f"{live_asgi}/reports/staffing/")

    expect(page.locator("html")).to_have_attribute("data-charts-ready", "1", timeout=10_000)
    expect(page.locator("#chart-staffing canvas")).to_have_count(1)
    expect(page.locator("#staffing-table tbody tr")).to_have_count(48)
    watched.assert_clean(page)
    watched.context.close()
