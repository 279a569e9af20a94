"""The inbox of the shop's case events in queued mode: stored before the answer, applied by
a worker in batches, each event once, a case's events in the order they came."""

import threading
from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from aftersales.models import Case, CaseClock, CaseEvent, CaseStep, Notice
from aftersales.services import (
    ItemClaim,
    case_open,
    case_review,
    event_inbox,
    event_receive,
    events,
)
from aftersales.steps import CaseType, Step
from sla.models import SlaClock
from tests.aftersales.factories import NOW, make_order, open_case, reason
from tests.aftersales.state import database_state
from tests.factories import intake, issue_token
from tests.support.environment import requires_postgres
from tickets.delivery import backend_for
from tickets.models import Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

_phones = count(1)
REFUND = {"amount": "30.00", "method": "original", "reference": "R1"}


@pytest.fixture(autouse=True)
def queued(settings):  # type: ignore[no-untyped-def]
    """Production's mode: the POST stores, a worker applies. Notices go to the outbox."""
    settings.INBOUND_QUEUED = True
    settings.KEFU_DELIVERY_BACKENDS = {
        **settings.KEFU_DELIVERY_BACKENDS,
        "app": "channels_ingest.outbox.OutboxBackend",
        "email": "channels_ingest.outbox.OutboxBackend",
        "sms": "channels_ingest.outbox.SmsOutboxBackend",
    }
    settings.NOTICE_QUIET_HOURS = ""
    backend_for.cache_clear()
    yield
    backend_for.cache_clear()


@pytest.fixture
def shop() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token('shop', scopes=['aftersales'])}")
    return client


def refund_case() -> Case:
    """A refund-only case at `approved`, on its customer's ticket (reached by email)."""
    number = next(_phones)
    ticket = intake(phone=f"+86139{number:08d}", email=f"c{number}@example.com", text="退款").ticket
    order = make_order(customer=ticket.customer)
    case = case_open(
        order=order,
        items=[ItemClaim(order_item=order.items.get(sku="MUG-1"), quantity=1)],
        type=CaseType.REFUND_ONLY,
        reason=reason(),
        description="",
        amount=Decimal("30.00"),
        opened_by="agent",  # type: ignore[arg-type]
        ticket=ticket,
        now=NOW,
    )
    return case_review(case=case, approve=True, now=NOW)


def refund_notices(case: Case) -> int:
    return Message.objects.filter(ticket_id=case.ticket_id, notice="case.refunded").count()


def test_the_event_is_stored_and_answered_before_it_is_applied(
    shop, django_capture_on_commit_callbacks
):
    case = refund_case()
    before = database_state()

    with django_capture_on_commit_callbacks(execute=False) as rings:
        response = shop.post(
            f"/api/v1/aftersales/{case.number}/events",
            {"event_id": "r-1", "kind": "refund.completed", "data": REFUND},
            format="json",
        )

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    assert response.json()["redelivery"] is False
    stored = CaseEvent.objects.get(case=case, event_id="r-1")
    assert (stored.status, stored.kind, stored.data) == ("queued", "refund.completed", REFUND)
    assert database_state() == {**before, "events": before["events"] + 1}
    assert len(rings) == 1  # the bell, after the commit

    assert event_inbox.events_drain() == 1

    stored.refresh_from_db()
    case.refresh_from_db()
    assert stored.status == "applied"
    assert stored.step is not None and stored.step.step == Step.REFUNDED
    assert case.step == Step.REFUNDED
    assert refund_notices(case) == 1
    listed = shop.get(f"/api/v1/aftersales/{case.number}/events").json()
    assert [(e["event_id"], e["status"], e["step"]) for e in listed] == [
        ("r-1", "applied", "refunded")
    ]


def test_the_store_is_one_statement(django_assert_num_queries):
    case = refund_case()

    with django_assert_num_queries(1):
        event_receive(case_number=case.number, event_id="q-1", kind="refund.completed", data=REFUND)


def test_a_redelivery_stores_nothing_and_answers_as_the_event_stands(shop):
    case = refund_case()
    url = f"/api/v1/aftersales/{case.number}/events"
    body = {"event_id": "r-1", "kind": "refund.completed", "data": REFUND}
    shop.post(url, body, format="json")

    queued_again = shop.post(url, body, format="json")
    event_inbox.events_drain()
    applied_again = shop.post(url, body, format="json")

    assert queued_again.status_code == applied_again.status_code == 200
    assert queued_again.json()["redelivery"] is True
    assert queued_again.json()["status"] == "queued"
    assert applied_again.json()["status"] == "applied"
    assert CaseEvent.objects.filter(case=case).count() == 1
    assert event_inbox.events_drain() == 0
    assert case.steps.filter(step=Step.REFUNDED).count() == 1
    assert refund_notices(case) == 1


