"""The status page's code proves the customer: asked for with a ticket or an order number,
it opens every ticket of that customer and no one else's."""

import re
import statistics
import time

import pytest

from channels_ingest.models import OutboxEntry
from tests.factories import intake
from tickets.models import ContactIdentity, IdentityKind, StatusAccessCode
from tickets.portal import SESSION_KEY
from tickets.services import portal

pytestmark = pytest.mark.django_db

PHONE = "13800138000"
E164 = "+8613800138000"


@pytest.fixture(autouse=True)
def _no_floor(settings):  # type: ignore[no-untyped-def]
    settings.STATUS_LOOKUP_MIN_SECONDS = 0.0


def ask(client, number: str, contact: str, capture):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        return client.post("/status/", {"number": number, "contact": contact})


def last_code(to: str) -> str:
    body = OutboxEntry.objects.filter(to=to, kind="code").latest("created_at").body
    match = re.search(r"\b(\d{6})\b", body)
    assert match is not None
    return match.group(1)


def with_order(ticket_result, number: str = "SO2026000001") -> str:  # type: ignore[no-untyped-def]
    ContactIdentity.objects.create(
        customer=ticket_result.ticket.customer, kind=IdentityKind.ORDER, value=number
    )
    return number


def test_an_order_number_and_phone_open_the_customers_home_with_all_their_tickets(
    client, default_team, django_capture_on_commit_callbacks
):
    first = intake(phone=PHONE, text="第一个问题", channel="sms")
    second = intake(phone=PHONE, text="第二个问题", channel="app")
    other = intake(phone="13900139000", text="THEIRS")
    order = with_order(first)

    lookup = ask(client, order, "138 0013 8000", django_capture_on_commit_callbacks)
    verified = client.post("/status/verify/", {"code": last_code(E164)})
    home = client.get("/status/home/")

    assert lookup["Location"] == "/status/verify/"
    assert verified["Location"] == "/status/home/"
    assert client.session[SESSION_KEY] == first.ticket.customer_id
    html = home.content.decode()
    assert first.ticket.number in html and second.ticket.number in html
    assert other.ticket.number not in html
    assert client.get(f"/status/t/{second.ticket.number}/").status_code == 200
    assert client.get(f"/status/t/{other.ticket.number}/").status_code == 404


def test_a_ticket_number_still_leads_to_that_ticket_and_then_to_all_of_the_customers(
    client, default_team, django_capture_on_commit_callbacks
):
    first = intake(phone=PHONE, text="一", channel="sms")
    second = intake(phone=PHONE, text="二", channel="app")

    ask(client, first.ticket.number, PHONE, django_capture_on_commit_callbacks)
    verified = client.post("/status/verify/", {"code": last_code(E164)})

    assert verified["Location"] == f"/status/t/{first.ticket.number}/"
    assert client.get(f"/status/t/{second.ticket.number}/").status_code == 200


def test_another_customers_order_number_sends_nothing_and_answers_the_same(
    client, default_team, django_capture_on_commit_callbacks
):
    mine = intake(phone=PHONE)
    theirs = intake(phone="13900139000")
    order = with_order(theirs)

    wrong = ask(client, order, PHONE, django_capture_on_commit_callbacks)
    unknown = ask(client, "SO-NOPE", PHONE, django_capture_on_commit_callbacks)
    right = ask(client, mine.ticket.number, PHONE, django_capture_on_commit_callbacks)

    assert wrong["Location"] == unknown["Location"] == right["Location"] == "/status/verify/"
    assert OutboxEntry.objects.filter(kind="code").count() == 1


def test_the_cap_counts_codes_per_customer_whichever_number_was_named(
    client, default_team, django_capture_on_commit_callbacks
):
    result = intake(phone=PHONE, email="li.na@example.com")
    order = with_order(result)

    for number, contact in [
        (order, PHONE),
        (result.ticket.number, "li.na@example.com"),
        (order, "li.na@example.com"),
        (result.ticket.number, PHONE),
    ]:
        ask(client, number, contact, django_capture_on_commit_callbacks)

    assert StatusAccessCode.objects.filter(customer=result.ticket.customer).count() == 3
    assert OutboxEntry.objects.filter(kind="code").count() == 3


