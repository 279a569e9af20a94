"""The demo shop page and its chat site."""

import re
import time

import pytest
from django.core.management import call_command

from channels_ingest.chat.identity import visitor_verify
from channels_ingest.models import ChatSite

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_site():  # type: ignore[no-untyped-def]
    call_command("seed_demo_chat", verbosity=0)
    return ChatSite.objects.get(key="demo")


def test_the_demo_page_embeds_the_widget_with_a_valid_signature(client, settings, demo_site):
    settings.EMBEDDED = True
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get("/chat/demo/", HTTP_HOST="127.0.0.1:8000")

    assert response.status_code == 200
    html = response.content.decode()
    tag = re.search(r'<script src="/static/kefu/chat-widget.js"([^>]*)>', html)
    assert tag is not None
    attributes = dict(re.findall(r'data-([a-z]+)="([^"]*)"', tag.group(1)))
    visitor = visitor_verify(
        secret=demo_site.secret,
        site_key=attributes["site"],
        user_id=attributes["user"],
        expires=attributes["expires"],
        signature=attributes["signature"],
        name=attributes["name"],
        now=time.time(),
        max_ahead_seconds=settings.CHAT_SIGNATURE_MAX_SECONDS,
    )
    assert (visitor.address, visitor.name) == ("u2001", "陈静")
    assert "is not among the demo chat site's allowed origins" not in html


def test_the_anonymous_demo_has_no_user_and_a_foreign_origin_is_warned_about(
    client, settings, demo_site
):
    settings.EMBEDDED = True
    settings.ALLOWED_HOSTS = ["*"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = client.get("/chat/demo/?as=anonymous", HTTP_HOST="10.1.2.3:9000").content.decode()

    assert 'data-site="demo"' in html
    assert "data-user=" not in html and "data-signature=" not in html
    assert "http://10.1.2.3:9000 is not among the demo chat site's allowed origins" in html


def test_the_demo_page_does_not_exist_in_production(client, settings, demo_site):
    settings.EMBEDDED = False
    settings.DEBUG = False

    assert client.get("/chat/demo/").status_code == 404


def test_seeding_the_demo_site_again_only_adds_origins(demo_site):
    call_command("seed_demo_chat", origin=["http://10.1.2.3:9000/"], verbosity=0)

    site = ChatSite.objects.get()
    assert site.secret == demo_site.secret
    assert site.origins() == {
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://10.1.2.3:9000",
    }
