"""Erasing a customer on request: personal data goes, statistics stay, the audit entry says
who erased which customer id when, and nothing else."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from channels_ingest.models import InboundRecord, InboundState, OutboxEntry
from tests.privacy.conftest import close
from tickets.models import (
    Attachment,
    AuditEntry,
    Call,
    ContactIdentity,
    Customer,
    Message,
    Status,
    Ticket,
)
from tickets.services.privacy import ERASED_TEXT, PrivacyRefused, customer_erase

pytestmark = pytest.mark.django_db


def test_erasing_removes_personal_data_and_keeps_the_statistics(
    held, agent, admin_user, media, django_capture_on_commit_callbacks
):
    close(held.ticket, agent)
    before = Ticket.objects.get(pk=held.ticket.pk)
    photo = Attachment.objects.get(message=held.message)
    assert (media / photo.file.name).exists()
    messages_before = list(
        Message.objects.filter(ticket=held.ticket)
        .order_by("pk")
        .values_list("direction", "channel", "created_at", "sentiment")
    )

    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(customer=held.customer, actor=admin_user, via="page")

    customer = Customer.objects.get(pk=held.customer.pk)
    assert customer.name == ""
    assert customer.erased_at is not None
    assert not ContactIdentity.objects.filter(customer=customer).exists()
    assert set(Message.objects.filter(ticket=held.ticket).values_list("body", flat=True)) == {
        ERASED_TEXT
    }
    assert (
        list(
            Message.objects.filter(ticket=held.ticket)
            .order_by("pk")
            .values_list("direction", "channel", "created_at", "sentiment")
        )
        == messages_before
    )
    assert not Attachment.objects.filter(message__ticket=held.ticket).exists()
    assert not (media / photo.file.name).exists()
    ticket = Ticket.objects.get(pk=held.ticket.pk)
    assert ticket.subject == ""
    assert ticket.anonymised_at is not None
    assert (
        ticket.status,
        ticket.created_at,
        ticket.first_response_at,
        ticket.closed_at,
        ticket.sla_state,
        ticket.category,
    ) == (
        Status.CLOSED,
        before.created_at,
        before.first_response_at,
        before.closed_at,
        before.sla_state,
        before.category,
    )
    call = Call.objects.get(pk=held.call.pk)
    assert (call.from_number, call.recording_url, call.duration, call.to_number) == (
        "",
        "",
        42,
        "4008000000",
    )
    record = InboundRecord.objects.get(pk=held.record.pk)
    assert "13800138000" not in json.dumps(record.payload)
    assert "张三" not in json.dumps(record.payload, ensure_ascii=False)
    assert (record.channel, record.provider_id) == ("sms", "SM-held-1")
    assert not OutboxEntry.objects.filter(to="+8613800138000").exists()


def test_erasing_leaves_other_customers_alone(held, agent, admin_user):
    close(held.ticket, agent)

    customer_erase(customer=held.customer, actor=admin_user, via="page")

    other = Customer.objects.get(pk=held.other.pk)
    assert other.name == "李四"
    assert list(other.identities.values_list("value", flat=True)) == ["+8613900139000"]
    assert held.other_ticket.messages.get(direction="in").body == "李四的问题"
    assert InboundRecord.objects.get(provider_id="SM-other-1").payload["Body"] == "李四的问题"


def test_the_erasure_audit_entry_names_who_and_which_customer_but_no_personal_data(
    held, agent, admin_user
):
    close(held.ticket, agent)

    customer_erase(customer=held.customer, actor=admin_user, via="page")

    audit = AuditEntry.objects.get(action="customer_erased")
    assert (audit.actor, audit.object_type, audit.object_id) == (
        admin_user,
        "customer",
        str(held.customer.pk),
    )
    assert audit.created_at is not None
    assert audit.data["via"] == "page"
    assert audit.data["records"] == [held.customer.pk]
    text = json.dumps(audit.data, ensure_ascii=False)
    for personal in ("张三", "13800138000", "zhang.san", "北京"):
        assert personal not in text


def test_a_customer_with_an_open_ticket_is_not_erased(held, admin_user):
    with pytest.raises(PrivacyRefused):
        customer_erase(customer=held.customer, actor=admin_user, via="page")

    assert Customer.objects.get(pk=held.customer.pk).name == "张三"
    assert ContactIdentity.objects.filter(customer=held.customer).count() == 2
    assert not AuditEntry.objects.filter(action="customer_erased").exists()


def test_a_redelivered_sms_after_erasure_is_still_recognised(held, agent, admin_user):
    """The scrubbed record keeps its key: the provider's retry is not a new message."""
    from channels_ingest.pipeline.receive import inbound_receive

    close(held.ticket, agent)
    customer_erase(customer=held.customer, actor=admin_user, via="page")

    receipt = inbound_receive(
        channel="sms",
        provider_id="SM-held-1",
        payload={"From": "13800138000", "Body": "我叫张三，住北京市朝阳区"},
        source="+14155550100",
    )

    assert receipt.created is False
    assert not ContactIdentity.objects.filter(value="+8613800138000").exists()


