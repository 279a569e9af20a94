"""Exporting everything Kefu holds about a customer: one zip archive, audited."""

import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.privacy.conftest import PHOTO
from tickets.models import AuditEntry
from tickets.services.privacy import customer_export

pytestmark = pytest.mark.django_db


def _archive(data: bytes) -> tuple[zipfile.ZipFile, dict]:  # type: ignore[type-arg]
    archive = zipfile.ZipFile(io.BytesIO(data))
    return archive, json.loads(archive.read("customer.json"))


def test_the_archive_holds_the_customer_their_tickets_messages_calls_files_and_raw_payloads(
    held, admin_user
):
    buffer = io.BytesIO()

    summary = customer_export(
        customer=held.customer, actor=admin_user, destination=buffer, via="page"
    )

    archive, document = _archive(buffer.getvalue())
    assert document["customer"]["id"] == held.customer.pk
    assert document["customer"]["name"] == "张三"
    assert [(i["kind"], i["value"]) for i in document["identities"]] == [
        ("email", "zhang.san@example.com"),
        ("phone", "+8613800138000"),
    ]
    (ticket,) = document["tickets"]
    assert ticket["number"] == held.ticket.number
    written = [m for m in ticket["messages"] if not m["is_automatic"]]
    assert [(m["direction"], m["body"]) for m in written] == [
        ("in", "我叫张三，住北京市朝阳区，买的面包发霉了"),
        ("out", "张三您好，我们马上退款。"),
    ]
    (attachment,) = ticket["messages"][0]["attachments"]
    assert attachment["filename"] == "loaf.png"
    assert archive.read(attachment["file"]) == PHOTO
    assert "created" in [event["kind"] for event in ticket["events"]]
    (call,) = document["calls"]
    assert (call["call_id"], call["from"], call["duration"]) == (
        "call-held-1",
        "+8613800138000",
        42,
    )
    records = json.loads(archive.read("channels/inbound_records.json"))
    assert [record["provider_id"] for record in records] == ["SM-held-1"]
    assert records[0]["payload"]["Body"] == "我叫张三，住北京市朝阳区"
    outbox = json.loads(archive.read("channels/outbox.json"))
    assert "张三您好，我们马上退款。" in [entry["body"] for entry in outbox]
    assert {entry["to"] for entry in outbox} == {"+8613800138000"}
    assert "李四" not in json.dumps(document, ensure_ascii=False)
    assert "李四" not in archive.read("channels/inbound_records.json").decode()
    assert (summary.tickets, summary.messages, summary.attachments) == (
        1,
        len(ticket["messages"]),
        1,
    )
    assert summary.files == len(archive.namelist())


def test_an_export_is_in_the_audit_log_without_the_data(held, admin_user):
    customer_export(customer=held.customer, actor=admin_user, destination=io.BytesIO(), via="page")

    audit = AuditEntry.objects.get(action="customer_exported")
    assert (audit.actor, audit.object_type, audit.object_id) == (
        admin_user,
        "customer",
        str(held.customer.pk),
    )
    assert audit.data["via"] == "page"
    assert "13800138000" not in json.dumps(audit.data)


def test_a_supervisor_downloads_the_archive_from_the_customer_page(client, supervisor, held):
    client.force_login(supervisor.user)

    page = client.get(reverse("tickets:customer", args=[held.customer.pk]))
    response = client.post(reverse("tickets:customer_export", args=[held.customer.pk]))

    assert page.status_code == 200
    assert reverse("tickets:customer_export", args=[held.customer.pk]) in page.content.decode()
    assert "+8613800138000" not in page.content.decode()
    # Erasing is for admins: a supervisor is not offered it.
    assert 'id="customer-erase"' not in page.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == (
        f'attachment; filename="kefu-customer-{held.customer.pk}.zip"'
    )
    _archive_file, document = _archive(b"".join(response.streaming_content))
    assert document["customer"]["id"] == held.customer.pk
    assert AuditEntry.objects.get(action="customer_exported").actor == supervisor.user


def test_an_agent_can_neither_see_the_customer_page_nor_export(agent_client, held):
    assert agent_client.get(reverse("tickets:customer", args=[held.customer.pk])).status_code == 403
    response = agent_client.post(reverse("tickets:customer_export", args=[held.customer.pk]))

    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="customer_exported").exists()


def test_the_export_command_writes_the_archive_and_is_audited(held, tmp_path):
    path = tmp_path / "out.zip"
    out = io.StringIO()

    call_command("customer_export", str(held.customer.pk), "--output", str(path), stdout=out)

    _archive_file, document = _archive(path.read_bytes())
    assert document["customer"]["id"] == held.customer.pk
    audit = AuditEntry.objects.get(action="customer_exported")
    assert audit.actor is None
    assert audit.data["via"].startswith("command")
    assert out.getvalue().startswith(f"{path}: ")


def test_the_export_command_refuses_an_unknown_customer(db, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no customer #999"):
        call_command("customer_export", "999", "--output", str(tmp_path / "x.zip"))
    assert not AuditEntry.objects.exists()


def test_the_export_costs_the_same_queries_for_one_ticket_or_many(db, agent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import intake
    from tickets.models import Status, Ticket

    def queries_for(phone: str, tickets: int) -> int:
        for index in range(tickets):
            customer = intake(phone=phone, text=f"问题 {index}").ticket.customer
            # Closed, so the next message opens another ticket.
            Ticket.objects.filter(customer=customer).update(status=Status.CLOSED)
        with CaptureQueriesContext(connection) as queries:
            customer_export(customer=customer, actor=None, destination=io.BytesIO(), via="x")
        return len(queries)

    assert queries_for("13800138001", 1) == queries_for("13800138002", 6)
