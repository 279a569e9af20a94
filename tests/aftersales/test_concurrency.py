"""Races on PostgreSQL: two openings for the same item take turns on the order's row lock,
so exactly one wins; an event and its redelivery racing are stored and applied once."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from aftersales.models import Case, CaseEvent, CaseItem, CaseStep
from aftersales.services import ItemClaim, case_open, case_review, event_inbox, event_receive
from aftersales.steps import CaseType
from tests.aftersales.factories import NOW, make_order, open_case, reason
from tests.support.environment import requires_postgres


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_openings_for_the_same_item_racing_give_one_case():
    order = make_order(
        items=[{"sku": "TV-1", "name": "电视", "quantity": 1, "unit_price": "3000.00"}],
        goods_amount="3000.00",
        shipping_amount="0",
        paid_amount="3000.00",
    )
    item = order.items.get()
    why = reason()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def open_one() -> None:
        barrier.wait()
        try:
            case_open(
                order=order,
                items=[ItemClaim(order_item=item, quantity=1)],
                type=CaseType.RETURN_REFUND,
                reason=why,
                description="",
                amount=Decimal("3000.00"),
                opened_by="customer",  # type: ignore[arg-type]
                now=NOW,
            )
            outcomes.append("opened")
        except ValidationError as error:
            outcomes.append(error.error_list[0].code or "")
        finally:
            connection.close()

    threads = [threading.Thread(target=open_one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["item_busy", "opened"]
    assert Case.objects.count() == 1
    assert CaseItem.objects.get().quantity == 1


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_event_and_its_redelivery_racing_are_stored_and_applied_once(settings):
    """Queued mode: both deliveries answer, one stored it; the worker applies it once."""
    settings.INBOUND_QUEUED = True
    case = case_review(
        case=open_case(make_order(), type=CaseType.REFUND_ONLY, amount="30.00"),
        approve=True,
        now=NOW,
    )
    barrier = threading.Barrier(2)
    stored: list[bool] = []
    refund = {"amount": "30.00", "method": "original", "reference": "R1"}

    def deliver() -> None:
        barrier.wait()
        try:
            receipt = event_receive(
                case_number=case.number, event_id="pay-1", kind="refund.completed", data=refund
            )
            stored.append(receipt.stored)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    event_inbox.events_drain()

    assert sorted(stored) == [False, True]
    event = CaseEvent.objects.get(case=case)
    assert event.status == "applied"
    assert CaseStep.objects.filter(case=case, step="refunded").count() == 1