def test_the_same_id_with_another_kind_is_refused_at_once(shop):
    case = refund_case()
    url = f"/api/v1/aftersales/{case.number}/events"
    shop.post(url, {"event_id": "r-1", "kind": "refund.completed", "data": REFUND}, format="json")
    before = database_state()

    conflict = shop.post(url, {"event_id": "r-1", "kind": "case.cancelled"}, format="json")
    unknown = shop.post(url, {"event_id": "r-2", "kind": "case.exploded"}, format="json")
    blank = shop.post(url, {"event_id": " ", "kind": "case.cancelled"}, format="json")
    missing = shop.post(
        "/api/v1/aftersales/AS000000000001/events",
        {"event_id": "r-1", "kind": "case.cancelled"},
        format="json",
    )

    assert (conflict.status_code, conflict.json()["code"]) == (400, "event_conflict")
    assert (unknown.status_code, unknown.json()["code"]) == (400, "event_kind")
    assert blank.status_code == 400
    assert (missing.status_code, missing.json()["code"]) == (404, "case")
    assert database_state() == before


def test_events_of_one_case_are_applied_in_the_order_they_came():
    case = refund_case()
    for event_id, kind, data in [
        ("o-1", "refund.completed", REFUND),
        ("o-2", "case.completed", {}),
    ]:
        event_receive(case_number=case.number, event_id=event_id, kind=kind, data=data)

    # One event per case per batch: the completion waits for the refund's batch.
    assert event_inbox.events_apply() == 1
    assert event_inbox.events_apply() == 1

    case.refresh_from_db()
    assert case.step == Step.COMPLETED
    assert list(case.steps.order_by("pk").values_list("step", flat=True))[-2:] == [
        "refunded",
        "completed",
    ]


def test_an_event_that_came_too_early_waits_and_applies_when_the_case_gets_there():
    case = refund_case()
    event_receive(case_number=case.number, event_id="w-1", kind="case.completed", data={})
    event_inbox.events_drain()
    waiting = CaseEvent.objects.get(event_id="w-1")
    assert (waiting.status, waiting.code) == ("waiting", "step_order")

    event_receive(case_number=case.number, event_id="w-2", kind="refund.completed", data=REFUND)
    event_inbox.events_drain()

    waiting.refresh_from_db()
    case.refresh_from_db()
    assert waiting.status == "applied"
    assert case.step == Step.COMPLETED


def test_a_refused_event_changes_nothing_and_keeps_the_guard_code():
    case = refund_case()
    before = database_state()

    event_receive(
        case_number=case.number,
        event_id="x-1",
        kind="refund.completed",
        data={**REFUND, "amount": "999.00"},
    )
    event_inbox.events_drain()

    event = CaseEvent.objects.get(event_id="x-1")
    assert (event.status, event.code, event.step) == ("refused", "over_refund", None)
    assert database_state() == {**before, "events": before["events"] + 1}


def test_a_crash_in_the_middle_of_a_batch_loses_nothing_and_applies_nothing_twice(monkeypatch):
    cases = [refund_case() for _ in range(3)]
    for case in cases:
        event_receive(case_number=case.number, event_id="c-1", kind="refund.completed", data=REFUND)
    before = database_state()
    messages = Message.objects.count()
    real = events.EVENT_KINDS["refund.completed"]
    calls = count(1)

    def crashing(case, data, rooms):  # type: ignore[no-untyped-def]
        if next(calls) == 2:
            raise RuntimeError("worker lost its mind")
        return real(case, data, rooms)

    monkeypatch.setitem(events.EVENT_KINDS, "refund.completed", crashing)
    with pytest.raises(RuntimeError):
        event_inbox.events_apply()

    # The whole batch rolled back: the first event's step went with it.
    assert database_state() == before
    assert Message.objects.count() == messages
    assert set(CaseEvent.objects.values_list("status", flat=True)) == {"queued"}

    assert event_inbox.events_drain() == 3

    assert set(CaseEvent.objects.values_list("status", flat=True)) == {"applied"}
    for case in cases:
        assert case.steps.filter(step=Step.REFUNDED).count() == 1
        assert refund_notices(case) == 1


