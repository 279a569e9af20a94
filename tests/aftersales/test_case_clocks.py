"""Each step of a case runs an SLA clock on the after-sales team's calendar: started on
entering the step, met on leaving it, held while the customer has the next move; its
warnings and breaches land on the case's ticket."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aftersales.models import CaseClock, StepClock
from aftersales.selectors import case_step_due
from aftersales.services import case_apply_event, case_cancel, case_review
from aftersales.services.clocks import CASE_STEP, case_subject_id
from sla.models import BusinessCalendar, SlaClock
from sla.services import clocks_tick
from tests.aftersales.factories import make_order, open_case
from tests.factories import TeamFactory, intake, make_agent
from tickets.models import Department, EventKind, Notification, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def aftersales_team(db):  # type: ignore[no-untyped-def]
    """The after-sales team works around the clock: business minutes are real minutes."""
    return TeamFactory(
        name="售后组",
        department=Department.AFTER_SALES,
        calendar=BusinessCalendar.objects.get(name="全天候 24/7"),
    )


def case_on_ticket(team, *, assignee=None):  # type: ignore[no-untyped-def]
    ticket = intake(text="杯子碎了").ticket
    if assignee is not None:
        Ticket.objects.filter(pk=ticket.pk).update(assignee=assignee, team=team)
        ticket.refresh_from_db()
    now = timezone.now()
    order = make_order(
        ticket.customer,
        placed_at=(now - timedelta(hours=1)).isoformat(),
        updated_at=(now - timedelta(hours=1)).isoformat(),
        shipments=[],
    )
    return open_case(order, amount="50.00", ticket=ticket, now=now), now


def running(case):  # type: ignore[no-untyped-def]
    return SlaClock.objects.filter(
        subject_id=case_subject_id(case.pk), milestone=CASE_STEP, satisfied_at__isnull=True
    )


def test_a_new_case_runs_the_clock_of_its_first_step_on_the_team_calendar(aftersales_team):
    case, opened = case_on_ticket(aftersales_team)

    clock = running(case).get()
    assert clock.target_seconds == 240 * 60  # submitted, return and refund
    assert clock.calendar_id == aftersales_team.calendar_id
    assert clock.started_at == opened
    assert clock.due_at == opened + timedelta(minutes=240)
    assert case_step_due(case) == clock.due_at
    summary = CaseClock.objects.get(case=case)
    assert (summary.step, summary.state) == ("submitted", StepClock.RUNNING)
    # The ticket's own clocks are not the case's.
    assert not SlaClock.objects.filter(subject_id=case.ticket_id, milestone=CASE_STEP).exists()


def test_leaving_a_step_meets_its_clock_and_waiting_for_the_customer_holds_the_next(
    aftersales_team,
):
    case, opened = case_on_ticket(aftersales_team)

    case = case_review(case=case, approve=True, return_address="上海仓", now=opened)

    clocks = SlaClock.objects.filter(subject_id=case_subject_id(case.pk)).order_by("sequence")
    first, second = list(clocks)
    assert first.satisfied_at == opened and first.breached_at is None
    assert second.satisfied_at is None and second.paused_at == opened
    assert second.target_seconds == 1440 * 60
    assert case_step_due(case) is None
    assert CaseClock.objects.get(case=case).state == StepClock.PAUSED

    # A held clock never fires, however long the customer takes.
    clocks_tick(now=opened + timedelta(days=30))
    assert not SlaClock.objects.filter(
        subject_id=case_subject_id(case.pk), warned_at__isnull=False
    ).exists()
    assert not SlaClock.objects.filter(
        subject_id=case_subject_id(case.pk), breached_at__isnull=False
    ).exists()

    later = opened + timedelta(hours=2)
    result = case_apply_event(
        case_number=case.number,
        event_id="r1",
        kind="return.shipped",
        data={"carrier": "SF", "tracking_number": "SF1"},
        now=later,
    )
    third = running(case).get()
    assert third.paused_at is None
    assert third.due_at == later + timedelta(minutes=1440)
    assert case_step_due(result.case) == third.due_at


def test_a_closed_case_has_no_running_clock(aftersales_team):
    case, opened = case_on_ticket(aftersales_team)

    case = case_cancel(case=case, note="不要了", now=opened + timedelta(minutes=5))

    assert not running(case).exists()
    assert case_step_due(case) is None
    assert CaseClock.objects.get(case=case).state == StepClock.NONE


def test_a_warning_and_a_breach_go_on_the_ticket_and_to_its_people(aftersales_team):
    agent = make_agent(teams=[aftersales_team])
    supervisor = make_agent(teams=[aftersales_team], role="supervisor")
    case, opened = case_on_ticket(aftersales_team, assignee=agent)
    ticket = case.ticket

    clocks_tick(now=opened + timedelta(minutes=200))  # 80 % of 240
    warning = ticket.events.get(kind=EventKind.SLA_WARNING, data__case=case.number)
    assert warning.data["case"] == case.number
    assert warning.data["step"] == "submitted"
    assert CaseClock.objects.get(case=case).state == StepClock.AT_RISK
    about_case = Notification.objects.filter(ticket=ticket, text__contains=case.number)
    assert about_case.filter(user=agent.user).count() == 1
    assert not about_case.filter(user=supervisor.user).exists()

    clocks_tick(now=opened + timedelta(minutes=241))
    breach = ticket.events.get(kind=EventKind.SLA_BREACH, data__case=case.number)
    assert breach.data["case"] == case.number
    assert CaseClock.objects.get(case=case).state == StepClock.BREACHED
    assert about_case.filter(user=agent.user).count() == 2
    assert about_case.filter(user=supervisor.user).count() == 1
    # Fired once each.
    clocks_tick(now=opened + timedelta(minutes=300))
    assert ticket.events.filter(kind=EventKind.SLA_BREACH, data__case=case.number).count() == 1


def test_the_core_never_takes_a_case_clock_for_a_ticket_clock(aftersales_team):
    case, opened = case_on_ticket(aftersales_team)
    clock = running(case).get()
    assert clock.subject_id == -case.pk < 0

    clocks_tick(now=opened + timedelta(minutes=241))

    # The core's receiver records a ticket clock's milestone on the ticket; it never took
    # this clock for one.
    assert not TicketEvent.objects.filter(data__milestone=CASE_STEP).exists()
    breaches = TicketEvent.objects.filter(kind=EventKind.SLA_BREACH, data__has_key="case")
    assert [(event.ticket_id, event.data["case"]) for event in breaches] == [
        (case.ticket_id, case.number)
    ]


def test_ticket_sla_reports_leave_case_clocks_out(aftersales_team):
    from tickets.selectors import sla_compliance

    case, opened = case_on_ticket(aftersales_team)
    case_review(case=case, approve=True, return_address="上海市浦东新区售后仓")
    since, until = opened - timedelta(hours=1), opened + timedelta(hours=1)
    assert SlaClock.objects.filter(subject_id__lt=0, satisfied_at__isnull=False).exists()

    milestones = {row.key for row in sla_compliance(since=since, until=until, by="milestone")}

    assert CASE_STEP not in milestones
