"""Who gets a new ticket: online, on shift, under capacity for the channel, skilled, and the
least recently assigned among equals; tickets nobody can take wait and are given out later."""

from datetime import time as clock_time

import pytest

from sla.models import BusinessCalendar, BusinessHours
from tests.factories import TeamFactory, intake, make_agent
from tests.support.presence import sockets_reset
from tickets.models import (
    Agent,
    AgentLevel,
    AgentStatus,
    Channel,
    ChannelCapacity,
    EventKind,
    Skill,
    SkillKind,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.services.presence import presence_connected, presence_set
from tickets.services.workflow import ticket_set_status
from tickets.tiers import Tier

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sockets():  # type: ignore[no-untyped-def]
    sockets_reset()
    yield
    sockets_reset()


def _assignee(**kwargs: object) -> Agent | None:
    return intake(**kwargs).ticket.assignee


@pytest.mark.parametrize("status", [AgentStatus.BUSY, AgentStatus.AWAY, AgentStatus.OFFLINE])
def test_only_online_agents_get_tickets(default_team, status):
    make_agent(teams=[default_team], status=status)
    online = make_agent(teams=[default_team])

    assert [_assignee(), _assignee()] == [online, online]


def test_an_agent_who_never_signed_in_gets_nothing(default_team):
    from tests.factories import UserFactory

    never = Agent.objects.create(user=UserFactory(role="agent"))
    never.teams.set([default_team])

    assert never.status == AgentStatus.OFFLINE
    assert _assignee() is None


def test_supervisors_take_tickets_only_when_flagged(default_team):
    boss = make_agent(teams=[default_team], role="supervisor")
    admin = make_agent(teams=[default_team], role="admin")
    assert _assignee() is None

    Agent.objects.filter(pk=boss.pk).update(takes_tickets=True)

    assert [_assignee(), _assignee()] == [boss, boss]
    assert admin.tickets.count() == 0


def test_an_agent_switched_off_for_assignment_gets_nothing(default_team):
    make_agent(teams=[default_team])
    Agent.objects.update(is_available=False)

    assert _assignee() is None


def test_round_robin_gives_the_least_recently_assigned_agent_the_next_ticket(default_team):
    first, second, third = (make_agent(teams=[default_team]) for _ in range(3))

    got = [_assignee(user_id=f"rr-{n}") for n in range(6)]

    assert got == [first, second, third, first, second, third]


def test_round_robin_skips_an_agent_at_capacity(default_team):
    small = make_agent(teams=[default_team], capacity=1)
    large = make_agent(teams=[default_team])

    got = [_assignee(user_id=f"cap-{n}") for n in range(4)]

    assert got == [small, large, large, large]


def test_a_channel_limit_of_the_agent_counts_only_that_channels_open_tickets(default_team):
    agent = make_agent(teams=[default_team])
    ChannelCapacity.objects.create(agent=agent, channel=Channel.CHAT, limit=1)

    first_chat = intake(user_id="c1", channel=Channel.CHAT).ticket
    second_chat = intake(user_id="c2", channel=Channel.CHAT).ticket
    app = intake(user_id="c3", channel=Channel.APP).ticket

    assert (first_chat.assignee, second_chat.assignee, app.assignee) == (agent, None, agent)


def test_the_teams_channel_limit_applies_unless_the_agent_has_their_own(default_team):
    regular = make_agent(teams=[default_team])
    expert = make_agent(teams=[default_team])
    ChannelCapacity.objects.create(team=default_team, channel=Channel.EMAIL, limit=1)
    ChannelCapacity.objects.create(agent=expert, channel=Channel.EMAIL, limit=3)

    got = [
        intake(email=f"e{n}@example.com", channel=Channel.EMAIL).ticket.assignee for n in range(5)
    ]

    assert got == [regular, expert, expert, expert, None]


def test_a_defined_language_skill_is_required(default_team):
    chinese_only = make_agent(teams=[default_team])
    bilingual = make_agent(teams=[default_team])
    english = Skill.objects.create(kind=SkillKind.LANGUAGE, code="en")
    bilingual.skills.add(english)

    english_tickets = [_assignee(user_id=f"en-{n}", text="Where is my parcel?") for n in range(2)]
    # No Chinese skill is defined: a Chinese ticket goes to anyone, round robin.
    chinese = _assignee(user_id="zh-1", text="我的快递到哪了")

    assert english_tickets == [bilingual, bilingual]
    assert chinese == chinese_only


def test_the_customers_own_language_wins_over_the_text(default_team):
    plain = make_agent(teams=[default_team])
    bilingual = make_agent(teams=[default_team])
    bilingual.skills.add(Skill.objects.create(kind=SkillKind.LANGUAGE, code="en"))
    first = intake(user_id="same", text="Hello, where is my parcel?").ticket
    assert first.customer.language == "en"
    ticket_set_status(ticket=first, status=Status.CLOSED, actor=None)

    # Written in Chinese this time, but the customer reads English.
    again = intake(user_id="same", text="你好").ticket

    assert (first.assignee, again.assignee) == (bilingual, bilingual)
    assert plain.tickets.count() == 0


def test_a_defined_category_skill_is_required(default_team):
    generalist = make_agent(teams=[default_team])
    courier = make_agent(teams=[default_team])
    courier.skills.add(Skill.objects.create(kind=SkillKind.CATEGORY, code="logistics"))

    logistics = intake(user_id="l1", text="快递三天了还没送到，物流不动").ticket

    assert logistics.category == "logistics"
    assert logistics.assignee == courier
    assert generalist.tickets.count() == 0


def test_urgent_tickets_need_the_teams_level(default_team):
    default_team.urgent_level = AgentLevel.SENIOR
    default_team.save(update_fields=["urgent_level"])
    junior = make_agent(teams=[default_team])
    senior = make_agent(teams=[default_team])
    Agent.objects.filter(pk=senior.pk).update(level=AgentLevel.SENIOR)

    urgent = intake(user_id="u1", text="吃了你们的鸡肉后食物中毒了").ticket
    regular = intake(user_id="u2", text="我的快递到哪了").ticket

    assert (urgent.tier, urgent.assignee) == (Tier.URGENT, senior)
    assert regular.assignee == junior


def _calendar(name: str, *, open_all_day: bool) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.create(name=name, use_cn_holidays=False)
    if open_all_day:
        BusinessHours.objects.bulk_create(
            BusinessHours(
                calendar=calendar,
                weekday=day,
                start=clock_time(0, 0),
                end=clock_time(23, 59, 59, 999999),
            )
            for day in range(7)
        )
    return calendar


def test_only_agents_on_shift_get_tickets(default_team):
    off_shift = make_agent(teams=[default_team])
    on_shift = make_agent(teams=[default_team])
    Agent.objects.filter(pk=off_shift.pk).update(
        shift_calendar=_calendar("never", open_all_day=False)
    )
    Agent.objects.filter(pk=on_shift.pk).update(
        shift_calendar=_calendar("always", open_all_day=True)
    )

    assert [_assignee(), _assignee()] == [on_shift, on_shift]


def test_other_teams_agents_are_never_picked(default_team):
    make_agent(teams=[TeamFactory(name="物流")])

    assert _assignee() is None


def test_a_waiting_ticket_goes_to_an_agent_who_comes_online(
    default_team, django_capture_on_commit_callbacks
):
    agent = make_agent(teams=[default_team], status=AgentStatus.OFFLINE)
    waiting = intake(user_id="w1").ticket
    assert waiting.assignee is None

    with django_capture_on_commit_callbacks(execute=True):
        presence_connected(agent_id=agent.pk, socket="test-socket-1")

    waiting.refresh_from_db()
    assert waiting.assignee == agent
    assert TicketEvent.objects.filter(
        ticket=waiting, kind=EventKind.ASSIGNED, actor=None, data__waited=True
    ).exists()


def test_a_waiting_ticket_goes_to_an_agent_back_from_busy(
    default_team, django_capture_on_commit_callbacks
):
    agent = make_agent(teams=[default_team], status=AgentStatus.BUSY)
    waiting = intake(user_id="w2").ticket
    assert waiting.assignee is None

    with django_capture_on_commit_callbacks(execute=True):
        presence_set(agent=agent, status=AgentStatus.ONLINE)

    waiting.refresh_from_db()
    assert waiting.assignee == agent


def test_closing_a_ticket_frees_capacity_for_a_waiting_one(
    default_team, django_capture_on_commit_callbacks
):
    agent = make_agent(teams=[default_team], capacity=1)
    held = intake(user_id="h1").ticket
    urgent_waiting = intake(user_id="h2", text="吃了你们的鸡肉后食物中毒了").ticket
    regular_waiting = intake(user_id="h3").ticket
    assert (held.assignee, urgent_waiting.assignee, regular_waiting.assignee) == (
        agent,
        None,
        None,
    )

    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_status(ticket=held, status=Status.RESOLVED, actor=agent.user)

    # The most urgent waiting ticket first; the other waits for the next free place.
    urgent_waiting.refresh_from_db()
    regular_waiting.refresh_from_db()
    assert (urgent_waiting.assignee, regular_waiting.assignee) == (agent, None)


def test_the_board_counts_tickets_waiting_for_an_agent(default_team, supervisor, client):
    intake(user_id="b1")
    intake(user_id="b2")
    make_agent(teams=[default_team])
    intake(user_id="b3")
    client.force_login(supervisor.user)

    counters = client.get("/board/counters/").json()

    assert counters["waiting_for_agent"] == 2
    assert counters["agents_online"] == 2  # the supervisor has an agent record too
    assert Ticket.objects.filter(assignee__isnull=True).count() == 2


def test_coming_online_queues_no_task_when_nothing_waits(
    default_team, django_capture_on_commit_callbacks, monkeypatch
):
    from tickets import tasks

    queued: list[list[int]] = []
    monkeypatch.setattr(tasks.waiting_assign, "delay", lambda teams: queued.append(teams))
    first = make_agent(teams=[default_team], status=AgentStatus.OFFLINE)
    second = make_agent(teams=[default_team], status=AgentStatus.OFFLINE)

    with django_capture_on_commit_callbacks(execute=True):
        presence_connected(agent_id=first.pk, socket="quiet-1")
    assert queued == []

    Agent.objects.filter(pk=first.pk).update(status=AgentStatus.BUSY)
    intake(user_id="q1")
    with django_capture_on_commit_callbacks(execute=True):
        presence_connected(agent_id=second.pk, socket="quiet-2")
    assert queued == [[default_team.pk]]
