import httpx
import pytest

from tests.factories import TeamFactory, issue_token, make_agent
from tests.support.environment import ON_POSTGRES

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def queue_setup():  # type: ignore[no-untyped-def]
    # Made before the browser starts: Playwright's sync API runs an event loop in this
    # thread, and Django refuses ORM calls from a thread with a running loop.
    team = TeamFactory(name="客服一组", is_default=True)
    agent = make_agent(teams=[team])
    return agent.user.username, issue_token("browser-test")


@pytest.mark.parametrize(
    "queued",
    [
        pytest.param(False, id="inline"),
        pytest.param(
            True,
            id="queued",
            marks=pytest.mark.skipif(
                not ON_POSTGRES,
                reason="needs PostgreSQL (set DATABASE_URL): queued intake reserves ticket "
                "ids from the tickets' sequence",
            ),
        ),
    ],
)
def test_an_open_queue_shows_a_ticket_posted_through_the_api_without_a_reload(
    queue_setup, live_asgi, browser, settings, queued
):
    # Queued: the answer carries the promised number and the drain (eager here, right after
    # the answer's commit) opens the ticket under it.
    settings.INBOUND_QUEUED = queued
    username, token = queue_setup
    page = browser.new_page()

    page.goto(f"{live_asgi}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_asgi}/")
    page.wait_for_selector("#live-state.up", timeout=10_000)
    # Marks this document: a reload would make a new one without the mark.
    page.evaluate("window.kefuTestMark = 'same-document'")
    assert page.locator("tr[data-number]").count() == 0

    response = httpx.post(
        f"{live_asgi}/api/v1/inbound/app",
        headers={"Authorization": f"Token {token}"},
        json={
            "message_id": "browser-1",
            "user_id": "u-browser",
            "name": "王芳",
            "text": "我的橙子烂了三个，想退款",
        },
        timeout=10,
    )
    assert response.status_code == 201
    number = response.json()["ticket_number"]

    row = page.wait_for_selector(f'tr[data-number="{number}"]', timeout=10_000)
    assert "我的橙子烂了三个" in row.inner_text()
    assert page.evaluate("window.kefuTestMark") == "same-document"
    page.close()


def test_a_queue_whose_session_ended_goes_to_the_login_page_instead_of_showing_it_in_the_table(
    queue_setup, live_asgi, browser
):
    username, token = queue_setup
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_asgi}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_asgi}/")
    page.wait_for_selector("#live-state.up", timeout=10_000)

    # Signed out elsewhere: the open socket still brings events, but the fragment request
    # is sent to the login page.
    context.clear_cookies()
    response = httpx.post(
        f"{live_asgi}/api/v1/inbound/app",
        headers={"Authorization": f"Token {token}"},
        json={"message_id": "browser-2", "user_id": "u-browser", "text": "还在吗"},
        timeout=10,
    )
    assert response.status_code == 201

    page.wait_for_url("**/accounts/login/?next=/", timeout=10_000)
    assert page.locator("#queue-rows").count() == 0
    context.close()