def test_an_event_that_keeps_failing_is_set_aside_and_the_rest_applied(monkeypatch):
    good, bad = refund_case(), refund_case()
    for case in (bad, good):
        event_receive(case_number=case.number, event_id="p-1", kind="refund.completed", data=REFUND)
    real = events.EVENT_KINDS["refund.completed"]

    def poisoned(case, data, rooms):  # type: ignore[no-untyped-def]
        if case.pk == bad.pk:
            raise RuntimeError("cannot apply")
        return real(case, data, rooms)

    monkeypatch.setitem(events.EVENT_KINDS, "refund.completed", poisoned)
    event_inbox.events_drain()

    statuses = dict(CaseEvent.objects.values_list("case_id", "status"))
    assert statuses == {bad.pk: "failed", good.pk: "applied"}
    assert CaseEvent.objects.get(case=bad).code == "error"
    bad.refresh_from_db()
    assert bad.step == Step.APPROVED


def test_the_sweep_applies_what_no_ring_reached():
    case = refund_case()
    event_receive(case_number=case.number, event_id="s-1", kind="refund.completed", data=REFUND)

    assert event_inbox.events_sweep() == 1
    assert event_inbox.events_sweep() == 0
    assert CaseEvent.objects.get(event_id="s-1").status == "applied"


def test_the_sweep_is_in_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["aftersales-events-sweep"]
    assert entry["task"] == "aftersales.tasks.events_sweep"


def test_a_batch_costs_fewer_statements_per_event_than_one_event_alone():
    one = refund_case()
    many = [refund_case() for _ in range(10)]
    event_receive(case_number=one.number, event_id="b-1", kind="refund.completed", data=REFUND)
    with CaptureQueriesContext(connection) as single:
        event_inbox.events_apply()
    for case in many:
        event_receive(case_number=case.number, event_id="b-1", kind="refund.completed", data=REFUND)
    with CaptureQueriesContext(connection) as batch:
        assert event_inbox.events_apply() == 10

    per_event = len(batch) / 10
    assert per_event < len(single)
    assert Notice.objects.filter(event="case.refunded").count() == 11


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_draining_at_once_apply_each_event_once_and_in_order():
    cases = [refund_case() for _ in range(6)]
    for case in cases:
        event_receive(case_number=case.number, event_id="1", kind="refund.completed", data=REFUND)
        event_receive(case_number=case.number, event_id="2", kind="case.completed", data={})
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            event_inbox.events_drain(batch=3)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert set(CaseEvent.objects.values_list("status", flat=True)) == {"applied"}
    for case in cases:
        steps = list(
            CaseStep.objects.filter(case=case).order_by("pk").values_list("step", flat=True)
        )
        assert steps[-2:] == ["refunded", "completed"]
        assert steps.count("refunded") == steps.count("completed") == 1
        assert refund_notices(case) == 1
        trail = TicketEvent.objects.filter(ticket_id=case.ticket_id, kind="aftersales")
        assert trail.count() == len(steps)
    assert Ticket.objects.count() == len(cases)


def test_only_a_token_with_the_aftersales_scope_may_send_or_read_events(agent_client):
    case = refund_case()
    url = f"/api/v1/aftersales/{case.number}/events"
    body = {"event_id": "a-1", "kind": "refund.completed", "data": REFUND}
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=f"Token {issue_token('orders', scopes=['orders'])}")

    assert APIClient().post(url, body, format="json").status_code == 401
    assert APIClient().get(url).status_code == 401
    assert wrong.post(url, body, format="json").status_code == 403
    assert wrong.get(url).status_code == 403
    # A staff session acts for a person, not for the shop's systems.
    assert agent_client.post(url, body, content_type="application/json").status_code == 403
    assert agent_client.get(url).status_code == 403
    assert not CaseEvent.objects.exists()


def approved(case: Case) -> Case:
    return case_review(case=case, approve=True, return_address="上海 售后仓", now=NOW)


