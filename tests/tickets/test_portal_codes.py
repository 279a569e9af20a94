"""The status page's one-time codes: how many are sent, how many guesses a ticket allows,
and that the lookup answers alike whether or not the ticket and contact matched."""

import statistics
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from channels_ingest.models import OutboxEntry
from tests.factories import intake
from tests.support.environment import requires_postgres
from tickets.models import StatusAccessCode
from tickets.services import portal

pytestmark = pytest.mark.django_db

PHONE = "13800138000"
E164 = "+8613800138000"


@pytest.fixture(autouse=True)
def _no_floor(settings):  # type: ignore[no-untyped-def]
    settings.STATUS_LOOKUP_MIN_SECONDS = 0.0


def ask(client, number: str, contact: str = PHONE, *, capture):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        return client.post("/status/", {"number": number, "contact": contact})


def a_code_for(ticket, *, destination: str = E164, hours_ago: float = 0) -> StatusAccessCode:  # type: ignore[no-untyped-def]
    access = StatusAccessCode.objects.create(
        customer=ticket.customer,
        ticket=ticket,
        destination=destination,
        code_hash="0" * 64,
        expires_at=timezone.now() + timedelta(minutes=10),
    )
    if hours_ago:
        created = timezone.now() - timedelta(hours=hours_ago)
        StatusAccessCode.objects.filter(pk=access.pk).update(created_at=created)
    return access


def test_a_ticket_is_sent_at_most_three_codes_an_hour(
    client, default_team, django_capture_on_commit_callbacks
):
    result = intake(phone=PHONE)

    answers = [
        ask(client, result.ticket.number, capture=django_capture_on_commit_callbacks).status_code
        for _ in range(5)
    ]

    assert answers == [302] * 5
    assert OutboxEntry.objects.filter(kind="code", to=E164).count() == 3


def test_a_phone_is_sent_at_most_three_codes_an_hour_across_its_tickets(
    client, default_team, django_capture_on_commit_callbacks
):
    result = intake(phone=PHONE)
    other = intake(phone="13900139000").ticket
    for _ in range(3):
        a_code_for(other, destination=E164)

    ask(client, result.ticket.number, capture=django_capture_on_commit_callbacks)

    assert OutboxEntry.objects.filter(kind="code").count() == 0


def test_a_ticket_is_sent_at_most_ten_codes_a_day(
    client, default_team, django_capture_on_commit_callbacks
):
    result = intake(phone=PHONE)
    for hours_ago in range(2, 12):
        a_code_for(result.ticket, hours_ago=hours_ago)
    a_code_for(result.ticket, hours_ago=25)  # outside the day: does not count

    ask(client, result.ticket.number, capture=django_capture_on_commit_callbacks)

    assert OutboxEntry.objects.filter(kind="code").count() == 0


def test_codes_sent_over_an_hour_ago_leave_room_for_new_ones(
    client, default_team, django_capture_on_commit_callbacks
):
    result = intake(phone=PHONE)
    for _ in range(3):
        a_code_for(result.ticket, hours_ago=1.5)

    ask(client, result.ticket.number, capture=django_capture_on_commit_callbacks)

    assert OutboxEntry.objects.filter(kind="code").count() == 1


def test_asking_too_often_says_so_whether_or_not_the_ticket_and_phone_match(
    client, default_team, settings, django_capture_on_commit_callbacks
):
    settings.RATELIMIT_ENABLE = True
    settings.STATUS_RATE_LIMIT = "100/m"
    result = intake(phone=PHONE)

    def four_times(contact: str) -> list[int]:
        return [
            ask(
                client, result.ticket.number, contact, capture=django_capture_on_commit_callbacks
            ).status_code
            for _ in range(4)
        ]

    matching = four_times("138 0013 8000")
    not_matching = four_times("13900139000")
    told = client.post("/status/", {"number": result.ticket.number, "contact": PHONE})

    assert matching == not_matching == [302, 302, 302, 429]
    assert "该工单和联系方式申请验证码的次数过多" in told.content.decode()
    assert OutboxEntry.objects.filter(kind="code").count() == 3


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def latest_code() -> str:
    import re

    body = OutboxEntry.objects.filter(kind="code").latest("created_at").body
    match = re.search(r"\b(\d{6})\b", body)
    assert match is not None
    return match.group(1)


def test_a_new_code_does_not_bring_new_attempts(
    client, default_team, settings, django_capture_on_commit_callbacks
):
    settings.STATUS_CODE_MAX_ATTEMPTS = 3
    result = intake(phone=PHONE)
    ask(client, result.ticket.number, capture=django_capture_on_commit_callbacks)
    first = latest_code()
    client.post("/status/verify/", {"code": wrong(first)})
    client.post("/status/verify/", {"code": wrong(first)})
    ask(client, result.ticket.number, capture=django_capture_on_commit_callbacks)
    second = latest_code()
    client.post("/status/verify/", {"code": wrong(second)})

    late = client.post("/status/verify/", {"code": second})

    assert late.status_code == 429
    assert "该工单的验证码错误次数过多" in late.content.decode()
    assert client.get(f"/status/t/{result.ticket.number}/").status_code == 404
    assert sum(StatusAccessCode.objects.values_list("attempts", flat=True)) == 3


def test_attempts_older_than_an_hour_no_longer_count(default_team, settings):
    settings.STATUS_CODE_MAX_ATTEMPTS = 3
    result = intake(phone=PHONE)
    old = a_code_for(result.ticket, hours_ago=2)
    StatusAccessCode.objects.filter(pk=old.pk).update(attempts=3)
    fresh = a_code_for(result.ticket)

    check = portal.status_code_verify(number=result.ticket.number, code="123456")

    assert check.outcome == portal.CodeOutcome.WRONG
    fresh.refresh_from_db()
    assert fresh.attempts == 1


@requires_postgres
# Committed rows, seen by the threads; the seed data (content types, roles) comes back after.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_wrong_guesses_are_counted_exactly(default_team, settings):
    settings.STATUS_CODE_MAX_ATTEMPTS = 5
    result = intake(phone=PHONE)
    a_code_for(result.ticket)
    number = result.ticket.number
    outcomes: list[str] = []
    start = threading.Barrier(40)

    def guess() -> None:
        try:
            start.wait(timeout=30)
            outcomes.append(portal.status_code_verify(number=number, code="123456").outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes).count(portal.CodeOutcome.WRONG) == 5
    assert outcomes.count(portal.CodeOutcome.LOCKED) == 35
    assert StatusAccessCode.objects.get().attempts == 5


def test_a_lookup_takes_as_long_whether_or_not_the_ticket_and_phone_match(default_team, settings):
    settings.STATUS_LOOKUP_MIN_SECONDS = 0.12
    settings.STATUS_CODES_PER_HOUR = settings.STATUS_CODES_PER_DAY = 1000
    result = intake(phone=PHONE)
    intake(phone="13900139000")

    def timed(number: str, contact: str) -> float:
        started = time.perf_counter()
        portal.status_code_request(number=number, contact=contact)
        return time.perf_counter() - started

    matching = statistics.median(timed(result.ticket.number, PHONE) for _ in range(7))
    wrong_phone = statistics.median(timed(result.ticket.number, "13900139000") for _ in range(7))
    no_ticket = statistics.median(timed("20260101-99999", PHONE) for _ in range(7))

    assert StatusAccessCode.objects.count() == 7
    assert min(matching, wrong_phone, no_ticket) >= 0.12
    assert max(matching, wrong_phone, no_ticket) - min(matching, wrong_phone, no_ticket) < 0.01
