import httpx
import pytest

from channels_ingest.phone.services import pbx_issue
from tests.factories import TeamFactory, make_agent

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def pop_setup():  # type: ignore[no-untyped-def]
    # Made before the browser starts (Playwright's loop makes the ORM refuse this thread).
    team = TeamFactory(name="客服一组", is_default=True)
    agent = make_agent(teams=[team])
    _pbx, key = pbx_issue(name="office", default_team=team, actor=None)
    return agent.user.username, key


def test_a_ringing_call_pops_up_on_the_queue_and_the_caller_can_be_created(
    pop_setup, live_asgi, browser
):
    username, key = pop_setup
    webhook = f"{live_asgi}/webhooks/phone/office/"
    headers = {"Authorization": f"Token {key}"}
    page = browser.new_page()
    page.goto(f"{live_asgi}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_asgi}/")
    page.wait_for_selector("#live-state.up", timeout=10_000)

    ringing = httpx.post(
        webhook,
        headers=headers,
        json={
            "event": "newCall",
            "callId": "pop-1",
            "direction": "in",
            "from": "13900139000",
            "to": "4008001234",
            "queue": "support",
        },
        timeout=10,
    )
    assert ringing.status_code == 200
    pop = page.wait_for_selector(".call-pop.state-ringing", timeout=10_000)
    assert "+86139****9000" in pop.inner_text()
    assert pop.query_selector(".badge.vip") is None
    assert "13900139000" not in pop.inner_text().replace("+86139****9000", "")
    form = pop.query_selector('form[data-field="create"]')
    assert form is not None and form.get_attribute("action").endswith("/customer/")

    httpx.post(webhook, headers=headers, json={"event": "answer", "callId": "pop-1"}, timeout=10)
    page.wait_for_selector(".call-pop.state-answered", timeout=10_000)

    page.fill('.call-pop input[name="name"]', "李雷")
    page.click('.call-pop form[data-field="create"] button[type=submit]')
    page.wait_for_url("**/calls/*/", timeout=10_000)
    assert "李雷" in page.inner_text("#caller")

    page.goto(f"{live_asgi}/")
    page.wait_for_selector("#live-state.up", timeout=10_000)
    httpx.post(
        webhook,
        headers=headers,
        json={
            "event": "newCall",
            "callId": "pop-2",
            "direction": "in",
            "from": "13900139000",
            "to": "4008001234",
        },
        timeout=10,
    )
    known = page.wait_for_selector(".call-pop", timeout=10_000)
    assert "李雷" in known.inner_text()
    assert known.query_selector('form[data-field="create"]') is None
    known.query_selector('[data-action="dismiss"]').click()
    assert page.locator(".call-pop").count() == 0
    page.close()
