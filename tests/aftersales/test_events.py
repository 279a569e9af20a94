"""The shop's events about a case: applied once, held while out of order, refused when
the case can never take them (applied at once here: the embedded mode)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from aftersales.models import CaseEvent
from aftersales.services import case_apply_event, case_review
from aftersales.steps import CaseType, Step
from tests.aftersales.factories import NOW, make_order, open_case
from tests.aftersales.state import database_state

pytestmark = pytest.mark.django_db


def approved_return():  # type: ignore[no-untyped-def]
    case = open_case(make_order(), amount="50.00")
    return case_review(case=case, approve=True, return_address="仓库", now=NOW)


def test_the_warehouse_and_payment_events_take_a_return_to_its_refund():
    case = approved_return()
    for event_id, kind, data in [
        ("e1", "return.shipped", {"carrier": "SF", "tracking_number": "SF1"}),
        ("e2", "return.received", {}),
        ("e3", "inspection.passed", {"note": "ok"}),
        ("e4", "refund.completed", {"amount": "50.00", "method": "alipay", "reference": "P9"}),
        ("e5", "case.completed", {}),
    ]:
        result = case_apply_event(
            case_number=case.number, event_id=event_id, kind=kind, data=data, now=NOW
        )
        assert result.applied is True

    assert result.case.step == Step.COMPLETED
    assert result.case.refunded_amount == Decimal("50.00")
    assert list(CaseEvent.objects.filter(case=case).values_list("event_id", "step__step")) == [
        ("e1", "return_shipped"),
        ("e2", "received"),
        ("e3", "inspected"),
        ("e4", "refunded"),
        ("e5", "completed"),
    ]


def test_a_redelivered_event_changes_nothing_and_answers_the_same():
    case = approved_return()
    first = case_apply_event(
        case_number=case.number, event_id="r1", kind="return.received", data={}, now=NOW
    )
    before = database_state()

    again = case_apply_event(
        case_number=case.number, event_id="r1", kind="return.received", data={}, now=NOW
    )

    assert again.applied is False
    assert again.step.pk == first.step.pk
    assert again.case.step == Step.RECEIVED
    assert database_state() == before


def test_an_event_out_of_order_waits_with_nothing_changed_and_applies_once_the_case_is_there():
    case = approved_return()
    before = database_state()
    refund = {"amount": "50.00", "method": "alipay", "reference": "P9"}

    with pytest.raises(ValidationError) as caught:
        case_apply_event(
            case_number=case.number, event_id="x1", kind="refund.completed", data=refund
        )

    assert caught.value.error_list[0].code == "step_order"
    waiting = CaseEvent.objects.get(case=case, event_id="x1")
    assert (waiting.status, waiting.code, waiting.step) == ("waiting", "step_order", None)
    assert database_state() == {**before, "events": before["events"] + 1}
    for event_id, kind in [("x2", "return.received"), ("x3", "inspection.passed")]:
        case_apply_event(case_number=case.number, event_id=event_id, kind=kind, data={})

    waiting.refresh_from_db()
    case.refresh_from_db()
    assert waiting.status == "applied"
    assert waiting.step is not None and waiting.step.step == Step.REFUNDED
    assert case.step == Step.REFUNDED
    assert case.steps.filter(step=Step.REFUNDED).count() == 1


def test_a_waiting_event_is_refused_once_the_case_can_no_longer_get_there():
    case = approved_return()
    refund = {"amount": "50.00", "method": "alipay", "reference": "P9"}
    with pytest.raises(ValidationError):
        case_apply_event(
            case_number=case.number, event_id="w1", kind="refund.completed", data=refund
        )

    case_apply_event(case_number=case.number, event_id="w2", kind="case.cancelled", data={})

    event = CaseEvent.objects.get(case=case, event_id="w1")
    assert (event.status, event.code) == ("refused", "step_order")
    case.refresh_from_db()
    assert case.step == Step.CANCELLED
    assert not case.steps.filter(step=Step.REFUNDED).exists()


def test_an_event_the_case_can_never_take_is_refused_at_once():
    case = open_case(make_order(), type=CaseType.REFUND_ONLY, amount="30.00")
    case_review(case=case, approve=True, now=NOW)
    before = database_state()

    with pytest.raises(ValidationError) as caught:
        case_apply_event(case_number=case.number, event_id="n1", kind="return.received", data={})

    assert caught.value.error_list[0].code == "step_order"
    assert CaseEvent.objects.get(event_id="n1").status == "refused"
    assert database_state() == {**before, "events": before["events"] + 1}


def test_a_refund_event_for_a_refund_only_case_needs_no_return():
    case = open_case(make_order(), type=CaseType.REFUND_ONLY, amount="30.00")
    case_review(case=case, approve=True, now=NOW)

    result = case_apply_event(
        case_number=case.number,
        event_id="p1",
        kind="refund.completed",
        data={"amount": "30", "method": "wechat", "reference": "W1"},
    )

    assert result.case.refunded_amount == Decimal("30.00")


@pytest.mark.parametrize(
    ("case_number", "event_id", "kind", "data", "code"),
    [
        (None, "u1", "parcel.teleported", {}, "event_kind"),
        ("AS000000000000", "u2", "return.received", {}, "case"),
        (None, "", "return.received", {}, "event_id"),
        (None, "u" * 101, "return.received", {}, "event_id"),
    ],
)
def test_bad_events_are_refused_before_anything_is_stored(case_number, event_id, kind, data, code):
    case = approved_return()
    before = database_state()

    with pytest.raises(ValidationError) as caught:
        case_apply_event(
            case_number=case_number or case.number, event_id=event_id, kind=kind, data=data
        )

    assert caught.value.error_list[0].code == code
    assert database_state() == before


@pytest.mark.parametrize(
    ("kind", "data", "code"),
    [
        ("refund.completed", {"amount": "lots"}, "amount"),
        ("return.shipped", {"carrier": "SF"}, "required"),
    ],
)
def test_an_event_with_bad_data_is_kept_as_refused_with_nothing_changed(kind, data, code):
    case = approved_return()
    before = database_state()

    with pytest.raises(ValidationError) as caught:
        case_apply_event(case_number=case.number, event_id="b1", kind=kind, data=data)

    assert caught.value.error_list[0].code == code
    event = CaseEvent.objects.get(case=case, event_id="b1")
    assert (event.status, event.code, event.step) == ("refused", code, None)
    assert event.detail
    assert database_state() == {**before, "events": before["events"] + 1}


def test_an_event_id_reused_for_another_kind_is_refused():
    case = approved_return()
    case_apply_event(case_number=case.number, event_id="d1", kind="return.received", data={})
    before = database_state()

    with pytest.raises(ValidationError) as caught:
        case_apply_event(case_number=case.number, event_id="d1", kind="case.cancelled", data={})

    assert caught.value.error_list[0].code == "event_conflict"
    assert database_state() == before
    assert CaseEvent.objects.get(event_id="d1").kind == "return.received"


def test_a_cancel_event_after_receipt_is_refused():
    case = approved_return()
    case_apply_event(case_number=case.number, event_id="c1", kind="return.received", data={})

    with pytest.raises(ValidationError) as caught:
        case_apply_event(case_number=case.number, event_id="c2", kind="case.cancelled", data={})

    assert caught.value.error_list[0].code == "cancel_late"
    assert CaseEvent.objects.get(event_id="c2").status == "refused"
    case.refresh_from_db()
    assert case.step == Step.RECEIVED
