"""Retention: each kind of personal data is deleted or anonymised after its period, by a
nightly task; `manage.py retention --dry-run` reports what would be affected."""

import io
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from channels_ingest.models import InboundRecord, InboundState, OutboxEntry
from kefu.celery import app as celery_app
from kefu.ticker import seconds_to_next_run
from tests.privacy.conftest import close
from tickets.models import AuditEntry, Call, ContactIdentity, Customer, Message, Ticket
from tickets.services.privacy import ERASED_TEXT

pytestmark = pytest.mark.django_db


def _age_record(provider_id: str, *, days: int, state: str = InboundState.PROCESSED) -> None:
    InboundRecord.objects.create(
        channel="sms",
        provider_id=provider_id,
        payload={"From": "13700137000", "Body": f"{provider_id} 的内容"},
        state=state,
    )
    InboundRecord.objects.filter(provider_id=provider_id).update(
        received_at=timezone.now() - timedelta(days=days)
    )


def _years_ago(ticket: Ticket, years: int) -> None:
    past = timezone.now() - timedelta(days=365 * years)
    Ticket.objects.filter(pk=ticket.pk).update(closed_at=past, created_at=past)
    Customer.objects.filter(pk=ticket.customer_id).update(created_at=past)


@pytest.fixture
def aged(held, agent):  # type: ignore[no-untyped-def]
    """Raw payloads 40 and 10 days old, and one 40 days old still waiting; the held
    customer's ticket closed four years ago, the other customer's ticket open."""
    _age_record("SM-old", days=40)
    _age_record("SM-old-failed", days=40, state=InboundState.FAILED)
    _age_record("SM-recent", days=10)
    _age_record("SM-old-waiting", days=40, state=InboundState.RECEIVED)
    InboundRecord.objects.filter(provider_id__startswith="SM-held").update(
        received_at=timezone.now() - timedelta(days=1)
    )
    close(held.ticket, agent)
    _years_ago(held.ticket, 4)
    Call.objects.filter(pk=held.call.pk).update(started_at=timezone.now() - timedelta(days=1500))
    OutboxEntry.objects.update(created_at=timezone.now() - timedelta(days=1))
    old = OutboxEntry.objects.create(
        channel="sms", to="+8613700137000", body="旧通知", kind="reply"
    )
    OutboxEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    return held


def test_the_dry_run_reports_per_kind_and_changes_nothing(aged):
    out = io.StringIO()
    messages_before = list(Message.objects.values_list("body", flat=True).order_by("pk"))

    call_command("retention", "--dry-run", stdout=out)

    report = out.getvalue().splitlines()
    assert "inbound_payloads: 2 would be affected" in "\n".join(report)
    assert "outbox_entries: 1 would be affected" in "\n".join(report)
    assert "closed_tickets: 1 would be affected" in "\n".join(report)
    assert {line.split(":")[0] for line in report} == {
        "closed_tickets",
        "inactive_customers",
        "access_codes",
        "inbound_payloads",
        "outbox_entries",
    }
    assert InboundRecord.objects.get(provider_id="SM-old").payload["Body"] == "SM-old 的内容"
    assert list(Message.objects.values_list("body", flat=True).order_by("pk")) == messages_before
    assert OutboxEntry.objects.filter(body="旧通知").exists()
    assert not AuditEntry.objects.exists()


def test_retention_scrubs_old_payloads_and_anonymises_old_closed_tickets(aged):
    out = io.StringIO()

    call_command("retention", stdout=out)

    scrubbed = dict(InboundRecord.objects.values_list("provider_id", "payload"))
    assert set(scrubbed["SM-old"]) == {"scrubbed_at", "reason"}
    assert set(scrubbed["SM-old-failed"]) == {"scrubbed_at", "reason"}
    assert scrubbed["SM-recent"]["Body"] == "SM-recent 的内容"
    # Still waiting to be taken in: never lost to retention.
    assert scrubbed["SM-old-waiting"]["Body"] == "SM-old-waiting 的内容"
    assert not OutboxEntry.objects.filter(body="旧通知").exists()
    assert set(Message.objects.filter(ticket=aged.ticket).values_list("body", flat=True)) == {
        ERASED_TEXT
    }
    # The customer had nothing left but that ticket: erased too, by Kefu itself.
    customer = Customer.objects.get(pk=aged.customer.pk)
    assert (customer.name, customer.erased_at is not None) == ("", True)
    assert not ContactIdentity.objects.filter(customer=customer).exists()
    erased = AuditEntry.objects.get(action="customer_erased")
    assert (erased.actor, erased.data["via"]) == (None, "retention")
    # The customer with an open ticket keeps everything.
    assert Customer.objects.get(pk=aged.other.pk).name == "李四"
    assert aged.other_ticket.messages.get(direction="in").body == "李四的问题"
    run = AuditEntry.objects.get(action="retention_enforced")
    assert run.data == {
        "closed_tickets": 1,
        "inactive_customers": 1,
        "access_codes": 0,
        "inbound_payloads": 2,
        "outbox_entries": 1,
    }
    assert "closed_tickets: 1 done" in out.getvalue()


def test_a_second_run_finds_nothing_and_keeps_the_audit_log(aged):
    call_command("retention", stdout=io.StringIO())
    entries = AuditEntry.objects.count()
    out = io.StringIO()

    call_command("retention", "--dry-run", stdout=out)
    call_command("retention", stdout=io.StringIO())

    assert all(" 0 would be affected" in line for line in out.getvalue().splitlines())
    assert AuditEntry.objects.count() == entries


def test_a_period_of_zero_keeps_that_kind_for_ever(aged, settings):
    settings.RETENTION_INBOUND_PAYLOAD_DAYS = 0
    settings.RETENTION_CLOSED_TICKET_DAYS = 0

    call_command("retention", stdout=io.StringIO())

    assert InboundRecord.objects.get(provider_id="SM-old").payload["Body"] == "SM-old 的内容"
    assert Customer.objects.get(pk=aged.customer.pk).name == "张三"


def test_the_nightly_task_is_in_the_beat_schedule_and_runs_retention(aged):
    entry = django_settings.CELERY_BEAT_SCHEDULE["retention"]
    assert entry["task"] == "tickets.tasks.retention_enforce"
    assert 0 < seconds_to_next_run(entry["schedule"]) <= 24 * 3600

    counts = celery_app.tasks["tickets.tasks.retention_enforce"].delay().get()

    assert counts["inbound_payloads"] == 2
    assert set(InboundRecord.objects.get(provider_id="SM-old").payload) == {"scrubbed_at", "reason"}


def test_the_embedded_ticker_takes_the_nightly_crontab_beside_the_intervals():
    from kefu.ticker import ticker_start

    stop = ticker_start()
    stop.set()

    assert seconds_to_next_run(30.0) == 30.0
    with pytest.raises(TypeError):
        seconds_to_next_run("nightly")
