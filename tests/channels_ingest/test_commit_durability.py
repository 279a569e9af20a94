"""Processing a stored payload commits without waiting for the disk; storing it, and any
result told to a caller, still waits (ADR 0004)."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from channels_ingest.models import InboundRecord, InboundState
from channels_ingest.pipeline.process import inbound_process
from channels_ingest.pipeline.receive import inbound_receive
from channels_ingest.pipeline.store import inbound_store
from tests.factories import issue_token
from tests.support.environment import requires_postgres
from tests.support.mail import customer_mail
from tickets.models import Direction, Message, Ticket
from tickets.tasks import deliver_message

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class CommitModes:
    """Records `synchronous_commit` as it stands when each message row is inserted."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if sql.lstrip().startswith('INSERT INTO "tickets_message"'):
            with connection.cursor() as cursor:
                cursor.execute("SHOW synchronous_commit")
                self.seen.append(cursor.fetchone()[0])
        return execute(sql, params, many, context)


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def stored(message_id: str) -> InboundRecord:
    raw = customer_mail(message_id)
    record, created = inbound_store(
        channel="email", provider_id=message_id, payload={"bytes": len(raw)}, source="t", raw=raw
    )
    assert created
    return record


@requires_postgres
def test_a_worker_processing_a_stored_mail_does_not_wait_for_the_disk(default_team, settings):
    settings.INBOUND_ASYNC_COMMIT = True
    record = stored("async@example.com")
    modes = CommitModes()

    with connection.execute_wrapper(modes):
        inbound_process(record=record)

    # The customer's message and the acknowledgement, both in the relaxed transaction.
    assert modes.seen == ["off", "off"]
    # Only for that transaction: the connection is back to waiting for the disk.
    assert synchronous_commit() == "on"
    record.refresh_from_db()
    assert record.state == InboundState.PROCESSED
    assert Ticket.objects.get().number == record.ticket_number


@requires_postgres
def test_the_setting_turns_it_off(default_team, settings):
    settings.INBOUND_ASYNC_COMMIT = False
    record = stored("sync@example.com")
    modes = CommitModes()

    with connection.execute_wrapper(modes):
        inbound_process(record=record)

    assert modes.seen == ["on", "on"]


@requires_postgres
def test_the_email_webhook_waits_for_the_disk_before_it_tells_the_ticket_number(
    default_team, settings
):
    settings.INBOUND_ASYNC_COMMIT = True
    client = APIClient()
    token = issue_token("mail-pipe", scopes=["inbound:email"])
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    modes = CommitModes()

    with connection.execute_wrapper(modes):
        response = client.post(
            "/api/v1/inbound/email",
            customer_mail("told@example.com"),
            content_type="message/rfc822",
        )

    assert response.status_code == 201
    assert response.json()["ticket_number"] == Ticket.objects.get().number
    assert modes.seen == ["on", "on"]


@requires_postgres
def test_the_door_stores_a_polled_mail_first_and_processes_it_without_waiting_for_the_disk(
    default_team, settings
):
    settings.INBOUND_ASYNC_COMMIT = True
    raw = customer_mail("polled@example.com")
    modes = CommitModes()

    with connection.execute_wrapper(modes):
        receipt = inbound_receive(
            channel="email",
            provider_id="polled@example.com",
            payload={"bytes": len(raw)},
            source="imap:t",
            raw=raw,
        )

    assert (receipt.created, receipt.queued) == (True, False)
    assert modes.seen == ["off", "off"]
    assert receipt.ticket_number == Ticket.objects.get().number


@requires_postgres
def test_the_door_takes_an_app_message_in_with_its_store_and_waits_for_the_disk(
    default_team, settings
):
    settings.INBOUND_ASYNC_COMMIT = True
    modes = CommitModes()

    with connection.execute_wrapper(modes):
        receipt = inbound_receive(
            channel="app",
            provider_id="inline-1",
            payload={"message_id": "inline-1", "user_id": "u1", "text": "你好"},
            source="t",
            answered=True,
        )

    assert (receipt.created, receipt.queued) == (True, False)
    assert modes.seen == ["on"]  # one transaction: the store's, which must reach the disk
    assert receipt.ticket_number == Ticket.objects.get().number


@requires_postgres
def test_inside_an_enclosing_transaction_the_callers_commit_decides(default_team, settings):
    from django.db import transaction

    settings.INBOUND_ASYNC_COMMIT = True
    modes = CommitModes()

    with transaction.atomic(), connection.execute_wrapper(modes):
        raw = customer_mail("enclosed@example.com")
        record = InboundRecord.objects.create(
            channel="email", provider_id="enclosed@example.com", payload={}, source="t", raw=raw
        )
        inbound_process(record=record)

    assert modes.seen == ["on", "on"]


def test_delivering_a_message_that_did_not_survive_is_skipped(caplog):
    assert not Message.objects.filter(pk=987654).exists()

    deliver_message.delay(987654)

    assert "987654 to deliver does not exist" in caplog.text


def test_a_payload_whose_processing_was_lost_is_taken_in_again_once(default_team):
    """What a database crash before the flush leaves: the stored record, still `received`,
    and nothing it made. The sweep's retry takes it in as if for the first time."""
    record = stored("lost@example.com")

    inbound_process(record=record)
    Ticket.objects.all().delete()
    InboundRecord.objects.filter(pk=record.pk).update(state=InboundState.RECEIVED)
    record.refresh_from_db()
    inbound_process(record=record)

    ticket = Ticket.objects.get()
    assert ticket.messages.filter(direction=Direction.IN).count() == 1
    assert ticket.messages.filter(direction=Direction.OUT, is_automatic=True).count() == 1
    record.refresh_from_db()
    assert record.ticket_number == ticket.number
