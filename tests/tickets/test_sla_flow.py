"""How a ticket's life drives its SLA clocks, and how the core acts on what the engine fires."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from sla.models import (
    BusinessCalendar,
    BusinessHours,
    EscalationRule,
    Milestone,
    SlaClock,
    SlaPolicy,
)
from sla.selectors import calendar_cache_clear
from sla.services import clocks_tick
from tests.factories import TeamFactory, intake, make_agent
from tickets.models import EventKind, Notification, SlaState, Status, Ticket, TicketEvent
from tickets.services.workflow import (
    ticket_mark_plan,
    ticket_reply,
    ticket_set_status,
    ticket_set_tier,
)
from tickets.tiers import Tier

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def clock(ticket: Ticket, milestone: str) -> SlaClock:
    return SlaClock.objects.filter(subject_id=ticket.pk, milestone=milestone).latest("sequence")


def test_waiting_for_the_customer_pauses_and_their_answer_resumes(agent):
    ticket = intake(user_id="u1", text="hello").ticket

    ticket_set_status(ticket=ticket, status=Status.PENDING_CUSTOMER, actor=agent.user)
    paused = clock(ticket, Milestone.FIRST_RESPONSE)
    intake(user_id="u1", text="here is my order number")
    resumed = clock(ticket, Milestone.FIRST_RESPONSE)

    assert paused.paused_at is not None
    assert resumed.paused_at is None
    assert resumed.pauses[0]["reason"] == "paused"
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN


def test_each_customer_message_after_a_reply_owes_a_next_response(agent):
    ticket = intake(user_id="u1", text="hello").ticket
    ticket_reply(ticket=ticket, author=agent, body="hi, how can I help?")

    intake(user_id="u1", text="my parcel is late")
    intake(user_id="u1", text="still waiting")  # the same wait: no second clock
    waiting = clock(ticket, Milestone.NEXT_RESPONSE)
    ticket_reply(ticket=ticket, author=agent, body="checking now")

    assert SlaClock.objects.filter(subject_id=ticket.pk, milestone="next_response").count() == 1
    assert waiting.satisfied_at is None
    assert clock(ticket, Milestone.NEXT_RESPONSE).satisfied_at is not None
    assert clock(ticket, Milestone.FIRST_RESPONSE).satisfied_at is not None


def test_resolving_meets_resolution_and_reopening_continues_it(agent):
    ticket = intake(user_id="u1", text="hello").ticket
    ticket_reply(ticket=ticket, author=agent, body="done")

    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=agent.user)
    met = clock(ticket, Milestone.RESOLUTION)
    ticket_set_status(ticket=ticket, status=Status.OPEN, actor=agent.user)
    again = clock(ticket, Milestone.RESOLUTION)

    assert met.satisfied_at is not None
    assert again.satisfied_at is None
    assert again.pauses[-1]["reason"] == "reopened"


def test_a_ticket_resolved_unanswered_holds_its_response_clock_until_reopened(agent):
    ticket = intake(user_id="u1", text="never mind, found it").ticket

    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=agent.user)
    clocks_tick(now=timezone.now() + timedelta(days=30))

    first = clock(ticket, Milestone.FIRST_RESPONSE)
    assert first.paused_at is not None
    assert first.breached_at is None
    assert Ticket.objects.get(pk=ticket.pk).sla_state == SlaState.OK


@pytest.mark.parametrize("batch", [False, True])
def test_closing_a_resolved_ticket_keeps_its_held_clocks_held(agent, batch):
    from tickets.services.workflow import tickets_set_status

    ticket = intake(user_id="u1", text="never mind, found it").ticket
    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=agent.user)
    held_at = clock(ticket, Milestone.FIRST_RESPONSE).paused_at

    if batch:
        tickets_set_status(ticket_ids=[ticket.pk], status=Status.CLOSED, actor=agent.user)
    else:
        ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=agent.user)
    clocks_tick(now=timezone.now() + timedelta(days=30))

    first = clock(ticket, Milestone.FIRST_RESPONSE)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED
    assert held_at is not None
    assert first.paused_at == held_at  # still held from the resolving, never resumed
    assert first.pauses == []
    assert first.breached_at is None


def test_marking_the_plan_meets_the_plan_milestone_once(agent):
    ticket = intake(user_id="u1", text="牛奶过期了，喝了拉肚子").ticket

    ticket_mark_plan(ticket=ticket, actor=agent.user)
    ticket_mark_plan(ticket=ticket, actor=agent.user)

    assert clock(ticket, Milestone.PLAN).satisfied_at is not None
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.PLAN).count() == 1


def test_raising_the_tier_retargets_the_clocks_and_is_audited(supervisor):
    ticket = intake(user_id="u1", text="hello").ticket
    before = clock(ticket, Milestone.FIRST_RESPONSE).due_at

    ticket_set_tier(ticket=ticket, tier=Tier.URGENT, actor=supervisor.user, reason="VIP call")

    ticket.refresh_from_db()
    after = clock(ticket, Milestone.FIRST_RESPONSE)
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.PRIORITY)
    assert (ticket.tier, ticket.priority_rank) == (Tier.URGENT, 0)
    assert after.target_seconds == 30 * 60
    assert after.due_at < before
    assert (event.actor, event.data["from"], event.data["to"]) == (
        supervisor.user,
        "regular",
        "urgent",
    )
    assert clock(ticket, Milestone.PLAN).target_seconds == 120 * 60


def _escalation(milestone: str, level: int, action: str, **extra: object) -> EscalationRule:
    policy = SlaPolicy.objects.get(name="常规 Regular")
    # Without the seeded rules, so that each test sees only the rule it sets.
    EscalationRule.objects.filter(policy=policy).delete()
    rule = EscalationRule.objects.create(
        policy=policy, milestone=milestone, level=level, action=action, **extra
    )
    calendar_cache_clear()
    return rule


def test_a_breach_notifies_the_assignee_on_their_screen(agent, django_capture_on_commit_callbacks):
    _escalation("first_response", 1, "notify_assignee", hold_outside_hours=False)
    ticket = intake(user_id="u1", text="hello").ticket

    with django_capture_on_commit_callbacks(execute=True):
        clocks_tick(now=timezone.now() + timedelta(days=30))

    (notification,) = Notification.objects.filter(user=agent.user)
    assert notification.ticket == ticket
    assert notification.delivered_at is not None
    assert ticket.number in notification.text
    escalated = TicketEvent.objects.get(ticket=ticket, kind=EventKind.ESCALATED)
    assert escalated.data["action"] == "notify_assignee"


def test_notifications_outside_business_hours_wait_for_opening(agent):
    night_desk = BusinessCalendar.objects.create(name="night desk", use_cn_holidays=False)
    BusinessHours.objects.create(calendar=night_desk, weekday=6, start="03:00", end="04:00")
    team = agent.teams.get()
    team.calendar = night_desk
    team.save()
    _escalation("first_response", 1, "notify_assignee", hold_outside_hours=True)
    ticket = intake(user_id="u1", text="hello").ticket
    # A Monday evening at least a week ahead: closed, and the next opening (Sunday 03:00
    # Shanghai) is still in the future when the notification is made.
    monday = timezone.localdate() + timedelta(days=7 + (7 - timezone.localdate().weekday()) % 7)
    tick_at = datetime.combine(monday, time(20, 0), tzinfo=SHANGHAI)
    SlaClock.objects.filter(subject_id=ticket.pk).update(due_at=tick_at - timedelta(hours=1))

    clocks_tick(now=tick_at)

    (notification,) = Notification.objects.filter(user=agent.user)
    assert notification.delivered_at is None
    assert notification.deliver_after == datetime.combine(
        monday + timedelta(days=6), time(3, 0), tzinfo=SHANGHAI
    )


def test_an_escalation_can_raise_the_priority(agent):
    _escalation("first_response", 1, "raise_priority")
    ticket = intake(user_id="u1", text="hello").ticket

    clocks_tick(now=timezone.now() + timedelta(days=30))

    ticket.refresh_from_db()
    assert ticket.tier == Tier.URGENT
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.PRIORITY).count() == 1


def test_an_escalation_can_move_the_ticket_to_another_team(agent):
    second_line = TeamFactory(name="二线 Second line")
    backup = make_agent(teams=[second_line])
    _escalation("first_response", 1, "reassign", target=str(second_line.pk))
    ticket = intake(user_id="u1", text="hello").ticket

    clocks_tick(now=timezone.now() + timedelta(days=30))

    ticket.refresh_from_db()
    assert (ticket.team, ticket.assignee) == (second_line, backup)


def test_the_seeded_last_urgent_level_tells_the_head_and_reassigns(agent, supervisor):
    make_agent(teams=[agent.teams.get()])
    ticket = intake(user_id="u1", text="吃了你们的鸡肉后食物中毒了").ticket
    assert ticket.tier == Tier.URGENT
    first = ticket.assignee
    assert first is not None

    start = timezone.now() + timedelta(days=30)
    for minutes in (0, 16, 31, 60):
        clocks_tick(now=start + timedelta(minutes=minutes))

    ticket.refresh_from_db()
    assert ticket.assignee is not None
    assert ticket.assignee != first
    head = TicketEvent.objects.filter(
        ticket=ticket, kind=EventKind.ESCALATED, data__action="head_reassign"
    )
    assert head.exists()
    # Not held for opening hours: the urgent calendar never closes, and the rule does not hold.
    assert Notification.objects.filter(
        user=supervisor.user, ticket=ticket, deliver_after__lte=start + timedelta(minutes=60)
    ).exists()


def test_raising_the_priority_of_an_urgent_ticket_goes_to_the_head(agent, supervisor):
    colleague = make_agent(teams=[agent.teams.get()])
    policy = SlaPolicy.objects.get(name="紧急 Urgent")
    EscalationRule.objects.filter(policy=policy).delete()
    EscalationRule.objects.create(
        policy=policy, milestone="first_response", level=1, action="raise_priority"
    )
    calendar_cache_clear()
    ticket = intake(user_id="u1", text="I got food poisoning from your chicken").ticket
    assert ticket.tier == Tier.URGENT
    first = ticket.assignee

    clocks_tick(now=timezone.now() + timedelta(days=30))

    ticket.refresh_from_db()
    assert ticket.tier == Tier.URGENT
    assert ticket.assignee is not None
    assert ticket.assignee != first
    assert ticket.assignee in {agent, colleague, supervisor}
    assert Notification.objects.filter(user=supervisor.user, ticket=ticket).count() == 1


def test_a_vip_question_is_not_urgent_but_goes_first_and_can_pick_its_own_policy(agent):
    from tickets.models import PRIORITY_VIP, Customer

    vip_policy = SlaPolicy.objects.create(
        name="VIP",
        position=15,
        conditions={"vip": True, "tier": ["regular", "value_added"]},
        calendar=BusinessCalendar.objects.get(is_default=True),
        first_response_minutes=60,
    )
    calendar_cache_clear()
    first = intake(user_id="vip-1", text="你好").ticket
    Customer.objects.filter(pk=first.customer_id).update(is_vip=True)
    ticket_set_status(ticket=first, status=Status.RESOLVED, actor=agent.user)

    ticket = intake(user_id="vip-1", text="请问会员积分怎么兑换礼品？谢谢").ticket

    assert ticket.pk != first.pk
    assert ticket.tier != Tier.URGENT
    assert not any(reason["rule"] == "vip" for reason in ticket.urgency_reasons or [])
    assert ticket.priority_rank == PRIORITY_VIP
    assert clock(ticket, Milestone.FIRST_RESPONSE).policy == vip_policy


def test_a_value_added_ticket_goes_to_the_customers_dedicated_adviser(agent):
    from kb import services as kb_services
    from tickets.models import Agent, Customer

    # One customer writes several times here: repeated contact must not make it urgent.
    kb_services.triage_settings_update(
        category_threshold=0.5,
        negative_sentiment_is_urgent=False,
        negative_sentiment_threshold=-0.8,
        vip_is_urgent=False,
        repeat_contacts_threshold=0,
    )
    adviser = make_agent(teams=[TeamFactory(name="大客户 Key accounts")])
    first = intake(user_id="owned", text="你好").ticket
    Customer.objects.filter(pk=first.customer_id).update(adviser=adviser)
    ticket_set_status(ticket=first, status=Status.RESOLVED, actor=agent.user)

    value_added = intake(user_id="owned", text="我想开发票，另外会员积分怎么用").ticket
    assert value_added.tier == Tier.VALUE_ADDED
    assert value_added.assignee == adviser
    # The plan within 24 hours runs on it.
    assert clock(value_added, Milestone.PLAN).target_seconds == 24 * 3600

    # Regular work is not held for the adviser.
    ticket_set_status(ticket=value_added, status=Status.RESOLVED, actor=agent.user)
    regular = intake(user_id="owned", text="快递还没到").ticket
    assert regular.tier == Tier.REGULAR
    assert regular.assignee == agent

    # An adviser who is away does not hold value-added work either.
    ticket_set_status(ticket=regular, status=Status.RESOLVED, actor=agent.user)
    Agent.objects.filter(pk=adviser.pk).update(is_available=False)
    away = intake(user_id="owned", text="我想开发票").ticket
    assert away.tier == Tier.VALUE_ADDED
    assert away.assignee == agent


def test_compliance_per_team_and_per_agent_counts_met_and_breached(agent):
    from tickets.selectors import sla_compliance

    other_team = TeamFactory(name="物流 Logistics")
    other = make_agent(teams=[other_team])
    answered = intake(user_id="u1", text="hello").ticket
    late = intake(user_id="u2", text="hello").ticket
    Ticket.objects.filter(pk=late.pk).update(team=other_team, assignee=other)
    ticket_reply(ticket=answered, author=agent, body="hi")
    clocks_tick(now=timezone.now() + timedelta(days=30))
    since, until = timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=31)

    by_team = {
        row.key: (row.total, row.met, row.breached)
        for row in sla_compliance(since=since, until=until, by="team")
    }
    by_agent = {
        row.key: row.percent_met for row in sla_compliance(since=since, until=until, by="agent")
    }

    # The answered ticket met its first response but not its resolution (never resolved);
    # the other breached both.
    assert by_team == {agent.teams.get().name: (2, 1, 1), "物流 Logistics": (2, 0, 2)}
    assert by_agent == {agent.user.username: 50.0, other.user.username: 0.0}
