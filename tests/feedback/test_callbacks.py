"""Call-backs (回访): made from a low rating, a detractor or by hand; due in business
hours; attempts with outcomes on the ticket timeline; agents see the tasks given to them,
supervisors all; customers' contacts masked."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from feedback.models import Callback, CallbackOutcome, CallbackReason
from feedback.services.callbacks import (
    callback_assign,
    callback_attempt_record,
    callback_create,
)
from tests.factories import make_agent
from tests.feedback.surveys_support import (
    DAYTIME,
    SHANGHAI,
    Clock,
    configure,
    customer_ticket,
    outbox,  # noqa: F401  (fixture)
)
from tickets.models import Status
from tickets.services.workflow import ticket_set_status

pytestmark = pytest.mark.usefixtures("outbox")

FRIDAY_FIVE = datetime(2026, 11, 20, 17, 0, tzinfo=SHANGHAI)


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    return Clock(monkeypatch, DAYTIME)


def test_a_call_back_is_due_in_business_hours(db, clock):
    configure(callback_due_minutes=240)
    ticket = customer_ticket()
    callback = callback_create(
        ticket=ticket, reason=CallbackReason.MANUAL, note="问问快递", actor=None, now=FRIDAY_FIVE
    )
    # An hour on Friday (17:00–18:00), three on Monday morning (09:00–12:00).
    assert callback.due_at == datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)
    assert callback.team_id == ticket.team_id and callback.customer_id == ticket.customer_id


def test_a_call_back_with_a_key_is_made_once(db, clock):
    ticket = customer_ticket()
    first = callback_create(ticket=ticket, reason="low_csat", actor=None, key="survey:1")
    again = callback_create(ticket=ticket, reason="low_csat", actor=None, key="survey:1")
    assert first.pk == again.pk and Callback.objects.count() == 1


def test_an_unknown_reason_or_outcome_is_refused(db, clock, agent):
    ticket = customer_ticket()
    with pytest.raises(ValidationError):
        callback_create(ticket=ticket, reason="whim", actor=None)
    callback = callback_create(ticket=ticket, reason="manual", actor=None)
    with pytest.raises(ValidationError):
        callback_attempt_record(
            callback=callback, agent=agent, outcome="maybe", note="", actor=agent.user
        )


def test_attempt_outcomes(db, clock, agent, supervisor):
    ticket = customer_ticket()
    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=None)
    callback = callback_create(ticket=ticket, reason="manual", actor=None, owner=agent)

    callback_attempt_record(
        callback=callback, agent=agent, outcome=CallbackOutcome.NO_ANSWER, note="", actor=agent.user
    )
    callback.refresh_from_db()
    assert callback.closed_at is None and callback.due_at == DAYTIME + timedelta(hours=1)

    callback_attempt_record(
        callback=callback, agent=agent, outcome=CallbackOutcome.ESCALATED, note="", actor=agent.user
    )
    callback.refresh_from_db()
    assert callback.owner_id is None and callback.escalated_at == DAYTIME
    assert callback.closed_at is None

    callback_assign(callback=callback, owner=agent, actor=supervisor.user)
    callback_attempt_record(
        callback=callback,
        agent=agent,
        outcome=CallbackOutcome.REOPENED,
        note="客户说还没收到",
        actor=agent.user,
    )
    callback.refresh_from_db()
    ticket.refresh_from_db()
    assert callback.closed_at == DAYTIME and callback.outcome == "reopened"
    assert ticket.status == Status.OPEN
    assert [a.outcome for a in callback.attempts.order_by("pk")] == [
        "no_answer",
        "escalated",
        "reopened",
    ]
    with pytest.raises(ValidationError):
        callback_attempt_record(
            callback=callback, agent=agent, outcome="reached", note="", actor=agent.user
        )


def test_reached_and_resolved_finish_the_task(db, clock, agent):
    for outcome in (CallbackOutcome.REACHED, CallbackOutcome.RESOLVED):
        callback = callback_create(ticket=customer_ticket(), reason="manual", actor=None)
        callback_attempt_record(
            callback=callback, agent=agent, outcome=outcome, note="", actor=agent.user
        )
        callback.refresh_from_db()
        assert callback.closed_at == DAYTIME and callback.outcome == outcome


def test_agents_see_the_tasks_given_to_them_supervisors_see_all(
    client, clock, agent, supervisor, default_team
):
    other = make_agent(teams=[default_team])
    mine = callback_create(ticket=customer_ticket(), reason="manual", actor=None, owner=agent)
    theirs = callback_create(
        ticket=customer_ticket(phone="+8613911110000"), reason="manual", actor=None, owner=other
    )
    nobodys = callback_create(
        ticket=customer_ticket(phone="+8613922220000"), reason="low_csat", actor=None
    )

    client.force_login(agent.user)
    html = client.get("/feedback/callbacks/").content.decode()
    assert f'data-callback="{mine.pk}"' in html
    assert f'data-callback="{theirs.pk}"' not in html
    assert f'data-callback="{nobodys.pk}"' not in html
    assert client.get(f"/feedback/callbacks/{mine.pk}/").status_code == 200
    assert client.get(f"/feedback/callbacks/{theirs.pk}/").status_code == 404
    refused = client.post(
        f"/feedback/callbacks/{theirs.pk}/attempt/", {"outcome": "reached", "note": ""}
    )
    assert refused.status_code == 404
    assert not theirs.attempts.exists()
    assert client.post(f"/feedback/callbacks/{mine.pk}/assign/", {"owner": ""}).status_code == 403

    client.force_login(supervisor.user)
    html = client.get("/feedback/callbacks/").content.decode()
    for callback in (mine, theirs, nobodys):
        assert f'data-callback="{callback.pk}"' in html
    assert (
        client.post(
            f"/feedback/callbacks/{nobodys.pk}/assign/", {"owner": str(agent.pk)}
        ).status_code
        == 302
    )
    nobodys.refresh_from_db()
    assert nobodys.owner_id == agent.pk


def test_the_task_page_masks_the_customers_contacts(client, clock, agent):
    callback = callback_create(
        ticket=customer_ticket(), reason="manual", note="回拨 13800138000", actor=None, owner=agent
    )
    client.force_login(agent.user)
    html = client.get(f"/feedback/callbacks/{callback.pk}/").content.decode()
    assert "13800138000" not in html
    assert "138****8000" in html


def test_an_attempt_is_recorded_from_the_page_and_shown_on_the_ticket_timeline(
    client, clock, agent
):
    ticket = customer_ticket()
    callback = callback_create(ticket=ticket, reason="manual", actor=None, owner=agent)
    client.force_login(agent.user)
    posted = client.post(
        f"/feedback/callbacks/{callback.pk}/attempt/", {"outcome": "no_answer", "note": "无人接听"}
    )
    assert posted.status_code == 302
    bad = client.post(f"/feedback/callbacks/{callback.pk}/attempt/", {"outcome": "nope"})
    assert bad.status_code == 400
    html = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert 'class="event callback-attempt"' in html and "无人接听" in html


def test_a_call_back_is_added_by_hand_from_the_ticket_page(client, clock, agent):
    ticket = customer_ticket()
    client.force_login(agent.user)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert f"/feedback/callbacks/new/{ticket.number}/" in page
    made = client.post(
        f"/feedback/callbacks/new/{ticket.number}/", {"note": "客户要求明天回电", "take": "on"}
    )
    assert made.status_code == 302
    callback = Callback.objects.get()
    assert (callback.reason, callback.owner_id, callback.created_by_id) == (
        "manual",
        agent.pk,
        agent.user.pk,
    )
    assert client.post(f"/feedback/callbacks/new/{ticket.number}/", {"note": ""}).status_code == 302
    assert Callback.objects.count() == 1
    assert client.post("/feedback/callbacks/new/NOPE/", {"note": "x"}).status_code == 404


def test_the_queue_reads_a_fixed_number_of_queries(
    client, clock, agent, supervisor, django_assert_max_num_queries
):
    for index in range(5):
        callback_create(
            ticket=customer_ticket(phone=f"+86137000000{index:02d}"), reason="manual", actor=None
        )
    client.force_login(supervisor.user)
    client.get("/feedback/callbacks/")
    with django_assert_max_num_queries(25):
        assert client.get("/feedback/callbacks/").status_code == 200
