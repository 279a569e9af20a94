"""After-sales case facts and rollups (analytics.casefacts): the time in each step on cases
built by hand, the cycle time and refund of a closed case, the local day a step is counted
on, the marks written with a step or a ticket change, and incremental upkeep equal to a
rebuild, however often it is replayed."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from aftersales.models import Case, CaseStep
from aftersales.services import (
    case_cancel,
    case_complete,
    case_goods_received,
    case_receive,
    case_refund,
    case_return_tracking,
    case_review,
)
from aftersales.services.clocks import CASE_STEP, case_subject_id
from aftersales.steps import CaseType, Step
from analytics.casefacts import (
    GRAINS,
    case_rollups_rebuild,
    casefacts_mark,
    casefacts_rebuild,
    casefacts_refresh,
)
from analytics.models import CaseDailyRollup, CaseFact, CaseFactDirty, CaseStepFact
from sla.models import SlaClock
from tests.aftersales.factories import NOW, make_order, open_case
from tests.factories import TeamFactory, intake

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def local(*args: int) -> datetime:
    return timezone.make_aware(datetime(*args))


def steps_by_hand(case: Case, steps: list[tuple[Step, datetime]], refunded: str = "0") -> None:
    """Steps written as rows after the case's `submitted` (the definition reads the rows,
    whatever wrote them), the case left at the last."""
    for step, at in steps:
        CaseStep.objects.create(case=case, step=step, at=at)
    Case.objects.filter(pk=case.pk).update(step=steps[-1][0], refunded_amount=Decimal(refunded))
    casefacts_mark([case.pk])


def rollups() -> dict[str, set[tuple[Any, ...]]]:
    """Every grain's rows with a figure, as comparable tuples."""
    found = {}
    for grain in GRAINS:
        model = grain.model
        names = [f.name for f in model._meta.concrete_fields if not f.primary_key]
        found[model._meta.db_table] = {
            tuple(row)
            for row in model._default_manager.values_list(*names)
            if any(row[len(grain.keys) :])
        }
    return found


def test_time_in_each_step_runs_to_the_next_step_of_the_same_case():
    t0 = local(2026, 11, 20, 10, 0)
    case = open_case(make_order(), type=CaseType.RETURN_REFUND, now=t0)
    steps_by_hand(
        case,
        [
            (Step.APPROVED, t0 + 2 * HOUR),
            (Step.WAITING_FOR_RETURN, t0 + 3 * HOUR),
            (Step.RECEIVED, t0 + 51 * HOUR),
            (Step.REFUNDED, t0 + 54 * HOUR),
            (Step.COMPLETED, t0 + 70 * HOUR),
        ],
        refunded="50.00",
    )

    assert casefacts_refresh() == 1

    left = list(
        CaseStepFact.objects.filter(case_id=case.pk)
        .order_by("entered_at")
        .values_list("step", "wall_s", "ended_at")
    )
    assert left == [
        ("submitted", 2 * 3600, t0 + 2 * HOUR),
        ("approved", 3600, t0 + 3 * HOUR),
        ("waiting_for_return", 48 * 3600, t0 + 51 * HOUR),
        ("received", 3 * 3600, t0 + 54 * HOUR),
        ("refunded", 16 * 3600, t0 + 70 * HOUR),
    ]
    fact = CaseFact.objects.get(case_id=case.pk)
    assert (fact.closed_step, fact.closed_at, fact.cycle_wall_s, fact.refunded) == (
        "completed",
        t0 + 70 * HOUR,
        70 * 3600,
        Decimal("50.00"),
    )
    # Each step on the local day it ended: the 20th, the 22nd (twice) and the 23rd.
    rows = {
        (row.day, row.step): (row.opened, row.steps_ended, row.step_wall_s, row.closed)
        for row in CaseDailyRollup.objects.all()
    }
    assert rows == {
        (date(2026, 11, 20), "submitted"): (1, 1, 2 * 3600, 0),
        (date(2026, 11, 20), "approved"): (0, 1, 3600, 0),
        (date(2026, 11, 22), "waiting_for_return"): (0, 1, 48 * 3600, 0),
        (date(2026, 11, 22), "received"): (0, 1, 3 * 3600, 0),
        (date(2026, 11, 23), "refunded"): (0, 1, 16 * 3600, 0),
        (date(2026, 11, 23), "completed"): (0, 0, 0, 1),
    }
    closed = CaseDailyRollup.objects.get(step="completed")
    assert (closed.cycle_wall_s, closed.refunded) == (70 * 3600, Decimal("50.00"))


def test_a_cancelled_case_closes_on_its_cancellation_with_its_one_step():
    t0 = local(2026, 11, 20, 10, 0)
    case = open_case(make_order(), type=CaseType.EXCHANGE, amount="0", now=t0)
    case_cancel(case=case, note="客户撤回", now=t0 + 26 * HOUR)

    casefacts_refresh()

    assert list(CaseStepFact.objects.values_list("step", "wall_s")) == [("submitted", 26 * 3600)]
    closed = CaseDailyRollup.objects.get(step="cancelled")
    assert (closed.day, closed.case_type, closed.closed, closed.cycle_wall_s) == (
        date(2026, 11, 21),
        "exchange",
        1,
        26 * 3600,
    )
    assert closed.refunded == Decimal("0")


def test_a_step_is_counted_on_the_local_day_it_ended_not_the_utc_one():
    # 23:30 and 00:30 in Shanghai are 15:30 and 16:30 UTC of the same UTC day.
    before_midnight = local(2026, 11, 20, 23, 30)
    case = open_case(make_order(), type=CaseType.REFUND_ONLY, amount="30.00", now=before_midnight)
    steps_by_hand(case, [(Step.APPROVED, before_midnight + HOUR)])

    casefacts_refresh()

    days = dict(CaseDailyRollup.objects.values_list("step", "day"))
    assert days == {"submitted": date(2026, 11, 21)}  # opened on the 20th, left on the 21st
    opened = CaseDailyRollup.objects.get(day=date(2026, 11, 20))
    assert (opened.opened, opened.steps_ended) == (1, 0)
    assert CaseDailyRollup.objects.get(day=date(2026, 11, 21)).step_wall_s == 3600


