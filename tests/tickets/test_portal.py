import re

import pytest

from channels_ingest.models import OutboxEntry
from tests.factories import intake
from tickets.services import ticket_add_note, ticket_reply

pytestmark = pytest.mark.django_db


def request_code(client, number: str, contact: str, capture):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        return client.post("/status/", {"number": number, "contact": contact})


def code_in_outbox(to: str) -> str:
    entry = OutboxEntry.objects.filter(to=to, kind="code").latest("created_at")
    match = re.search(r"\b(\d{6})\b", entry.body)
    assert match is not None
    return match.group(1)


def test_a_customer_sees_their_ticket_after_a_code_sent_by_sms(
    client, agent, django_capture_on_commit_callbacks
):
    result = intake(phone="13800138000", text="草莓坏了")
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=result.ticket, author=agent, body="马上为您退款")
    ticket_add_note(ticket=result.ticket, author=agent, body="SECRET-INTERNAL-NOTE")

    lookup = request_code(
        client, result.ticket.number, "138 0013 8000", django_capture_on_commit_callbacks
    )
    code = code_in_outbox("+8613800138000")
    verified = client.post("/status/verify/", {"code": code})
    page = client.get(verified["Location"])

    assert lookup.status_code == 302
    assert OutboxEntry.objects.get(kind="code").channel == "sms"
    assert verified["Location"] == f"/status/t/{result.ticket.number}/"
    html = page.content.decode()
    assert page.status_code == 200
    assert "草莓坏了" in html and "马上为您退款" in html
    assert "SECRET-INTERNAL-NOTE" not in html


def test_an_email_contact_gets_the_code_by_email(
    client, default_team, django_capture_on_commit_callbacks
):
    result = intake(email="li.na@example.com")

    request_code(
        client, result.ticket.number, "Li.Na@example.com", django_capture_on_commit_callbacks
    )

    assert OutboxEntry.objects.get(kind="code").channel == "email"


def test_a_wrong_contact_gets_the_same_answer_and_no_code(
    client, default_team, django_capture_on_commit_callbacks
):
    result = intake(phone="13800138000")
    intake(phone="13900139000")

    wrong = request_code(
        client, result.ticket.number, "13900139000", django_capture_on_commit_callbacks
    )
    unknown = request_code(
        client, "20260101-99999", "13800138000", django_capture_on_commit_callbacks
    )

    assert wrong.status_code == unknown.status_code == 302
    assert wrong["Location"] == unknown["Location"] == "/status/verify/"
    assert OutboxEntry.objects.count() == 0


def test_a_verified_customer_cannot_open_another_customers_ticket(
    client, default_team, django_capture_on_commit_callbacks
):
    mine = intake(phone="13800138000", text="mine")
    theirs = intake(phone="13900139000", text="THEIRS-PRIVATE")
    request_code(client, mine.ticket.number, "13800138000", django_capture_on_commit_callbacks)
    client.post("/status/verify/", {"code": code_in_outbox("+8613800138000")})

    response = client.get(f"/status/t/{theirs.ticket.number}/")

    assert response.status_code == 404
    assert "THEIRS-PRIVATE" not in response.content.decode()
    assert client.get(f"/status/t/{mine.ticket.number}/").status_code == 200


def test_a_wrong_code_is_refused_and_a_code_works_only_once(
    client, default_team, django_capture_on_commit_callbacks
):
    result = intake(phone="13800138000")
    request_code(client, result.ticket.number, "13800138000", django_capture_on_commit_callbacks)
    code = code_in_outbox("+8613800138000")
    wrong = "000000" if code != "000000" else "111111"

    refused = client.post("/status/verify/", {"code": wrong})
    accepted = client.post("/status/verify/", {"code": code})
    client.cookies.clear()
    other_browser_session = client.session
    other_browser_session["kefu_status_number"] = result.ticket.number
    other_browser_session.save()
    reused = client.post("/status/verify/", {"code": code})

    assert refused.status_code == 200
    assert accepted.status_code == 302
    assert reused.status_code == 200


def test_codes_lock_after_too_many_wrong_attempts(
    client, default_team, settings, django_capture_on_commit_callbacks
):
    settings.STATUS_CODE_MAX_ATTEMPTS = 3
    result = intake(phone="13800138000")
    request_code(client, result.ticket.number, "13800138000", django_capture_on_commit_callbacks)
    code = code_in_outbox("+8613800138000")
    wrong = "000000" if code != "000000" else "111111"

    for _ in range(3):
        client.post("/status/verify/", {"code": wrong})
    late = client.post("/status/verify/", {"code": code})

    assert late.status_code == 200
    assert client.get(f"/status/t/{result.ticket.number}/").status_code == 404


def test_the_lookup_form_is_rate_limited(client, default_team, settings):
    settings.RATELIMIT_ENABLE = True
    settings.STATUS_RATE_LIMIT = "3/m"

    codes = [
        client.post("/status/", {"number": "1", "contact": "13800138000"}).status_code
        for _ in range(5)
    ]

    assert codes == [302, 302, 302, 429, 429]
