"""Opening cases and moving them along: the happy path of every type, and every guard,
each refusing with a clear error and leaving the database as it was."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from aftersales.models import Case, CaseStep
from aftersales.services import (
    ItemClaim,
    case_cancel,
    case_complete,
    case_goods_received,
    case_open,
    case_receive,
    case_refund,
    case_repaired,
    case_replacement_shipped,
    case_return_tracking,
    case_review,
)
from aftersales.signals import case_changed
from aftersales.steps import FLOWS, CaseType, Step
from tests.aftersales.factories import NOW, make_order, open_case, reason
from tests.aftersales.state import database_state
from tests.factories import intake
from tickets.models import AuditEntry, TicketEvent

pytestmark = pytest.mark.django_db


def steps_of(case: Case) -> list[str]:
    return list(CaseStep.objects.filter(case=case).values_list("step", flat=True))


def refused(code: str, call, *args, **kwargs) -> ValidationError:  # type: ignore[no-untyped-def]
    """Run a call that must be refused: it raises ValidationError with `code` and the
    database is as it was."""
    before = database_state()
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    assert caught.value.error_list[0].code == code
    assert database_state() == before
    return caught.value


# --- happy paths -------------------------------------------------------------------------


def test_a_return_and_refund_goes_from_submission_to_completion():
    order = make_order()
    case = open_case(order, amount="50.00")

    assert re.fullmatch(r"AS202611200001", case.number)
    case_review(case=case, approve=True, return_address="上海市仓库 3 号门", now=NOW)
    case_return_tracking(case=case, carrier="SF", tracking_number="SF123", now=NOW)
    case_goods_received(case=case, now=NOW)
    case_receive(case=case, passed=True, note="完好", now=NOW)
    case_refund(case=case, amount=Decimal("50.00"), method="original", reference="R1", now=NOW)
    case = case_complete(case=case, now=NOW)

    assert case.step == Step.COMPLETED
    assert case.refunded_amount == Decimal("50.00")
    assert steps_of(case) == [
        "submitted",
        "waiting_for_return",
        "return_shipped",
        "received",
        "inspected",
        "refunded",
        "completed",
    ]
    refund = CaseStep.objects.get(case=case, step=Step.REFUNDED)
    assert refund.data == {
        "amount": "50.00",
        "currency": "CNY",
        "method": "original",
        "reference": "R1",
    }
    stored = Case.objects.get(pk=case.pk)
    assert stored.is_open is False


def test_receiving_and_inspecting_at_once_records_both_steps():
    case = open_case(make_order())
    case_review(case=case, approve=True, return_address="仓库", now=NOW)

    case_receive(case=case, passed=False, note="人为损坏", now=NOW)

    assert steps_of(case)[-2:] == ["received", "inspection_failed"]
    failed = CaseStep.objects.get(case=case, step=Step.INSPECTION_FAILED)
    assert failed.note == "人为损坏"
    assert case_complete(case=case, now=NOW).step == Step.COMPLETED


def test_a_refund_only_case_skips_the_return():
    case = open_case(make_order(), type=CaseType.REFUND_ONLY, amount="40.00")
    case_review(case=case, approve=True, now=NOW)
    case_refund(case=case, amount=Decimal("40.00"), method="balance", reference="R2", now=NOW)
    case = case_complete(case=case, now=NOW)

    assert steps_of(case) == ["submitted", "approved", "refunded", "completed"]
    assert case.refunded_amount == Decimal("40.00")


def test_an_exchange_ships_a_replacement_after_inspection():
    case = open_case(make_order(), type=CaseType.EXCHANGE, amount="0")
    case_review(case=case, approve=True, return_address="仓库", now=NOW)
    case_receive(case=case, passed=True, now=NOW)
    case_replacement_shipped(case=case, carrier="SF", tracking_number="SF9", now=NOW)
    case = case_complete(case=case, now=NOW)

    assert steps_of(case) == [
        "submitted",
        "waiting_for_return",
        "received",
        "inspected",
        "replacement_shipped",
        "completed",
    ]
    assert case.refunded_amount == 0


def test_a_repair_ends_with_a_report():
    case = open_case(make_order(), type=CaseType.REPAIR, amount="0")
    case_review(case=case, approve=True, return_address="上门取件", now=NOW)
    case_receive(case=case, passed=True, now=NOW)
    case_repaired(case=case, report="更换把手", now=NOW)
    case = case_complete(case=case, now=NOW)

    assert steps_of(case)[-2:] == ["repaired", "completed"]
    assert CaseStep.objects.get(case=case, step=Step.REPAIRED).note == "更换把手"


def test_a_reship_has_no_return():
    case = open_case(make_order(), type=CaseType.RESHIP, sku="DURIAN-1", amount="0")
    case_review(case=case, approve=True, now=NOW)
    case_replacement_shipped(case=case, carrier="JD", tracking_number="JD1", now=NOW)
    case = case_complete(case=case, now=NOW)

    assert steps_of(case) == ["submitted", "approved", "replacement_shipped", "completed"]


def test_a_rejected_case_tells_the_customer_why_and_frees_its_items():
    order = make_order()
    case = case_review(
        case=open_case(order, quantity=2, amount="100.00"),
        approve=False,
        reason="已超过质保",
        now=NOW,
    )

    assert case.step == Step.REJECTED
    assert CaseStep.objects.get(case=case, step=Step.REJECTED).data["reason"] == "已超过质保"
    again = open_case(order, quantity=2, amount="100.00")
    assert again.step == Step.SUBMITTED


def test_case_numbers_follow_each_other_within_a_day():
    order = make_order()
    first = open_case(order, sku="MUG-1", amount="50.00")
    second = open_case(order, sku="DURIAN-1", amount="100.00")
    next_day = open_case(make_order(), now=NOW + timedelta(days=1))

    assert [first.number, second.number, next_day.number] == [
        "AS202611200001",
        "AS202611200002",
        "AS202611210001",
    ]


def test_a_linked_ticket_shows_each_step_and_every_step_is_audited(default_team):
    ticket = intake(phone="13900001234", text="杯子坏了").ticket
    order = make_order(customer=ticket.customer)
    case = open_case(order, ticket=ticket)
    case_review(case=case, approve=True, return_address="仓库", now=NOW)

    trail = TicketEvent.objects.filter(ticket=ticket, kind="aftersales")
    assert [e.data["step"] for e in trail] == ["submitted", "waiting_for_return"]
    assert trail[0].data["case"] == case.number
    audited = AuditEntry.objects.filter(object_type="aftersales_case", object_id=case.number)
    assert sorted(audited.values_list("action", flat=True)) == [
        "aftersales_submitted",
        "aftersales_waiting_for_return",
    ]
    # The return address is personal data: it stays on the case, not in the audit log.
    assert all("return_address" not in entry.data for entry in audited)


def test_case_changed_is_sent_once_per_step_after_commit(django_capture_on_commit_callbacks):
    received: list[tuple[str, str]] = []

    def receiver(**kwargs):  # type: ignore[no-untyped-def]
        received.append((kwargs["case_number"], kwargs["step"]))

    case_changed.connect(receiver, dispatch_uid="test-case-changed")
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            case = open_case(make_order())
        assert received == []
        for callback in callbacks:
            callback()
        with django_capture_on_commit_callbacks(execute=True):
            case_review(case=case, approve=True, return_address="仓库", now=NOW)
            with pytest.raises(ValidationError):
                case_refund(case=case, amount=Decimal(1), method="m", reference="r", now=NOW)
    finally:
        case_changed.disconnect(dispatch_uid="test-case-changed")

    assert received == [(case.number, "submitted"), (case.number, "waiting_for_return")]


# --- guards on opening -------------------------------------------------------------------


def test_more_than_was_bought_is_refused():
    order = make_order()
    error = refused("quantity", open_case, order, quantity=3, amount="50.00")
    assert "MUG-1" in error.messages[0]


def test_quantity_already_claimed_by_a_completed_case_is_refused():
    order = make_order()
    case = open_case(order, type=CaseType.REFUND_ONLY, quantity=1, amount="50.00")
    case_review(case=case, approve=True, now=NOW)
    case_refund(case=case, amount=Decimal("50.00"), method="m", reference="r", now=NOW)
    case_complete(case=case, now=NOW)

    refused("quantity", open_case, order, quantity=2, amount="50.00")
    assert open_case(order, quantity=1, amount="50.00").step == Step.SUBMITTED


def test_an_item_in_an_open_case_cannot_be_in_a_second():
    order = make_order()
    open_case(order, quantity=1, amount="50.00")

    error = refused("item_busy", open_case, order, quantity=1, amount="50.00")
    assert "MUG-1" in error.messages[0]


def test_a_refund_above_the_items_value_is_refused():
    order = make_order()
    refused("over_refund", open_case, order, quantity=1, amount="50.01")


def test_a_refund_above_what_was_paid_less_other_cases_is_refused():
    # Paid 215 for goods worth 220: the mugs' case holds 100, so at most 115 is left for
    # the durian box worth 120.
    order = make_order()
    open_case(order, quantity=2, amount="100.00")

    error = refused("over_refund", open_case, order, sku="DURIAN-1", amount="115.01")
    assert "115.00" in error.messages[0]
    assert open_case(order, sku="DURIAN-1", amount="115.00").amount_requested == Decimal("115")


def test_a_case_past_its_window_is_refused():
    order = make_order()  # delivered NOW - 1 day; fresh goods: 48 hours
    later = NOW + timedelta(days=1, minutes=1)

    error = refused("window", open_case, order, sku="DURIAN-1", amount="10.00", now=later)
    assert order.number in error.messages[0]
    # The mugs are general goods (7 days): still open.
    assert open_case(order, sku="MUG-1", now=later).step == Step.SUBMITTED


def test_an_undelivered_order_counts_its_window_from_placing(settings):
    settings.AFTERSALES_WINDOW_HOURS = {**settings.AFTERSALES_WINDOW_HOURS, "general": 24}
    order = make_order(shipments=[])  # placed NOW - 3 days

    refused("window", open_case, order)


@pytest.mark.parametrize(
    ("type", "amount", "code"),
    [
        (CaseType.EXCHANGE, "10.00", "amount"),
        (CaseType.RETURN_REFUND, "0", "amount"),
        (CaseType.RETURN_REFUND, "-1", "amount"),
        (CaseType.RETURN_REFUND, "10.005", "amount"),
        (CaseType.RETURN_REFUND, "NaN", "amount"),
    ],
)
def test_an_amount_that_does_not_fit_the_type_is_refused(type, amount, code):
    refused(code, open_case, make_order(), type=type, amount=amount)


def test_an_unknown_type_is_refused():
    refused("type", open_case, make_order(), type="swap")


def test_an_item_of_another_order_is_refused():
    order, other = make_order(), make_order()
    refused(
        "item_order",
        case_open,
        order=order,
        items=[ItemClaim(order_item=other.items.get(sku="MUG-1"), quantity=1)],
        type=CaseType.RETURN_REFUND,
        reason=reason(),
        description="",
        amount=Decimal("10"),
        opened_by="agent",
        now=NOW,
    )


def test_a_ticket_of_another_customer_is_refused(default_team):
    ticket = intake(phone="13900001234", text="杯子坏了").ticket
    refused("ticket_customer", open_case, make_order(), ticket=ticket)


def test_a_retired_reason_is_refused():
    quality = reason()
    quality.is_active = False
    quality.save()
    refused("reason", open_case, make_order())


# --- guards on the steps -----------------------------------------------------------------


def test_a_refund_before_the_goods_are_received_is_refused():
    case = open_case(make_order())
    case_review(case=case, approve=True, return_address="仓库", now=NOW)

    error = refused(
        "step_order",
        case_refund,
        case=case,
        amount=Decimal("50"),
        method="m",
        reference="r",
        now=NOW,
    )
    assert case.number in error.messages[0]


def test_a_refund_over_the_cap_is_refused_at_refund_time():
    case = open_case(make_order(), type=CaseType.REFUND_ONLY, amount="50.00")
    case_review(case=case, approve=True, now=NOW)

    refused(
        "over_refund",
        case_refund,
        case=case,
        amount=Decimal("50.01"),
        method="m",
        reference="r",
        now=NOW,
    )


def test_steps_out_of_order_are_refused():
    case = open_case(make_order())
    refused("step_order", case_goods_received, case=case, now=NOW)
    refused("step_order", case_complete, case=case, now=NOW)
    refused("step_order", case_replacement_shipped, case=case, carrier="SF", tracking_number="1")
    refused("step_order", case_repaired, case=case, report="done")


def test_a_second_review_is_refused():
    case = open_case(make_order())
    case_review(case=case, approve=True, return_address="仓库", now=NOW)
    refused("step_order", case_review, case=case, approve=False, reason="no", now=NOW)


def test_approving_a_return_needs_the_return_address_and_rejecting_needs_a_reason():
    case = open_case(make_order())
    refused("required", case_review, case=case, approve=True, return_address=" ")
    refused("required", case_review, case=case, approve=False, reason="")


def test_the_customer_can_cancel_until_the_goods_are_received():
    order = make_order()
    case = open_case(order)
    case_review(case=case, approve=True, return_address="仓库", now=NOW)
    case_return_tracking(case=case, carrier="SF", tracking_number="SF1", now=NOW)
    assert case_cancel(case=case, note="不退了", now=NOW).step == Step.CANCELLED

    received = open_case(order)
    case_review(case=received, approve=True, return_address="仓库", now=NOW)
    case_goods_received(case=received, now=NOW)
    error = refused("cancel_late", case_cancel, case=received, now=NOW)
    assert received.number in error.messages[0]


def test_every_type_flow_is_consistent():
    for type, flow in FLOWS.items():
        for step, following in flow.transitions.items():
            assert step in flow.steps, (type, step)
            assert following <= set(flow.steps), (type, step)
            assert step in flow.minutes, (type, step)
        assert Step.COMPLETED in flow.steps


def test_guard_messages_speak_chinese_first():
    order = make_order()
    open_case(order)

    with translation.override("zh-hans"):
        error = refused("item_busy", open_case, order)

    assert error.messages == ["商品 MUG-1 已在处理中的售后单里。"]


def test_the_ticket_page_shows_the_case_steps(agent_client):
    ticket = intake(phone="13900001234", text="杯子坏了").ticket
    case = open_case(make_order(customer=ticket.customer), ticket=ticket)
    case_review(case=case, approve=True, return_address="仓库", now=NOW)

    page = agent_client.get(f"/tickets/{ticket.number}/").content.decode()

    # Written in the site's language (zh-Hans) when the step was taken.
    assert f"→ {case.number} 待寄回" in page


def test_the_reasons_list_starts_seeded_in_both_languages():
    from aftersales.models import Reason

    assert list(Reason.objects.values_list("code", flat=True)) == [
        "quality_problem",
        "damaged_in_transit",
        "wrong_item",
        "missing_item",
        "not_as_described",
        "changed_mind",
    ]
    with translation.override("en"):
        assert reason("wrong_item").label == "Wrong item"
    with translation.override("zh-hans"):
        assert reason("wrong_item").label == "发错商品"
