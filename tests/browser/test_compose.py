"""Writing replies in a real browser: a macro picked with "/" fills its variables and its
action runs when the reply is sent; a photo on a reply shows as a thumbnail; a customer's
photo from the status page appears on the agent's open ticket page."""

import pytest

from tests.browser.helpers import Watched, _orm, _sign_in
from tests.factories import TeamFactory, intake, make_agent
from tests.support.images import jpeg_with_exif
from tickets.models import Macro, Status, Ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def desk(settings, tmp_path):  # type: ignore[no-untyped-def]
    # Made before the browser starts (Playwright's loop runs in this thread).
    settings.MEDIA_ROOT = tmp_path
    team = TeamFactory(name="客服一组", is_default=True)
    agent = make_agent(teams=[team])
    agent.user.first_name = "小美"
    agent.user.save()
    result = intake(text="草莓发霉了，想退款", user_id="u-compose", name="张伟")
    Macro.objects.create(
        name="生鲜质量问题 · 退款",
        body="{customer_name}您好，工单 {ticket_number} 已为您登记退款。——{agent_name}",
        language="zh-hans",
        set_status=Status.PENDING_CUSTOMER,
        add_tag="质量问题",
    )
    Macro.objects.create(name="Greeting", body="Hi {customer_name}", language="en")
    return agent.user.username, result.ticket.number, result.ticket.customer_id


def test_a_macro_picked_with_a_slash_fills_its_variables_and_runs_its_action(
    desk, live_asgi, browser
):
    username, number, _customer = desk
    watched = Watched(browser)
    page = watched.page()
    _sign_in(page, live_asgi, username)
    page.goto(f"{live_asgi}/tickets/{number}/")

    page.click("#id_body")
    page.keyboard.type("/退款")
    option = page.locator("#macro-list .macro-option")
    option.first.wait_for(timeout=10_000)
    assert option.count() == 1  # "Greeting" does not match
    page.keyboard.press("Enter")

    assert page.input_value("#id_body") == f"张伟您好，工单 {number} 已为您登记退款。——小美"
    assert page.locator("#macro-actions").is_visible()
    page.click("button[name=kind][value=reply]")
    page.wait_for_url(f"{live_asgi}/tickets/{number}/")
    page.locator(".msg.dir-out", has_text="已为您登记退款").wait_for(timeout=10_000)

    ticket = _orm(lambda: Ticket.objects.get(number=number))
    assert (ticket.status, ticket.tags) == (Status.PENDING_CUSTOMER, ["质量问题"])
    watched.assert_clean(page)


def test_an_agents_reply_with_a_photo_shows_its_thumbnail(desk, live_asgi, browser):
    username, number, _customer = desk
    watched = Watched(browser)
    page = watched.page()
    _sign_in(page, live_asgi, username)
    page.goto(f"{live_asgi}/tickets/{number}/")

    page.fill("#id_body", "这是退款凭证")
    page.set_input_files(
        "#id_files",
        files=[{"name": "receipt.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_exif()}],
    )
    page.click("button[name=kind][value=reply]")
    page.wait_for_url(f"{live_asgi}/tickets/{number}/")

    thumbnail = page.locator(".msg.dir-out img.thumb")
    thumbnail.wait_for(timeout=10_000)
    # The reply's own live update may draw the timeline again after the page's load event:
    # wait for the image then on the page to have loaded, whichever element it is.
    page.wait_for_function(
        "() => { const image = document.querySelector('.msg.dir-out img.thumb');"
        " return image !== null && image.complete && image.naturalWidth > 0; }",
        timeout=10_000,
    )
    assert thumbnail.evaluate("image => image.naturalWidth") == 64
    watched.assert_clean(page)


def test_a_customers_photo_from_the_status_page_appears_on_the_open_ticket_page(
    desk, live_asgi, browser, settings
):
    from django.contrib.sessions.backends.db import SessionStore

    from tickets.portal import SESSION_KEY

    username, number, customer_id = desk

    def customer_session() -> str:
        session = SessionStore()
        session[SESSION_KEY] = customer_id
        session.create()
        return str(session.session_key)

    agent_side = Watched(browser)
    agent_page = agent_side.page()
    _sign_in(agent_page, live_asgi, username)
    agent_page.goto(f"{live_asgi}/tickets/{number}/")
    agent_page.wait_for_selector("#live-state.up", timeout=10_000)

    customer_side = Watched(browser)
    customer_side.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": _orm(customer_session), "url": live_asgi}]
    )
    customer_page = customer_side.page()
    customer_page.goto(f"{live_asgi}/status/t/{number}/")
    customer_page.fill("#id_text", "这是发霉的草莓")
    customer_page.set_input_files(
        "#id_files",
        files=[{"name": "berries.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_exif()}],
    )
    customer_page.click("form.reply button[type=submit]")
    customer_page.locator(".msg.dir-in img.thumb").wait_for(timeout=10_000)

    # The agent's page was not reloaded: the new message arrives live, photo and all.
    agent_page.locator(".msg.dir-in", has_text="这是发霉的草莓").locator("img.thumb").wait_for(
        timeout=10_000
    )
    customer_side.assert_clean(customer_page)
    agent_side.assert_clean(agent_page)


@pytest.fixture
def chat_shop(live_asgi, settings, tmp_path):  # type: ignore[no-untyped-def]
    from django.core.management import call_command

    settings.EMBEDDED = True  # the demo shop page exists in embedded mode (or with DEBUG) only
    settings.MEDIA_ROOT = tmp_path
    TeamFactory(name="客服一组", is_default=True)
    call_command("seed_demo_chat", origin=[live_asgi], verbosity=0)
    return live_asgi


# Resolves with the image's width once it has loaded (0 if it cannot).
IMAGE_WIDTH = """image => new Promise(done => image.complete ? done(image.naturalWidth)
  : image.addEventListener("load", () => done(image.naturalWidth)))"""


def test_a_chat_visitor_sends_a_photo_and_sees_it_in_the_widget(chat_shop, browser):
    from tickets.models import Attachment

    watched = Watched(browser)
    shop = watched.page()
    shop.goto(f"{chat_shop}/chat/demo/")
    shop.locator("[data-kefu-chat] .dot").wait_for(timeout=10_000)

    shop.set_input_files(
        "[data-kefu-chat] input.file",
        files=[{"name": "oranges.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_exif()}],
    )

    photo = shop.locator("[data-kefu-chat] .msg.from-visitor:not(.pending) .files img")
    photo.wait_for(timeout=10_000)
    assert photo.evaluate(IMAGE_WIDTH) == 64
    names = _orm(lambda: list(Attachment.objects.values_list("filename", "message__channel")))
    assert names == [("oranges.jpg", "chat")]
    watched.assert_clean(shop)