def test_wrong_codes_lock_the_customer_whichever_number_is_used(
    client, default_team, settings, django_capture_on_commit_callbacks
):
    settings.STATUS_CODE_MAX_ATTEMPTS = 2
    result = intake(phone=PHONE)
    order = with_order(result)
    ask(client, order, PHONE, django_capture_on_commit_callbacks)
    code = last_code(E164)
    wrong = "000000" if code != "000000" else "111111"
    client.post("/status/verify/", {"code": wrong})
    ask(client, result.ticket.number, PHONE, django_capture_on_commit_callbacks)
    client.post("/status/verify/", {"code": wrong})

    late = client.post("/status/verify/", {"code": last_code(E164)})

    assert late.status_code == 429
    assert client.get("/status/home/")["Location"] == "/status/"


def test_signing_out_forgets_the_customer(client, default_team, django_capture_on_commit_callbacks):
    result = intake(phone=PHONE)
    ask(client, result.ticket.number, PHONE, django_capture_on_commit_callbacks)
    client.post("/status/verify/", {"code": last_code(E164)})

    signed_out = client.post("/status/sign-out/")

    assert signed_out["Location"] == "/status/"
    assert client.get(f"/status/t/{result.ticket.number}/").status_code == 404
    assert client.get("/status/home/")["Location"] == "/status/"


def test_internal_notes_never_show_on_the_home_or_ticket_page(
    client, agent, django_capture_on_commit_callbacks
):
    from tickets.services.workflow import ticket_add_note

    result = intake(phone=PHONE, text="我自己写的 13800138000")
    ticket_add_note(ticket=result.ticket, author=agent, body="SECRET-NOTE")
    ask(client, result.ticket.number, PHONE, django_capture_on_commit_callbacks)
    client.post("/status/verify/", {"code": last_code(E164)})

    pages = (
        client.get("/status/home/").content.decode()
        + client.get(f"/status/t/{result.ticket.number}/").content.decode()
    )

    assert "SECRET-NOTE" not in pages
    assert "我自己写的 13800138000" in pages


def test_an_order_lookup_takes_as_long_as_a_ticket_lookup_or_a_miss(default_team, settings):
    settings.STATUS_LOOKUP_MIN_SECONDS = 0.12
    settings.STATUS_CODES_PER_HOUR = settings.STATUS_CODES_PER_DAY = 1000
    result = intake(phone=PHONE)
    order = with_order(result)

    def timed(number: str, contact: str) -> float:
        started = time.perf_counter()
        portal.status_code_request(number=number, contact=contact)
        return time.perf_counter() - started

    by_order = statistics.median(timed(order, PHONE) for _ in range(5))
    by_ticket = statistics.median(timed(result.ticket.number, PHONE) for _ in range(5))
    wrong_phone = statistics.median(timed(order, "13900139000") for _ in range(5))
    no_order = statistics.median(timed("SO-NOPE", PHONE) for _ in range(5))

    times = (by_order, by_ticket, wrong_phone, no_order)
    assert StatusAccessCode.objects.count() == 10
    assert min(times) >= 0.12
    assert max(times) - min(times) < 0.01


def test_erasing_a_customer_removes_codes_asked_for_with_an_order_number(
    client, default_team, django_capture_on_commit_callbacks
):
    from tickets.models import Ticket
    from tickets.services.privacy import customer_erase

    result = intake(phone=PHONE)
    order = with_order(result)
    ask(client, order, PHONE, django_capture_on_commit_callbacks)
    assert StatusAccessCode.objects.filter(ticket=None).count() == 1
    Ticket.objects.filter(pk=result.ticket.pk).update(status="closed")

    customer_erase(customer=result.ticket.customer, actor=None, via="command")

    assert StatusAccessCode.objects.count() == 0


def test_the_pages_speak_the_customers_language_unless_the_browser_chose_one(
    client, default_team, django_capture_on_commit_callbacks, settings
):
    ticket = intake(phone=PHONE, text="My parcel is late", channel="sms").ticket
    assert ticket.customer.language == "en"

    ask(client, ticket.number, PHONE, django_capture_on_commit_callbacks)
    verified = client.post("/status/verify/", {"code": last_code(E164)})
    page = client.get(f"/status/t/{ticket.number}/")

    assert verified.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert '<html lang="en"' in page.content.decode()

    # A browser that picked Chinese in the menu keeps it.
    other = client_class_fresh()
    other.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    ask(other, ticket.number, PHONE, django_capture_on_commit_callbacks)
    kept = other.post("/status/verify/", {"code": last_code(E164)})
    assert settings.LANGUAGE_COOKIE_NAME not in kept.cookies


def client_class_fresh():  # type: ignore[no-untyped-def]
    from django.test import Client

    return Client()
