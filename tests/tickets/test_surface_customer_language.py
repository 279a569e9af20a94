"""What Kefu sends a customer by itself is in the customer's language: the status page's
one-time code follows `Customer.language`, else the language of the page that asked."""

import pytest

from channels_ingest.models import OutboxEntry
from tests.factories import intake
from tickets.models import Customer

pytestmark = pytest.mark.django_db

PHONE = "13800138000"


@pytest.fixture(autouse=True)
def _no_floor(settings):  # type: ignore[no-untyped-def]
    settings.STATUS_LOOKUP_MIN_SECONDS = 0.0


def ask(client, number, capture, **headers):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        return client.post("/status/", {"number": number, "contact": PHONE}, **headers)


def test_an_english_customer_gets_the_code_in_english_from_a_chinese_page(
    client, default_team, django_capture_on_commit_callbacks, settings
):
    ticket = intake(phone=PHONE).ticket
    Customer.objects.filter(pk=ticket.customer_id).update(language="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    assert ask(client, ticket.number, django_capture_on_commit_callbacks).status_code == 302

    code = OutboxEntry.objects.get(kind="code")
    assert code.subject == "Your Kefu verification code"
    assert code.body.startswith("Your code to see your tickets and orders")


def test_a_customer_of_no_known_language_gets_the_code_in_the_pages_language(
    client, default_team, django_capture_on_commit_callbacks
):
    ticket = intake(phone=PHONE).ticket

    ask(client, ticket.number, django_capture_on_commit_callbacks, HTTP_ACCEPT_LANGUAGE="en")
    english = OutboxEntry.objects.get(kind="code")
    OutboxEntry.objects.all().delete()
    ask(client, ticket.number, django_capture_on_commit_callbacks, HTTP_ACCEPT_LANGUAGE="zh-CN")
    chinese = OutboxEntry.objects.get(kind="code")

    assert english.body.startswith("Your code")
    assert chinese.subject != english.subject and "验证码" in chinese.body
