"""The shop's case API: open a case (with a ticket), read it, apply events."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from aftersales.api.cases import EventInSerializer, EventReceivedSerializer
from aftersales.models import Case, CaseEvent, OpenedBy
from aftersales.services import case_review
from aftersales.steps import Step
from tests.aftersales.factories import make_order, open_case
from tests.aftersales.state import database_state
from tests.factories import issue_token
from tickets.models import Channel, ContactIdentity, Customer, EventKind, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token('shop', scopes=['aftersales'])}")
    return client


def recent_order():  # type: ignore[no-untyped-def]
    """An order placed an hour ago, not delivered yet: inside every window today."""
    customer = Customer.objects.create(name="李四")
    ContactIdentity.objects.create(customer=customer, kind="phone", value="+8613800138000")
    return make_order(
        customer,
        placed_at=(timezone.now() - timedelta(hours=1)).isoformat(),
        updated_at=(timezone.now() - timedelta(hours=1)).isoformat(),
        shipments=[],
    )


def approved_case():  # type: ignore[no-untyped-def]
    order = recent_order()
    case = open_case(order, amount="50.00", now=timezone.now())
    return case_review(case=case, approve=True, return_address="上海仓")


def test_an_event_is_stored_and_answered_with_its_outcome(shop):
    """Embedded mode (not queued): the event is applied before the answer."""
    case = approved_case()

    response = shop.post(
        f"/api/v1/aftersales/{case.number}/events",
        {"event_id": "wh-1", "kind": "return.received", "data": {"note": "到货"}},
        format="json",
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["redelivery"] is False
    event = body
    assert (event["case"], event["event_id"], event["kind"]) == (
        case.number,
        "wh-1",
        "return.received",
    )
    assert (event["status"], event["step"], event["code"]) == ("applied", "received", "")
    assert event["received_at"] and event["decided_at"]
    case.refresh_from_db()
    assert case.step == Step.RECEIVED


def test_a_redelivered_event_changes_nothing_and_says_so(shop):
    case = approved_case()
    body = {"event_id": "wh-1", "kind": "return.received", "data": {}}
    shop.post(f"/api/v1/aftersales/{case.number}/events", body, format="json")
    before = database_state()

    again = shop.post(f"/api/v1/aftersales/{case.number}/events", body, format="json")

    assert again.status_code == 200
    assert again.json()["redelivery"] is True
    assert again.json()["status"] == "applied"
    assert again.json()["step"] == "received"
    assert database_state() == before


def test_an_event_out_of_order_waits_with_its_code_and_nothing_changes(shop):
    case = approved_case()
    before = database_state()

    response = shop.post(
        f"/api/v1/aftersales/{case.number}/events",
        {
            "event_id": "wh-9",
            "kind": "refund.completed",
            "data": {"amount": "50.00", "method": "alipay", "reference": "P1"},
        },
        format="json",
    )

    assert response.status_code == 202
    event = response.json()
    assert (event["status"], event["code"], event["step"]) == ("waiting", "step_order", None)
    assert case.number in event["detail"]
    assert database_state() == {**before, "events": before["events"] + 1}


def test_an_event_id_reused_for_another_kind_is_a_conflict(shop):
    case = approved_case()
    url = f"/api/v1/aftersales/{case.number}/events"
    shop.post(url, {"event_id": "wh-1", "kind": "return.received"}, format="json")
    before = database_state()

    response = shop.post(url, {"event_id": "wh-1", "kind": "case.cancelled"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "event_conflict"
    assert database_state() == before


def test_the_events_of_a_case_list_with_their_outcome(shop):
    case = approved_case()
    url = f"/api/v1/aftersales/{case.number}/events"
    refund = {"amount": "50.00", "method": "alipay", "reference": "P1"}
    shop.post(url, {"event_id": "a", "kind": "refund.completed", "data": refund}, format="json")
    shop.post(url, {"event_id": "b", "kind": "return.received"}, format="json")
    shop.post(url, {"event_id": "c", "kind": "case.cancelled"}, format="json")

    response = shop.get(url)

    assert response.status_code == 200
    listed = [(e["event_id"], e["status"], e["step"], e["code"]) for e in response.json()]
    # The refund waited for the goods; it still waits for the inspection.
    assert listed == [
        ("a", "waiting", None, "step_order"),
        ("b", "applied", "received", ""),
        ("c", "refused", None, "cancel_late"),
    ]
    assert shop.get("/api/v1/aftersales/AS202601010001/events").status_code == 404


def test_an_unknown_case_is_404_and_an_unknown_kind_400(shop):
    missing = shop.post(
        "/api/v1/aftersales/AS202601010001/events",
        {"event_id": "x", "kind": "return.received"},
        format="json",
    )
    case = approved_case()
    unknown = shop.post(
        f"/api/v1/aftersales/{case.number}/events",
        {"event_id": "x", "kind": "goods.teleported"},
        format="json",
    )

    assert missing.status_code == 404
    assert missing.json()["code"] == "case"
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "event_kind"


def test_event_posts_in_a_row_are_each_checked_on_their_own(shop):
    """The event serializers' fields are copied shallowly per request: one post's errors
    and values never show in the next one's answer."""
    case = approved_case()
    url = f"/api/v1/aftersales/{case.number}/events"

    no_id = shop.post(url, {"kind": "return.received"}, format="json")
    stored = shop.post(
        url,
        {"event_id": "wh-1", "kind": "return.received", "data": {"note": "到货"}},
        format="json",
    )
    too_long = shop.post(url, {"event_id": "x" * 101, "kind": "return.received"}, format="json")
    no_kind = shop.post(url, {"event_id": "wh-2"}, format="json")

    assert no_id.status_code == 400
    assert set(no_id.json()) == {"event_id"}
    assert stored.status_code == 202
    assert (stored.json()["event_id"], stored.json()["status"]) == ("wh-1", "applied")
    assert too_long.status_code == 400
    assert set(too_long.json()) == {"event_id"}
    assert no_kind.status_code == 400
    assert set(no_kind.json()) == {"kind"}
    assert list(CaseEvent.objects.values_list("event_id", flat=True)) == ["wh-1"]