def test_business_time_in_a_step_is_its_met_step_clock():
    case = open_case(make_order(), type=CaseType.REFUND_ONLY, amount="40.00")
    case_review(case=case, approve=True, now=NOW + HOUR)
    case_refund(
        case=case, amount=Decimal("40.00"), method="balance", reference="R1", now=NOW + 3 * HOUR
    )

    casefacts_refresh()

    submitted = CaseStep.objects.get(case=case, step=Step.SUBMITTED)
    clock = SlaClock.objects.get(
        subject_id=case_subject_id(case.pk), milestone=CASE_STEP, sequence=submitted.pk
    )
    assert clock.elapsed_business_seconds == 3600  # Friday 10:00 to 11:00, working hours
    # Approved 11:00 to 13:00: two hours of wall time, one of business time (lunch 12–13).
    left = {
        step: (wall, business)
        for step, wall, business in CaseStepFact.objects.values_list("step", "wall_s", "business_s")
    }
    assert left == {"submitted": (3600, 3600), "approved": (7200, 3600)}
    row = CaseDailyRollup.objects.get(step="submitted")
    assert (row.step_business_count, row.step_business_s) == (1, 3600)


def test_a_recorded_step_marks_its_case_in_the_steps_transaction():
    case = open_case(make_order(), type=CaseType.REFUND_ONLY, amount="40.00")
    CaseFactDirty.objects.all().delete()

    with pytest.raises(RuntimeError), transaction.atomic():
        case_review(case=case, approve=True, now=NOW + HOUR)
        raise RuntimeError("rolled back with the step")
    assert not CaseFactDirty.objects.exists()

    case_review(case=case, approve=True, now=NOW + HOUR)
    assert list(CaseFactDirty.objects.values_list("case_id", flat=True)) == [case.pk]


def test_a_transfer_of_the_ticket_moves_its_cases_figures_to_the_new_team(agent):
    from tickets.services.actions import ticket_transfer

    ticket = intake(phone="13800138011", text="杯子裂了，要退货").ticket
    case = open_case(make_order(customer=ticket.customer), ticket=ticket, amount="50.00")
    casefacts_refresh()
    before = ticket.team_id
    assert list(CaseDailyRollup.objects.values_list("team_id", flat=True)) == [before or 0]
    other = TeamFactory(name="售后组")
    agent.teams.add(other)

    ticket_transfer(ticket=ticket, team=other, agent=None, note="售后处理", actor=agent.user)

    assert CaseFactDirty.objects.filter(case_id=case.pk).exists()
    casefacts_refresh()
    teams = {
        team for team, opened in CaseDailyRollup.objects.values_list("team_id", "opened") if opened
    }
    assert teams == {other.pk}


def histories() -> None:
    """A return taken the whole way, a refund, a cancellation and an open repair, on a
    ticket or without one, refreshed after each day's steps as the periodic refresh would."""
    ticket = intake(phone="13800138012", text="要退货").ticket
    order = make_order(customer=ticket.customer)
    back = open_case(order, type=CaseType.RETURN_REFUND, ticket=ticket, now=NOW)
    refund = open_case(make_order(), type=CaseType.REFUND_ONLY, amount="30.00", now=NOW)
    cancelled = open_case(make_order(), type=CaseType.EXCHANGE, amount="0", now=NOW + HOUR)
    open_case(make_order(), type=CaseType.REPAIR, amount="0", now=NOW + 2 * HOUR)
    casefacts_refresh()
    case_review(case=back, approve=True, return_address="仓库", now=NOW + 2 * HOUR)
    case_review(case=refund, approve=True, now=NOW + 3 * HOUR)
    casefacts_refresh()
    case_return_tracking(case=back, carrier="SF", tracking_number="SF1", now=NOW + 20 * HOUR)
    case_cancel(case=cancelled, note="不要了", now=NOW + 22 * HOUR)
    case_refund(
        case=refund, amount=Decimal("30.00"), method="b", reference="R", now=NOW + 23 * HOUR
    )
    casefacts_refresh()
    case_goods_received(case=back, now=NOW + 50 * HOUR)
    case_receive(case=back, passed=True, now=NOW + 70 * HOUR)
    case_refund(case=back, amount=Decimal("50.00"), method="b", reference="R2", now=NOW + 71 * HOUR)
    case_complete(case=back, now=NOW + 80 * HOUR)
    case_complete(case=refund, now=NOW + 81 * HOUR)
    casefacts_refresh()


def test_incremental_rollups_equal_the_rebuilt_ones():
    histories()
    incremental = rollups()
    assert incremental["analytics_casedailyrollup"]  # something to compare

    assert casefacts_rebuild() == 4
    assert rollups() == incremental
    case_rollups_rebuild()
    assert rollups() == incremental


def test_replaying_marks_changes_nothing():
    histories()
    kept = rollups()
    refreshed = dict(CaseFact.objects.values_list("case_id", "refreshed_at"))

    casefacts_mark(Case.objects.values_list("pk", flat=True))
    casefacts_mark(Case.objects.values_list("pk", flat=True))
    assert casefacts_refresh() == 4
    assert casefacts_refresh() == 0

    assert rollups() == kept
    # Unchanged facts are not even written again.
    assert dict(CaseFact.objects.values_list("case_id", "refreshed_at")) == refreshed
