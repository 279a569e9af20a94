"""Steps the customer takes on the status page (the return's tracking number, cancelling)
are recorded as theirs, so no notice tells them of what they just did; the same steps taken
by an agent or the shop's systems are announced."""

from decimal import Decimal

import pytest

from aftersales.models import Case
from aftersales.services import ItemClaim, case_cancel, case_open, case_return_tracking, case_review
from aftersales.steps import Step
from tests.aftersales.factories import NOW, make_order, reason
from tests.factories import intake
from tickets.models import Message, Ticket
from tickets.portal import SESSION_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outbox(settings):  # type: ignore[no-untyped-def]
    settings.NOTICE_QUIET_HOURS = ""


@pytest.fixture
def ticket(default_team) -> Ticket:  # type: ignore[no-untyped-def]
    return intake(phone="13900001234", text="杯子坏了").ticket


def approved_return(ticket: Ticket) -> Case:
    order = make_order(customer=ticket.customer)
    case = case_open(
        order=order,
        items=[ItemClaim(order_item=order.items.get(sku="MUG-1"), quantity=1)],
        type="return_refund",  # type: ignore[arg-type]
        reason=reason(),
        description="杯子有裂纹",
        amount=Decimal("50.00"),
        opened_by="agent",  # type: ignore[arg-type]
        ticket=ticket,
        now=NOW,
    )
    return case_review(case=case, approve=True, return_address="上海市浦东新区 售后仓", now=NOW)


def notices(ticket: Ticket, event: str) -> int:
    return Message.objects.filter(ticket=ticket, notice=event).count()


def signed_in(client, ticket: Ticket):  # type: ignore[no-untyped-def]
    session = client.session
    session[SESSION_KEY] = ticket.customer_id
    session.save()
    return client


def test_the_customers_tracking_number_is_theirs_and_not_announced_to_them(client, ticket):
    case = approved_return(ticket)
    assert notices(ticket, "case.waiting_for_return") == 1

    response = signed_in(client, ticket).post(
        f"/status/cases/{case.number}/", {"carrier": "顺丰", "tracking_number": "SF7700112233"}
    )

    assert response.status_code == 302
    row = case.steps.get(step=Step.RETURN_SHIPPED)
    assert row.data == {"carrier": "顺丰", "tracking_number": "SF7700112233", "by": "customer"}
    assert notices(ticket, "case.return_shipped") == 0


def test_a_tracking_number_from_the_shop_is_announced(ticket):
    case = approved_return(ticket)

    case_return_tracking(case=case, carrier="SF", tracking_number="SF0001")

    assert "by" not in case.steps.get(step=Step.RETURN_SHIPPED).data
    assert notices(ticket, "case.return_shipped") == 1


def test_the_customers_cancel_is_theirs_and_not_announced_to_them(client, ticket):
    case = approved_return(ticket)

    response = signed_in(client, ticket).post(f"/status/cases/{case.number}/cancel/")

    assert response.status_code == 302
    assert case.steps.get(step=Step.CANCELLED).data == {"by": "customer"}
    assert notices(ticket, "case.cancelled") == 0


def test_a_cancel_by_the_agent_is_announced(ticket):
    case = approved_return(ticket)

    case_cancel(case=case, note="客户电话里说不退了")

    assert notices(ticket, "case.cancelled") == 1
