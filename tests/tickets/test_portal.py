import re

import pytest

from channels_ingest.models import OutboxEntry
from tests.factories import intake
from tickets.services.workflow import ticket_add_note, ticket_reply

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

    assert late.status_code == 429
    assert client.get(f"/status/t/{result.ticket.number}/").status_code == 404


def test_the_lookup_form_is_rate_limited(client, default_team, settings):
    settings.RATELIMIT_ENABLE = True
    settings.STATUS_RATE_LIMIT = "3/h"  # an hour: the window does not roll over mid-test

    codes = [
        client.post("/status/", {"number": "1", "contact": "13800138000"}).status_code
        for _ in range(5)
    ]

    assert codes == [302, 302, 302, 429, 429]


def verified_client(client, number: str, capture) -> None:  # type: ignore[no-untyped-def]
    request_code(client, number, "13800138000", capture)
    client.post("/status/verify/", {"code": code_in_outbox("+8613800138000")})


def test_a_verified_customer_writes_on_their_ticket_from_the_status_page(
    client, default_team, django_capture_on_commit_callbacks
):
    import uuid

    result = intake(phone="13800138000", text="订单没到")
    verified_client(client, result.ticket.number, django_capture_on_commit_callbacks)
    token = str(uuid.uuid4())

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(
            f"/status/t/{result.ticket.number}/", {"text": "还有一个问题", "token": token}
        )
        again = client.post(
            f"/status/t/{result.ticket.number}/", {"text": "还有一个问题", "token": token}
        )

    bodies = list(
        result.ticket.messages.filter(direction="in").order_by("pk").values_list("body", flat=True)
    )
    assert (first.status_code, again.status_code) == (302, 302)
    assert bodies == ["订单没到", "还有一个问题"]
    assert "还有一个问题" in client.get(f"/status/t/{result.ticket.number}/").content.decode()


def test_the_answer_bot_replies_on_the_status_page(
    client, default_team, django_capture_on_commit_callbacks
):
    import uuid

    from tests.kb.factories import make_article

    make_article(
        title="退款多久到账",
        questions=("退款什么时候到账",),
        body="退款审核通过后原路退回，一般1-3个工作日到账。",
    )
    result = intake(phone="13800138000", text="你好", channel="sms")
    verified_client(client, result.ticket.number, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/status/t/{result.ticket.number}/",
            {"text": "退款什么时候到账？", "token": str(uuid.uuid4())},
        )

    page = client.get(f"/status/t/{result.ticket.number}/").content.decode()
    assert "1-3个工作日" in page


def test_someone_without_the_code_cannot_write_on_a_ticket(client, default_team):
    result = intake(phone="13800138000", text="订单没到")

    response = client.post(f"/status/t/{result.ticket.number}/", {"text": "x", "token": "y"})

    assert response.status_code == 404
    assert result.ticket.messages.count() == 1
