"""A customer merge takes the merged customer's orders along; an undo brings them back."""

import pytest

from aftersales.models import Order
from tests.aftersales.factories import make_order
from tests.factories import intake
from tickets.models import AuditEntry
from tickets.services.customers import customer_merge, customer_merge_undo

pytestmark = pytest.mark.django_db


def test_orders_move_with_the_merge_and_back_with_its_undo(default_team, supervisor):
    source = intake(email="li.na@example.com", text="发票开错了", channel="email").ticket.customer
    target = intake(phone="13800138000", text="退款什么时候到").ticket.customer
    theirs = make_order(source, number="SO-SOURCE-1")
    kept = make_order(target, number="SO-TARGET-1")

    merge = customer_merge(source=source, target=target, actor=supervisor.user)

    assert set(Order.objects.filter(customer=target).values_list("number", flat=True)) == {
        "SO-SOURCE-1",
        "SO-TARGET-1",
    }
    assert merge.moved["parts"] == {"orders": [theirs.pk]}
    audit = AuditEntry.objects.get(action="customer_merged")
    assert audit.data["orders"] == 1

    customer_merge_undo(merge=merge, actor=supervisor.user)

    theirs.refresh_from_db()
    kept.refresh_from_db()
    assert (theirs.customer_id, kept.customer_id) == (source.pk, target.pk)
