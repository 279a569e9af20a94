"""The one door every edge calls (`inbound_receive`): stored first, then taken in inline
(embedded mode, tests) or by the doorbell's drain (queued mode: PostgreSQL and a broker)."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from channels_ingest import tasks
from channels_ingest.models import InboundRecord, InboundState, SmsOptOut
from channels_ingest.pipeline.doorbell import bell_lower
from channels_ingest.pipeline.receive import Mode, inbound_mode, inbound_receive
from channels_ingest.pipeline.registry import ADAPTERS
from tests.support.environment import ON_POSTGRES
from tickets.models import Message, Ticket, TicketPromise
from tickets.numbers import ticket_id_of

pytestmark = pytest.mark.django_db

requires_postgres = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs PostgreSQL (set DATABASE_URL): queued mode reserves ticket ids from the "
    "tickets' sequence",
)


def app(message_id: str, text: str = "我的订单还没到", **identity: str) -> dict[str, Any]:
    return {
        "channel": "app",
        "provider_id": message_id,
        "payload": {"message_id": message_id, "text": text, **(identity or {"user_id": "u7"})},
        "source": "shop",
        "answered": True,
    }


def sms(sid: str, body: str = "快递到哪了") -> dict[str, Any]:
    return {
        "channel": "sms",
        "provider_id": sid,
        "payload": {
            "MessageSid": sid,
            "From": "+8613800138000",
            "To": "+8610690000",
            "Body": body,
            "NumMedia": "0",
        },
        "source": "+8610690000",
    }


ARRIVALS = {"app": app, "sms": sms}


@pytest.fixture
def retries(monkeypatch):  # type: ignore[no-untyped-def]
    """Retries the door queues (record ids), not run until the test says so."""
    queued: list[int] = []

    def apply_async(args: tuple[int], countdown: int) -> None:
        assert countdown == 5
        queued.extend(args)

    monkeypatch.setattr(tasks.process_inbound, "apply_async", apply_async)
    return queued


@pytest.fixture
def queued_mode(settings):  # type: ignore[no-untyped-def]
    settings.INBOUND_QUEUED = True
    for channel in ADAPTERS:
        bell_lower(channel)  # Redis outlives a test's rollback
    yield
    for channel in ADAPTERS:
        bell_lower(channel)


@pytest.fixture
def rung(monkeypatch):  # type: ignore[no-untyped-def]
    """Drain tasks queued by the doorbell (their channels), not run until the test says so."""
    sent: list[str] = []
    monkeypatch.setattr(tasks.inbound_drain_task, "delay", sent.append)
    return sent


# --- the mode --------------------------------------------------------------------------------


def test_the_mode_is_inline_unless_the_setting_is_on_and_the_database_is_postgresql(settings):
    settings.INBOUND_QUEUED = False
    assert inbound_mode() is Mode.INLINE

    settings.INBOUND_QUEUED = True
    assert inbound_mode() is (Mode.QUEUED if ON_POSTGRES else Mode.INLINE)


def test_only_the_app_sms_and_carriers_answer_before_taking_in_and_only_the_app_promises():
    assert set(ADAPTERS) == {"app", "chat", "email", "phone", "sms", "logistics"}
    assert {channel for channel, adapter in ADAPTERS.items() if adapter.may_queue} == {
        "app",
        "sms",
        "logistics",
    }
    assert {channel for channel, adapter in ADAPTERS.items() if adapter.promise} == {"app"}


def test_an_unknown_channel_is_refused_before_anything_is_stored():
    with pytest.raises(LookupError):
        inbound_receive(channel="fax", provider_id="f-1", payload={}, source="t")

    assert not InboundRecord.objects.exists()


# --- inline ----------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["app", "sms"])
def test_inline_a_message_is_stored_and_taken_in_before_the_door_returns(
    channel, default_team, rung
):
    receipt = inbound_receive(**ARRIVALS[channel](f"{channel}-1"))

    ticket = Ticket.objects.get()
    assert (receipt.created, receipt.queued) == (True, False)
    assert receipt.result is not None and receipt.result.ticket == ticket
    assert receipt.ticket_number == ticket.number
    record = InboundRecord.objects.get()
    assert record == receipt.record
    assert (record.state, record.ticket_number, record.attempts) == (
        InboundState.PROCESSED,
        ticket.number,
        1,
    )
    assert record.processed_at is not None
    assert (ticket.channel, ticket.messages.get().provider_id) == (channel, f"{channel}-1")
    assert rung == []  # nothing for a worker


def test_inline_an_sms_stop_keyword_opts_out_and_makes_no_message(default_team):
    receipt = inbound_receive(**sms("SM-stop", body="退订"))

    assert (receipt.created, receipt.queued, receipt.result, receipt.ticket_number) == (
        True,
        False,
        None,
        "",
    )
    assert receipt.record.state == InboundState.PROCESSED
    assert SmsOptOut.objects.get().phone == "+8613800138000"
    assert not Ticket.objects.exists()


def test_inline_a_payload_that_cannot_become_a_message_is_stored_as_failed(default_team):
    receipt = inbound_receive(**app("a-1", phone="not a phone"))

    record = InboundRecord.objects.get()
    assert (receipt.created, receipt.queued, receipt.result) == (True, False, None)
    assert record.state == InboundState.FAILED and record.error != ""
    assert receipt.record.error == record.error
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("channel", ["app", "sms"])
def test_inline_a_redelivery_answers_with_the_first_result_and_changes_nothing(
    channel, default_team
):
    first = inbound_receive(**ARRIVALS[channel](f"{channel}-1", "第一次"))
    again = inbound_receive(**ARRIVALS[channel](f"{channel}-1", "改过的"))

    assert (again.created, again.queued, again.result) == (False, False, None)
    assert again.ticket_number == first.ticket_number != ""
    assert again.record.pk == first.record.pk
    message = Message.objects.get()
    assert message.body == "第一次"
    assert InboundRecord.objects.get().attempts == 1  # not processed a second time


def broken(**kwargs: object) -> None:
    raise RuntimeError("database went away mid-intake")


@pytest.mark.parametrize("channel", ["app", "sms"])
def test_inline_a_processing_failure_leaves_the_record_stored_and_queued_for_a_retry(
    channel, default_team, monkeypatch, retries
):
    from channels_ingest.app import ingest as app_ingest
    from channels_ingest.sms import ingest as sms_ingest

    module = app_ingest if channel == "app" else sms_ingest
    monkeypatch.setattr(module, "intake_message", broken)

    receipt = inbound_receive(**ARRIVALS[channel](f"{channel}-1"))

    record = InboundRecord.objects.get()
    assert (receipt.created, receipt.queued, receipt.result, receipt.ticket_number) == (
        True,
        True,
        None,
        "",
    )
    assert receipt.record.pk == record.pk
    assert (record.state, record.attempts, record.error) == (InboundState.RECEIVED, 0, "")
    assert retries == [record.pk]
    assert not Ticket.objects.exists()

    monkeypatch.undo()
    tasks.process_inbound(record.pk)  # the queued retry, when a worker runs it

    record.refresh_from_db()
    assert record.state == InboundState.PROCESSED
    assert Ticket.objects.get().number == record.ticket_number


def test_inline_a_redelivery_of_a_record_left_waiting_takes_it_in(
    default_team, monkeypatch, retries
):
    from channels_ingest.app import ingest as app_ingest

    real = app_ingest.intake_message
    monkeypatch.setattr(app_ingest, "intake_message", broken)
    inbound_receive(**app("a-1"))
    monkeypatch.setattr(app_ingest, "intake_message", real)

    again = inbound_receive(**app("a-1"))

    ticket = Ticket.objects.get()
    assert (again.created, again.queued) == (False, False)
    assert again.result is not None and again.result.ticket == ticket
    assert again.ticket_number == ticket.number
    assert InboundRecord.objects.get().state == InboundState.PROCESSED


# --- queued ----------------------------------------------------------------------------------


@requires_postgres
def test_queued_an_app_message_is_promised_stored_and_rung_and_the_drain_keeps_the_promise(
    queued_mode, default_team, rung, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        receipt = inbound_receive(**app("a-1"))

    assert (receipt.created, receipt.queued, receipt.result) == (True, True, None)
    assert ticket_id_of(receipt.ticket_number) is not None
    record = InboundRecord.objects.get()
    assert (record.state, record.ticket_number) == (InboundState.RECEIVED, receipt.ticket_number)
    assert not Ticket.objects.exists()  # the door returned before the work
    assert rung == ["app"]

    assert tasks.inbound_drain_task("app") == 1

    assert Ticket.objects.get().number == receipt.ticket_number
    record.refresh_from_db()
    assert record.state == InboundState.PROCESSED


@requires_postgres
def test_queued_an_sms_is_stored_and_rung_and_the_drain_takes_it_in(
    queued_mode, default_team, rung, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        receipt = inbound_receive(**sms("SM-1"))

    assert (receipt.created, receipt.queued, receipt.result, receipt.ticket_number) == (
        True,
        True,
        None,
        "",  # SMS promises nothing
    )
    assert InboundRecord.objects.get().state == InboundState.RECEIVED
    assert not Ticket.objects.exists()
    assert rung == ["sms"]

    assert tasks.inbound_drain_task("sms") == 1

    record = InboundRecord.objects.get()
    assert record.state == InboundState.PROCESSED
    assert Ticket.objects.get().number == record.ticket_number


@requires_postgres
@pytest.mark.parametrize("channel", ["app", "sms"])
def test_queued_a_redelivery_answers_from_the_first_record_before_and_after_the_drain(
    channel, queued_mode, default_team, rung, django_capture_on_commit_callbacks
):
    arrival = ARRIVALS[channel]
    with django_capture_on_commit_callbacks(execute=True):
        first = inbound_receive(**arrival(f"{channel}-1", "第一次"))
        pending = inbound_receive(**arrival(f"{channel}-1", "改过的"))
    tasks.inbound_drain_task(channel)
    with django_capture_on_commit_callbacks(execute=True):
        done = inbound_receive(**arrival(f"{channel}-1", "改过的"))

    ticket = Ticket.objects.get()
    assert (pending.created, pending.queued, pending.result) == (False, True, None)
    assert pending.ticket_number == first.ticket_number  # the promise, or "" for SMS
    assert (done.created, done.queued, done.result) == (False, False, None)
    assert done.ticket_number == ticket.number
    assert rung == [channel]  # the bell was up for the pending redelivery
    assert Message.objects.get().body == "第一次"
    assert InboundRecord.objects.count() == 1


@requires_postgres
def test_queued_a_message_without_an_identity_to_promise_to_stores_nothing(
    queued_mode, default_team, rung
):
    with pytest.raises(ValidationError):
        inbound_receive(**app("a-1", phone="not a phone"))

    assert not InboundRecord.objects.exists()
    assert not TicketPromise.objects.exists()
    assert rung == []


@requires_postgres
def test_queued_mode_takes_in_a_channel_that_never_queues_before_the_door_returns(
    queued_mode, default_team, rung
):
    receipt = inbound_receive(
        channel="chat",
        provider_id="site/user-1/frame-1",
        payload={"frame": {"text": "在吗"}, "address": "user-1", "site": "site"},
        source="site",
        answered=True,
    )

    assert (receipt.created, receipt.queued) == (True, False)
    assert receipt.result is not None
    assert receipt.ticket_number == Ticket.objects.get().number
    assert rung == []


def test_processing_marks_the_record_processed_with_its_number_clears_the_error_and_counts():
    from channels_ingest.pipeline.process import inbound_process

    record = InboundRecord.objects.create(
        channel="app",
        provider_id="m-retried",
        payload={"message_id": "m-retried", "user_id": "u-retried", "text": "草莓什么时候到？"},
        state=InboundState.RECEIVED,
        attempts=2,
        error="database went away",
    )
    other = InboundRecord.objects.create(channel="app", provider_id="m-other", payload={})

    result = inbound_process(record=record)

    assert result is not None
    record.refresh_from_db()
    assert (record.state, record.ticket_number, record.error, record.attempts) == (
        InboundState.PROCESSED,
        result.ticket.number,
        "",
        3,
    )
    assert record.processed_at is not None
    other.refresh_from_db()
    assert (other.state, other.attempts, other.processed_at) == (InboundState.RECEIVED, 0, None)