def test_only_an_admin_may_erase_and_must_confirm_with_the_customer_number(
    client, supervisor, admin_user, held, agent
):
    close(held.ticket, agent)
    url = reverse("tickets:customer_erase", args=[held.customer.pk])
    client.force_login(supervisor.user)
    assert client.get(url).status_code == 403
    assert client.post(url, {"confirm": str(held.customer.pk)}).status_code == 403

    client.force_login(admin_user)
    customer_page = client.get(reverse("tickets:customer", args=[held.customer.pk]))
    assert f'id="customer-erase" href="{url}"' in customer_page.content.decode()
    confirm_page = client.get(url)
    wrong = client.post(url, {"confirm": "12345"})
    assert confirm_page.status_code == 200
    assert wrong.status_code == 400
    assert Customer.objects.get(pk=held.customer.pk).erased_at is None

    done = client.post(url, {"confirm": str(held.customer.pk)})

    assert done.status_code == 302
    assert done["Location"] == reverse("tickets:customer", args=[held.customer.pk])
    assert Customer.objects.get(pk=held.customer.pk).erased_at is not None
    assert AuditEntry.objects.get(action="customer_erased").actor == admin_user


def test_the_erase_page_refuses_with_a_409_while_a_ticket_is_open(client, admin_user, held):
    client.force_login(admin_user)

    response = client.post(
        reverse("tickets:customer_erase", args=[held.customer.pk]),
        {"confirm": str(held.customer.pk)},
    )

    assert response.status_code == 409
    assert Customer.objects.get(pk=held.customer.pk).erased_at is None


def test_the_erase_command_asks_for_the_id_again(held, agent, monkeypatch):
    close(held.ticket, agent)
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")

    with pytest.raises(CommandError, match="not confirmed"):
        call_command("customer_erase", str(held.customer.pk))
    assert Customer.objects.get(pk=held.customer.pk).erased_at is None

    monkeypatch.setattr("builtins.input", lambda prompt: str(held.customer.pk))
    out = io.StringIO()
    call_command("customer_erase", str(held.customer.pk), stdout=out)

    assert Customer.objects.get(pk=held.customer.pk).erased_at is not None
    audit = AuditEntry.objects.get(action="customer_erased")
    assert audit.actor is None
    assert audit.data["via"].startswith("command")
    assert out.getvalue().startswith(f"customer #{held.customer.pk} erased")


def test_erasing_a_customer_erases_the_records_merged_into_it(held, agent, admin_user):
    from tickets.services.customers import customer_merge

    close(held.ticket, agent)
    close(held.other_ticket, agent)
    customer_merge(source=held.other, target=held.customer, actor=admin_user, reason="同一人")

    with pytest.raises(PrivacyRefused):
        customer_erase(customer=held.other, actor=admin_user, via="page")
    customer_erase(customer=held.customer, actor=admin_user, via="page")

    assert set(
        Customer.objects.filter(pk__in=[held.customer.pk, held.other.pk]).values_list(
            "name", flat=True
        )
    ) == {""}
    assert held.other_ticket.messages.get(direction="in").body == ERASED_TEXT
    assert not ContactIdentity.objects.filter(value="+8613900139000").exists()
    merge = held.other.merges_out.get()
    assert (merge.moved["source"]["name"], merge.moved["target"]["name"], merge.reason) == (
        "",
        "",
        "",
    )


def test_erasing_scrubs_refused_payloads_that_name_the_customer_and_no_others(
    held, agent, admin_user
):
    """A payload refused before intake has no ticket number: it is found by a value equal to
    one of the customer's identities, never by a value that merely contains one."""
    close(held.ticket, agent)
    refused = InboundRecord.objects.create(
        channel="app",
        provider_id="refused-1",
        payload={"email": "Zhang.San@example.com", "text": "？"},
        state=InboundState.FAILED,
        error="no usable identity",
    )
    lookalike = InboundRecord.objects.create(
        channel="app",
        provider_id="lookalike-1",
        payload={"user_id": "x13800138000y", "text": "别人的消息"},
        state=InboundState.PROCESSED,
    )

    customer_erase(customer=held.customer, actor=admin_user, via="page")

    assert set(InboundRecord.objects.get(pk=refused.pk).payload) == {"scrubbed_at", "reason"}
    assert InboundRecord.objects.get(pk=lookalike.pk).payload["text"] == "别人的消息"
