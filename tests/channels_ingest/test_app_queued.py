"""Queued app intake: the API promises the ticket number, stores the message and answers;
a worker takes it in and keeps the promise (PostgreSQL: ids come from the ticket sequence)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from channels_ingest import tasks
from channels_ingest.models import InboundRecord, InboundState
from channels_ingest.pipeline.doorbell import bell_lower
from tests.factories import intake
from tests.support.environment import ON_POSTGRES
from tickets.models import Message, Status, Ticket, TicketPromise
from tickets.numbers import ticket_id_of
from tickets.services.workflow import ticket_set_status

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not ON_POSTGRES,
        reason="needs PostgreSQL (set DATABASE_URL): queued intake reserves ticket ids from "
        "the tickets' sequence",
    ),
]

URL = "/api/v1/inbound/app"


@pytest.fixture
def api(token, settings):  # type: ignore[no-untyped-def]
    settings.INBOUND_QUEUED = True
    bell_lower("app")  # Redis outlives a test's rollback
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def rung(monkeypatch):  # type: ignore[no-untyped-def]
    """Drain tasks queued by the doorbell (their channels), not run until the test says so."""
    sent: list[str] = []
    monkeypatch.setattr(tasks.inbound_drain_task, "delay", sent.append)
    return sent


def drain() -> int:
    return tasks.inbound_drain_task("app")


def body(message_id: str, **overrides: object) -> dict[str, object]:
    return {
        "message_id": message_id,
        "user_id": "u7",
        "phone": "13800138000",
        "text": "我的订单还没到",
        **overrides,
    }


def test_the_answer_carries_the_promised_number_and_the_worker_opens_that_ticket(
    api, default_team, rung, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, body("q-1"), format="json")

    assert response.status_code == 201
    number = response.json()["ticket_number"]
    assert ticket_id_of(number) is not None
    record = InboundRecord.objects.get()
    assert (record.state, record.ticket_number) == (InboundState.RECEIVED, number)
    assert not Ticket.objects.exists()  # the answer came before the work
    assert rung == ["app"]

    assert drain() == 1

    ticket = Ticket.objects.get()
    assert (ticket.number, ticket.pk) == (number, ticket_id_of(number))
    assert ticket.messages.get().provider_id == "q-1"
    assert ticket.team == default_team and ticket.sla_due_at is not None
    record.refresh_from_db()
    assert record.state == InboundState.PROCESSED
    with django_capture_on_commit_callbacks(execute=True):
        api.post(URL, body("q-2"), format="json")
    assert rung == ["app", "app"]  # the drain lowered the bell: the next message rings again


def test_messages_sent_before_the_ticket_opens_are_promised_the_same_ticket(
    api, default_team, rung, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(URL, body("q-1"), format="json").json()["ticket_number"]
        second = api.post(URL, body("q-2", text="还有发票"), format="json").json()["ticket_number"]
        # Same person by a weaker identity only: the owner is not known yet, so a promise of
        # its own (a second ticket), as threading would do for an unknown number.
        other = api.post(URL, body("q-3", user_id="u8"), format="json").json()["ticket_number"]

    assert first == second != other
    assert rung == ["app"]  # one drain for the three: the bell was up
    # The second message taken in first (a retry can do that): it still opens the promised
    # ticket, and the first joins it.
    tasks.process_inbound(InboundRecord.objects.get(provider_id="q-2").pk)
    assert drain() == 2

    ticket = Ticket.objects.get(number=first)
    assert sorted(ticket.messages.values_list("provider_id", flat=True)) == ["q-1", "q-2"]
    assert Ticket.objects.get(number=other).messages.get().provider_id == "q-3"
    assert Ticket.objects.count() == 2


def test_a_message_after_the_ticket_opened_is_promised_the_open_ticket(
    api, default_team, rung, django_capture_on_commit_callbacks
):
    existing = intake(user_id="u7", text="第一条").ticket  # opened without a promise

    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(URL, body("q-1"), format="json").json()
    drain()

    assert answer["ticket_number"] == existing.number
    assert existing.messages.count() == 2
    assert not TicketPromise.objects.exists()


def test_once_the_promised_ticket_is_closed_a_new_one_is_promised(
    api, default_team, rung, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(URL, body("q-1"), format="json").json()["ticket_number"]
    drain()
    ticket = Ticket.objects.get(number=first)
    ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=agent.user)

    with django_capture_on_commit_callbacks(execute=True):
        second = api.post(URL, body("q-2"), format="json").json()["ticket_number"]
    drain()

    assert second != first
    assert Ticket.objects.get(number=second).messages.get().provider_id == "q-2"
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.messages.count() == 1


def test_a_promise_whose_ticket_never_opened_is_given_up_after_a_day(
    api, default_team, rung, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(URL, body("q-1"), format="json").json()["ticket_number"]
    InboundRecord.objects.update(state=InboundState.FAILED)  # never taken in
    TicketPromise.objects.update(promised_at=timezone.now() - timedelta(hours=23))
    with django_capture_on_commit_callbacks(execute=True):
        again = api.post(URL, body("q-2"), format="json").json()["ticket_number"]
    TicketPromise.objects.update(promised_at=timezone.now() - timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        later = api.post(URL, body("q-3"), format="json").json()["ticket_number"]

    # (Moving `promised_at` back moves the date in the number too; the id is what is kept.)
    assert ticket_id_of(again) == ticket_id_of(first)
    assert ticket_id_of(later) != ticket_id_of(first)
    drain()  # q-2 opens the kept promise, q-3 the new one
    assert set(Ticket.objects.values_list("number", flat=True)) == {again, later}


def test_a_redelivery_before_and_after_processing_answers_200_with_the_same_number(
    api, default_team, rung, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(URL, body("q-1"), format="json")
        pending = api.post(URL, body("q-1", text="changed"), format="json")
    drain()
    with django_capture_on_commit_callbacks(execute=True):
        done = api.post(URL, body("q-1"), format="json")

    assert first.status_code == 201
    assert (pending.status_code, done.status_code) == (200, 200)
    assert pending.json() == done.json() == first.json()
    assert rung == ["app"]  # a redelivery rings no bell
    assert Message.objects.count() == 1 and InboundRecord.objects.count() == 1


def test_when_the_broker_is_down_the_message_is_still_stored_and_the_sweep_takes_it(
    api, default_team, monkeypatch, django_capture_on_commit_callbacks
):
    calls: list[str] = []

    def broker_down(channel: str) -> None:
        calls.append(channel)
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.inbound_drain_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, body("q-1"), format="json")
        api.post(URL, body("q-2"), format="json")

    assert response.status_code == 201
    assert calls == ["app", "app"]  # the bell came down again after each failure
    record = InboundRecord.objects.get(provider_id="q-1")
    assert record.state == InboundState.RECEIVED
    InboundRecord.objects.filter(provider_id="q-2").delete()
    InboundRecord.objects.update(received_at=timezone.now() - timedelta(minutes=5))
    monkeypatch.undo()
    monkeypatch.setattr(tasks, "_queue_backlog", lambda: 0)

    assert tasks.inbound_sweep() == 1

    assert Ticket.objects.get().number == response.json()["ticket_number"]


def test_a_bad_body_is_refused_before_anything_is_promised(api, default_team, rung):
    response = api.post(URL, {"message_id": "q-1", "text": "hi"}, format="json")

    assert response.status_code == 400
    assert "user_id" in response.json()
    assert not TicketPromise.objects.exists() and not InboundRecord.objects.exists()


def test_a_record_that_fails_unexpectedly_is_left_to_the_sweep_and_the_drain_goes_on(
    api, default_team, rung, monkeypatch, django_capture_on_commit_callbacks
):
    from channels_ingest.pipeline import doorbell

    with django_capture_on_commit_callbacks(execute=True):
        for message_id in ("q-1", "q-2", "q-3"):
            api.post(URL, body(message_id, user_id=message_id), format="json")
    real = doorbell.inbound_process_within

    def flaky(*, record):  # type: ignore[no-untyped-def]
        if record.provider_id == "q-2":
            raise RuntimeError("database hiccup")
        return real(record=record)

    monkeypatch.setattr(doorbell, "inbound_process_within", flaky)

    assert drain() == 2

    states = dict(InboundRecord.objects.values_list("provider_id", "state"))
    assert states == {"q-1": "processed", "q-2": "received", "q-3": "processed"}


def test_a_drain_stops_when_the_database_goes_away_and_leaves_the_rest_to_the_sweep(
    api, default_team, rung, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    from django.db import OperationalError

    from channels_ingest.pipeline import doorbell

    with django_capture_on_commit_callbacks(execute=True):
        for message_id in ("q-1", "q-2", "q-3"):
            api.post(URL, body(message_id, user_id=message_id), format="json")
    tried: list[str] = []

    def gone(*, record):  # type: ignore[no-untyped-def]
        tried.append(record.provider_id)
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(doorbell, "inbound_process_within", gone)

    assert drain() == 0

    assert tried == ["q-1"]  # not every record, each failing the same way
    assert "database unreachable, drain stopped" in caplog.text
    assert set(InboundRecord.objects.values_list("state", flat=True)) == {"received"}
