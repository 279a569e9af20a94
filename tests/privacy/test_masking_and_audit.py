"""Personal data on the outbox page and in the admin's inbound log is masked; showing it in
full is an explicit, audited action, and every admin view of a customer's contact data is
audited."""

import re

import pytest
from django.urls import reverse

from channels_ingest.models import InboundRecord, InboundState, OutboxEntry
from tests.factories import UserFactory, intake
from tickets.models import AuditEntry, ContactIdentity
from tickets.services.portal import status_code_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor_client(client, supervisor):  # type: ignore[no-untyped-def]
    client.force_login(supervisor.user)
    return client


@pytest.fixture
def admin_user(db):  # type: ignore[no-untyped-def]
    return UserFactory(is_superuser=True, is_staff=True)


@pytest.fixture
def code_entry(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """A one-time code sent by SMS to +8613800138000 (the outbox delivers it), and the code."""
    ticket = intake(phone="13800138000", text="我的快递呢").ticket
    with django_capture_on_commit_callbacks(execute=True):
        status_code_request(number=ticket.number, contact="13800138000")
    entry = OutboxEntry.objects.get(kind="code")
    (code,) = re.findall(r"(?<!\d)\d{6}(?!\d)", entry.body.replace(entry.ticket_number, ""))
    return entry, code


def test_the_outbox_page_masks_phone_numbers_and_hides_one_time_codes(
    supervisor_client, code_entry
):
    _entry, code = code_entry

    page = supervisor_client.get("/outbox/").content.decode()

    assert "+8613800138000" not in page
    assert "+86138****8000" in page
    assert code not in page
    assert not AuditEntry.objects.filter(action="outbox_revealed").exists()


def test_a_supervisor_reveals_one_outbox_entry_and_the_reveal_is_audited(
    supervisor_client, supervisor, code_entry
):
    entry, code = code_entry

    response = supervisor_client.post(reverse("outbox-reveal", args=[entry.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "+8613800138000" in page
    assert code in page
    audit = AuditEntry.objects.get(action="outbox_revealed")
    assert (audit.actor, audit.object_type, audit.object_id) == (
        supervisor.user,
        "outbox_entry",
        str(entry.pk),
    )
    assert audit.data == {"channel": "sms", "kind": "code", "ticket": entry.ticket_number}


def test_an_agent_cannot_reveal_an_outbox_entry(agent_client, code_entry):
    entry, _code = code_entry

    response = agent_client.post(reverse("outbox-reveal", args=[entry.pk]))

    assert response.status_code == 403
    assert not AuditEntry.objects.exists()


def test_revealing_an_outbox_entry_that_does_not_exist_is_a_404(supervisor_client):
    assert supervisor_client.post(reverse("outbox-reveal", args=[999])).status_code == 404
    assert not AuditEntry.objects.exists()


def _inbound_record() -> InboundRecord:
    return InboundRecord.objects.create(
        channel="sms",
        provider_id="SM-privacy-1",
        payload={
            "From": "+8613900139000",
            "Body": "我的地址是北京市朝阳区某某路1号",
            "NumMedia": "0",
        },
        state=InboundState.PROCESSED,
    )


def test_the_admin_inbound_log_masks_the_payload_and_audits_the_view(client, admin_user):
    record = _inbound_record()
    client.force_login(admin_user)

    page = client.get(f"/admin/channels_ingest/inboundrecord/{record.pk}/change/")

    body = page.content.decode()
    assert page.status_code == 200
    assert "+8613900139000" not in body
    assert "北京市朝阳区" not in body
    assert "+86139****9000" in body
    audit = AuditEntry.objects.get(action="admin_viewed")
    assert (audit.actor, audit.object_type, audit.object_id) == (
        admin_user,
        "inbound_record",
        str(record.pk),
    )


def test_revealing_an_inbound_payload_in_the_admin_is_a_post_and_is_audited(client, admin_user):
    record = _inbound_record()
    client.force_login(admin_user)
    url = f"/admin/channels_ingest/inboundrecord/{record.pk}/reveal/"

    assert client.get(url).status_code == 405
    response = client.post(url)

    body = response.content.decode()
    assert response.status_code == 200
    assert "+8613900139000" in body
    assert "北京市朝阳区" in body
    audit = AuditEntry.objects.get(action="inbound_payload_revealed")
    assert (audit.actor, audit.object_type, audit.object_id) == (
        admin_user,
        "inbound_record",
        str(record.pk),
    )


def test_a_staff_user_without_the_supervisor_role_cannot_reveal_a_payload(client, db):
    from django.contrib.auth.models import Permission

    record = _inbound_record()
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_inboundrecord"))
    client.force_login(staff)

    response = client.post(f"/admin/channels_ingest/inboundrecord/{record.pk}/reveal/")

    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="inbound_payload_revealed").exists()


def test_admin_pages_of_customers_and_identities_record_who_saw_them(client, admin_user):
    customer = intake(phone="13700137000").ticket.customer
    identity = ContactIdentity.objects.get(customer=customer)
    client.force_login(admin_user)

    assert client.get("/admin/tickets/customer/").status_code == 200
    assert client.get(f"/admin/tickets/customer/{customer.pk}/change/").status_code == 200
    assert client.get("/admin/tickets/contactidentity/").status_code == 200
    assert client.get(f"/admin/tickets/contactidentity/{identity.pk}/change/").status_code == 200

    seen = list(
        AuditEntry.objects.filter(action="admin_viewed")
        .order_by("pk")
        .values_list("actor", "object_type", "object_id", "data")
    )
    assert seen == [
        (admin_user.pk, "customer", "", {"page": "list", "ids": [customer.pk]}),
        (admin_user.pk, "customer", str(customer.pk), {"page": "change"}),
        (admin_user.pk, "contact_identity", "", {"page": "list", "ids": [identity.pk]}),
        (admin_user.pk, "contact_identity", str(identity.pk), {"page": "change"}),
    ]


def test_the_outbox_page_reveal_by_htmx_returns_only_that_row(supervisor_client, code_entry):
    entry, code = code_entry

    response = supervisor_client.post(
        reverse("outbox-reveal", args=[entry.pk]), HTTP_HX_REQUEST="true"
    )

    row = response.content.decode()
    assert row.lstrip().startswith(f'<tr id="outbox-{entry.pk}">')
    assert code in row
    assert "Show in full" not in row and "完整显示" not in row


def test_the_admin_outbox_entries_are_masked_too(client, admin_user, code_entry):
    entry, code = code_entry
    client.force_login(admin_user)

    listing = client.get("/admin/channels_ingest/outboxentry/").content.decode()
    page = client.get(f"/admin/channels_ingest/outboxentry/{entry.pk}/change/").content.decode()

    for body in (listing, page):
        assert "+8613800138000" not in body
        assert "+86138****8000" in body
    assert code not in page
