"""Two openings racing for the same item on PostgreSQL: the order's row lock makes them
take turns, so exactly one wins."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from aftersales.models import Case, CaseItem
from aftersales.services import ItemClaim, case_open
from aftersales.steps import CaseType
from tests.aftersales.factories import NOW, make_order, reason
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
