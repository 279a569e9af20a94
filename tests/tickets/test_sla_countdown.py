"""SLA time on the queue and the ticket page: the due instants the countdown ticks from,
paused clocks shown as paused, and "breached N min ago" after a breach (not the next
milestone's deadline)."""

import re
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from sla.models import Milestone, SlaClock
from sla.services import clocks_tick
from tests.factories import intake
from tickets.models import SlaState, Status, Ticket
from tickets.services.workflow import ticket_set_status
from tickets.templatetags.kefu_aware import span

pytestmark = pytest.mark.django_db


def _iso(value) -> str:  # type: ignore[no-untyped-def]
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _row(html: str, number: str) -> str:
    match = re.search(rf'<tr [^>]*data-number="{number}">.*?</tr>', html, re.DOTALL)
    assert match, f"no row for {number}"
    return match.group(0)


def _clock(ticket: Ticket, milestone: str) -> SlaClock:
    return SlaClock.objects.filter(subject_id=ticket.pk, milestone=milestone).latest("sequence")


def _due_in(ticket: Ticket, delta: timedelta) -> SlaClock:
    """Move the first response's deadline (and the ticket's next one) to `delta` from now,
    so what the page says does not hang on the business calendar of the day the test runs
    (on a Friday afternoon the deadline is after the weekend)."""
    due = timezone.now() + delta
    SlaClock.objects.filter(pk=_clock(ticket, Milestone.FIRST_RESPONSE).pk).update(
        due_at=due, warn_at=due - timedelta(minutes=30)
    )
    Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)
    ticket.refresh_from_db()
    return _clock(ticket, Milestone.FIRST_RESPONSE)


def _breach_first_response(ticket: Ticket, minutes_ago: int) -> SlaClock:
    """Make the first response due `minutes_ago` and let the SLA engine find it breached."""
    due = timezone.now() - timedelta(minutes=minutes_ago, seconds=20)
    SlaClock.objects.filter(pk=_clock(ticket, Milestone.FIRST_RESPONSE).pk).update(
        due_at=due, warn_at=due - timedelta(minutes=5)
    )
    clocks_tick(now=timezone.now())
    return _clock(ticket, Milestone.FIRST_RESPONSE)


@pytest.fixture
def english(agent_client):  # type: ignore[no-untyped-def]
    agent_client.cookies["django_language"] = "en"
    return agent_client


def test_the_queue_gives_each_row_its_due_instant_for_the_countdown(english):
    ticket = intake(user_id="u1", text="在吗").ticket
    _due_in(ticket, timedelta(hours=2, minutes=30))

    row = _row(english.get("/").content.decode(), ticket.number)

    assert f'data-sla-due="{_iso(ticket.sla_due_at)}"' in row
    assert re.search(r"due in \d+ h \d\d min", row)


def test_after_a_breach_the_queue_says_how_long_ago_not_the_next_deadline(english):
    ticket = intake(user_id="u1", text="在吗").ticket
    breached = _breach_first_response(ticket, minutes_ago=12)
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.BREACHED
    # The row's own next deadline has moved on to a later milestone.
    assert ticket.sla_due_at is not None and ticket.sla_due_at > timezone.now()

    row = _row(english.get("/").content.decode(), ticket.number)

    assert f'data-sla-breached="{_iso(breached.due_at)}"' in row
    assert "breached 12 min ago" in row
    assert "data-sla-due" not in row
    assert timezone.localtime(ticket.sla_due_at).strftime("%m-%d %H:%M") not in row


def test_the_breached_text_in_chinese(agent_client):
    ticket = intake(user_id="u1", text="在吗").ticket
    _breach_first_response(ticket, minutes_ago=3)

    row = _row(agent_client.get("/").content.decode(), ticket.number)

    assert "3 分钟 前已超时" in row


def test_a_ticket_whose_clocks_are_all_paused_shows_paused_in_the_queue(english, agent):
    ticket = intake(user_id="u1", text="在吗").ticket
    ticket_set_status(ticket=ticket, status=Status.PENDING_CUSTOMER, actor=agent.user)

    row = _row(english.get("/").content.decode(), ticket.number)

    assert "Paused" in row
    assert "data-sla-due" not in row and "data-sla-breached" not in row


def test_the_ticket_page_counts_down_to_the_second_from_each_running_clock(english):
    ticket = intake(user_id="u1", text="在吗").ticket
    first = _due_in(ticket, timedelta(hours=2, minutes=30))

    html = english.get(f"/tickets/{ticket.number}/").content.decode()

    assert f'data-sla-due="{_iso(first.due_at)}" data-sla-precision="seconds"' in html
    assert re.search(r"due in \d+ h \d\d min \d\d s", html)


def test_the_ticket_page_shows_a_paused_clock_as_paused_without_a_deadline(english, agent):
    ticket = intake(user_id="u1", text="在吗").ticket
    ticket_set_status(ticket=ticket, status=Status.PENDING_CUSTOMER, actor=agent.user)
    first = _clock(ticket, Milestone.FIRST_RESPONSE)

    html = english.get(f"/tickets/{ticket.number}/").content.decode()
    box = html[html.index('data-milestone="first_response"') :]
    box = re.split(r'<div class="clock |</section>', box)[0]

    assert first.paused_at is not None
    assert "Paused since" in box
    assert "data-sla-due" not in box
    assert _iso(first.due_at) not in box


def test_the_ticket_page_says_when_a_breached_clock_was_due(english):
    ticket = intake(user_id="u1", text="在吗").ticket
    breached = _breach_first_response(ticket, minutes_ago=7)

    html = english.get(f"/tickets/{ticket.number}/").content.decode()

    assert f'data-sla-breached="{_iso(breached.due_at)}" data-sla-precision="seconds"' in html
    assert "breached 7 min ago" in html


def test_the_live_sla_box_carries_the_instants_again(english):
    ticket = intake(user_id="u1", text="在吗").ticket
    first = _clock(ticket, Milestone.FIRST_RESPONSE)

    html = english.get(f"/tickets/{ticket.number}/live/").content.decode()

    assert 'id="sla" hx-swap-oob="true"' in html
    assert f'data-sla-due="{_iso(first.due_at)}"' in html


@pytest.mark.parametrize(
    "seconds, precision, text",
    [
        (0, "minutes", "0 min"),
        (59, "seconds", "59 s"),
        (7 * 60 + 9, "seconds", "7 min 09 s"),
        (12 * 60 + 40, "minutes", "12 min"),
        (3600 + 5 * 60 + 9, "minutes", "1 h 05 min"),
        (3600 + 5 * 60 + 9, "seconds", "1 h 05 min 09 s"),
        (2 * 86400 + 3 * 3600 + 59, "minutes", "2 d 3 h"),
        (-(12 * 60 + 5), "minutes", "12 min"),
    ],
)
def test_spans_read_like_the_countdown(seconds, precision, text):
    from django.utils import translation

    with translation.override("en"):
        assert span(seconds, precision=precision) == text