def test_the_event_serializers_bind_fields_of_their_own():
    first, second = EventInSerializer(), EventReceivedSerializer()
    again = EventInSerializer()

    assert first.fields["event_id"] is not again.fields["event_id"]
    assert first.fields["event_id"].parent is first
    assert second.fields["case"].parent is second
    assert again.fields["event_id"].parent is again
    # The declared fields, the copies' template, stay unbound.
    assert EventInSerializer._declared_fields["event_id"].parent is None
    assert EventReceivedSerializer._declared_fields["case"].field_name is None


def test_a_token_without_the_aftersales_scope_is_refused():
    case = approved_case()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token('app')}")  # the app's scopes

    event = client.post(
        f"/api/v1/aftersales/{case.number}/events",
        {"event_id": "e", "kind": "return.received"},
        format="json",
    )
    read = client.get(f"/api/v1/aftersales/{case.number}")
    listed = client.get(f"/api/v1/aftersales/{case.number}/events")
    anonymous = APIClient().get(f"/api/v1/aftersales/{case.number}")
    anonymous_events = APIClient().get(f"/api/v1/aftersales/{case.number}/events")

    assert event.status_code == 403
    assert read.status_code == 403
    assert listed.status_code == 403
    assert anonymous.status_code == 401
    assert anonymous_events.status_code == 401
    assert not CaseEvent.objects.exists()
    case.refresh_from_db()
    assert case.step == Step.WAITING_FOR_RETURN


def test_the_case_reads_with_items_amounts_steps_and_the_current_step_due(shop):
    case = approved_case()

    response = shop.get(f"/api/v1/aftersales/{case.number}")

    assert response.status_code == 200
    body = response.json()
    assert body["number"] == case.number
    assert body["type"] == "return_refund"
    assert body["step"] == "waiting_for_return"
    assert body["items"] == [
        {"sku": "MUG-1", "name": "马克杯", "quantity": 1, "unit_price": "50.00"}
    ]
    assert body["amount_requested"] == "50.00"
    assert body["refunded_amount"] == "0.00"
    assert [step["step"] for step in body["steps"]] == ["submitted", "waiting_for_return"]
    assert all(step["at"] for step in body["steps"])
    assert body["step_expected_minutes"] == 1440
    # Waiting for the customer: the clock holds, no due time.
    assert body["step_due_at"] is None


def test_a_submitted_case_reads_with_its_due_time(shop):
    case = open_case(recent_order(), amount="50.00", now=timezone.now())

    body = shop.get(f"/api/v1/aftersales/{case.number}").json()

    assert body["step"] == "submitted"
    assert body["step_due_at"] is not None


def test_opening_a_case_takes_a_ticket_in_for_the_customer(shop):
    order = recent_order()

    response = shop.post(
        "/api/v1/aftersales/",
        {
            "order": order.number,
            "type": "return_refund",
            "reason": "quality_problem",
            "items": [{"sku": "MUG-1", "quantity": 2}],
            "description": "两个杯子都有裂纹",
            "amount": "100.00",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(number=body["number"])
    assert case.opened_by == OpenedBy.API
    assert case.ticket is not None
    ticket = Ticket.objects.get(pk=case.ticket.pk)
    assert ticket.customer_id == order.customer_id
    assert ticket.channel == Channel.WEB
    text = ticket.messages.get(direction="in").body
    assert case.number in text and order.number in text and "两个杯子都有裂纹" in text
    assert ticket.events.filter(kind=EventKind.AFTERSALES).exists()
    assert body["ticket"] == ticket.number
    assert body["amount_requested"] == "100.00"


def test_a_refused_opening_leaves_no_ticket_behind(shop):
    order = recent_order()
    tickets = Ticket.objects.count()

    response = shop.post(
        "/api/v1/aftersales/",
        {
            "order": order.number,
            "type": "return_refund",
            "reason": "quality_problem",
            "items": [{"sku": "MUG-1", "quantity": 3}],
            "amount": "100.00",
        },
        format="json",
    )
    unknown_sku = shop.post(
        "/api/v1/aftersales/",
        {
            "order": order.number,
            "type": "exchange",
            "reason": "quality_problem",
            "items": [{"sku": "NOPE", "quantity": 1}],
        },
        format="json",
    )
    unknown_order = shop.post(
        "/api/v1/aftersales/",
        {
            "order": "SO-NONE",
            "type": "exchange",
            "reason": "quality_problem",
            "items": [{"sku": "MUG-1", "quantity": 1}],
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "quantity"
    assert unknown_sku.json()["code"] == "item_order"
    assert unknown_order.json()["code"] == "order"
    assert Ticket.objects.count() == tickets
    assert not Case.objects.exists()


def test_the_schema_lists_the_case_endpoints_with_their_scope(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    events = schema["paths"]["/api/v1/aftersales/{number}/events"]
    assert events["post"]["x-required-scopes"] == ["aftersales"]
    assert set(events["post"]["responses"]) >= {"202", "200", "400", "404"}
    assert events["get"]["x-required-scopes"] == ["aftersales"]
    assert "/api/v1/aftersales/{number}" in schema["paths"]
    assert "post" in schema["paths"]["/api/v1/aftersales/"]