def test_a_refund_earlier_in_the_batch_counts_against_another_case_of_the_same_order():
    # Paid 215: two mugs (100) and a durian box (120). The mugs' case asks for 50 and the
    # box's for 115; refunding 100 on the mugs leaves 115 for the box, not 120.
    ticket = intake(phone="+8613900099001", email="same-order@example.com", text="退款").ticket
    order = make_order(customer=ticket.customer)
    mugs = approved(
        case_open(
            order=order,
            items=[ItemClaim(order_item=order.items.get(sku="MUG-1"), quantity=2)],
            type=CaseType.REFUND_ONLY,
            reason=reason(),
            description="",
            amount=Decimal("50.00"),
            opened_by="agent",  # type: ignore[arg-type]
            ticket=ticket,
            now=NOW,
        )
    )
    box = approved(
        case_open(
            order=order,
            items=[ItemClaim(order_item=order.items.get(sku="DURIAN-1"), quantity=1)],
            type=CaseType.REFUND_ONLY,
            reason=reason(),
            description="",
            amount=Decimal("115.00"),
            opened_by="agent",  # type: ignore[arg-type]
            ticket=ticket,
            now=NOW,
        )
    )
    event_receive(
        case_number=mugs.number,
        event_id="m-1",
        kind="refund.completed",
        data={"amount": "100.00", "method": "original", "reference": "M1"},
    )
    event_receive(
        case_number=box.number,
        event_id="b-1",
        kind="refund.completed",
        data={"amount": "120.00", "method": "original", "reference": "B1"},
    )

    assert event_inbox.events_apply() == 2  # one batch

    outcomes = dict(CaseEvent.objects.values_list("event_id", "status"))
    assert outcomes == {"m-1": "applied", "b-1": "refused"}
    assert CaseEvent.objects.get(event_id="b-1").code == "over_refund"
    mugs.refresh_from_db()
    box.refresh_from_db()
    assert (mugs.step, mugs.refunded_amount) == (Step.REFUNDED, Decimal("100.00"))
    assert (box.step, box.refunded_amount) == (Step.APPROVED, Decimal("0.00"))
    assert not box.steps.filter(step=Step.REFUNDED).exists()


def test_a_batch_records_two_steps_of_one_case_in_order_with_their_clocks_and_notices():
    ticket = intake(phone="+8613900099002", email="two-steps@example.com", text="退货").ticket
    goods = approved(open_case(make_order(customer=ticket.customer), ticket=ticket))
    money = refund_case()
    event_receive(
        case_number=goods.number, event_id="i-1", kind="inspection.passed", data={"note": "ok"}
    )
    event_receive(case_number=money.number, event_id="r-1", kind="refund.completed", data=REFUND)
    trail_before = TicketEvent.objects.filter(ticket_id=goods.ticket_id, kind="aftersales").count()

    assert event_inbox.events_apply() == 2

    goods.refresh_from_db()
    assert goods.step == Step.INSPECTED
    assert list(goods.steps.order_by("pk").values_list("step", flat=True))[-2:] == [
        "received",
        "inspected",
    ]
    event = CaseEvent.objects.get(event_id="i-1")
    assert (event.status, event.step.step if event.step else None) == ("applied", "inspected")
    trail = TicketEvent.objects.filter(ticket_id=goods.ticket_id, kind="aftersales")
    assert trail.count() == trail_before + 2
    notices = set(
        Message.objects.filter(ticket_id=goods.ticket_id, is_automatic=True).values_list(
            "notice", flat=True
        )
    )
    assert {"case.received", "case.inspected"} <= notices
    # The received step's clock was started and met in the batch; the inspected one runs.
    running = SlaClock.objects.filter(subject_id=-goods.pk, satisfied_at__isnull=True)
    assert list(running.values_list("sequence", flat=True)) == [event.step.pk]
    assert CaseClock.objects.get(case=goods).step == Step.INSPECTED
    assert refund_notices(money) == 1


def test_a_batch_of_twenty_costs_about_what_a_batch_of_two_does():
    pairs = [refund_case() for _ in range(2)]
    twenty = [refund_case() for _ in range(20)]
    for case in pairs:
        event_receive(case_number=case.number, event_id="n-1", kind="refund.completed", data=REFUND)
    with CaptureQueriesContext(connection) as small:
        assert event_inbox.events_apply() == 2
    for case in twenty:
        event_receive(case_number=case.number, event_id="n-1", kind="refund.completed", data=REFUND)
    with CaptureQueriesContext(connection) as large:
        assert event_inbox.events_apply() == 20

    # The statements of a batch do not grow with its events, but for two checks made per
    # notice: the SMS backend's opt-out list (these customers are reached by SMS), and the
    # notice templates' revision (checked on every notice in the tests, once every few
    # seconds otherwise).
    def fixed(queries: CaptureQueriesContext) -> int:
        per_notice = ("kefu_revision", "channels_ingest_smsoptout")
        return sum(
            1 for q in queries.captured_queries if not any(t in q["sql"] for t in per_notice)
        )

    assert fixed(large) <= fixed(small)
    assert Notice.objects.filter(event="case.refunded").count() == 22
