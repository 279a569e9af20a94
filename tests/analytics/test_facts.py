"""Per-ticket facts and daily rollups (analytics.facts, docs/metrics.md), pinned on tickets
built by hand through the same services agents and customers use."""

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from analytics.facts import GRAINS, facts_mark, facts_rebuild, facts_refresh
from analytics.models import DailyRollup, FactDirty, TicketFact
from sla.models import Milestone, SlaClock
from tests.factories import app_message, intake
from tickets.models import Message, Status, Ticket
from tickets.services.intake import intake_message
from tickets.services.workflow import ticket_reply, ticket_set_status

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def rollups() -> list[dict[str, object]]:
    """Every rollup row, without its id, in a stable order."""
    rows = DailyRollup.objects.order_by("day", "team_id", "channel", "category", "tier", "agent_id")
    return [{k: v for k, v in row.items() if k != "id"} for row in rows.values()]


def totals() -> dict[str, float]:
    names = ["created", "first_responses", "resolved", "first_contact_resolved", "reopened"]
    return {name: sum(row[name] for row in rollups()) for name in names}  # type: ignore[misc]


def fact(ticket: Ticket) -> TicketFact:
    return TicketFact.objects.get(ticket_id=ticket.pk)


def test_one_answer_then_resolved_is_a_first_contact_resolution(agent):
    ticket = intake(phone="13800138000", text="我的快递到哪里了").ticket
    reply = ticket_reply(ticket=ticket, author=agent, body="已经在派送了，今天到。")
    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=agent.user)

    assert facts_refresh() == 1

    ticket.refresh_from_db()
    row = fact(ticket)
    assert row.agent_replies == 1
    assert row.first_contact_resolved is True
    assert row.first_response_wall_s == int((reply.created_at - ticket.created_at).total_seconds())
    assert row.resolved_at == ticket.resolved_at
    assert totals() == {
        "created": 1,
        "first_responses": 1,
        "resolved": 1,
        "first_contact_resolved": 1,
        "reopened": 0,
    }
    assert not FactDirty.objects.exists()


def test_a_reopened_ticket_is_not_resolved_and_a_second_resolution_is_no_fcr(agent):
    first = intake(phone="13800138000", text="草莓坏了", provider_id="m1").ticket
    ticket_reply(ticket=first, author=agent, body="给您退款。")
    ticket_set_status(ticket=first, status=Status.RESOLVED, actor=agent.user)
    facts_refresh()
    assert totals()["first_contact_resolved"] == 1

    again = intake_message(
        inbound=replace(
            app_message(phone="13800138000", text="还没收到退款", provider_id="m2"),
            thread_ticket_number=first.number,
        )
    ).ticket
    assert again.pk == first.pk  # the customer's answer on the ticket reopened it
    facts_refresh()

    assert fact(first).resolved_at is None
    assert totals()["resolved"] == 0 and totals()["first_contact_resolved"] == 0

    ticket_reply(ticket=first, author=agent, body="已退款，请查收。")
    ticket_set_status(ticket=first, status=Status.RESOLVED, actor=agent.user)
    facts_refresh()

    row = fact(first)
    assert (row.reopens, row.agent_replies, row.first_contact_resolved) == (1, 2, False)
    assert totals() == {
        "created": 1,
        "first_responses": 1,
        "resolved": 1,
        "first_contact_resolved": 0,
        "reopened": 1,
    }


def test_refreshing_again_or_replaying_a_mark_changes_nothing(agent):
    ticket = intake(phone="13800138000", text="发票怎么开").ticket
    ticket_reply(ticket=ticket, author=agent, body="在订单页申请。")
    facts_refresh()
    before = rollups()

    facts_mark([ticket.pk])
    facts_mark([ticket.pk])
    assert facts_refresh() == 1

    assert rollups() == before
    assert DailyRollup.objects.get().created == 1


def test_trail_entries_that_move_no_figure_do_not_mark_the_ticket(agent):
    ticket = intake(phone="13800138000", text="在吗").ticket
    facts_refresh()

    from tickets.services.workflow import ticket_add_note

    ticket_add_note(ticket=ticket, author=agent, body="客户上次也问过")

    assert not FactDirty.objects.exists()
    ticket_reply(ticket=ticket, author=agent, body="在的")
    assert FactDirty.objects.filter(ticket_id=ticket.pk).exists()


def test_a_ticket_that_crosses_midnight_counts_on_each_moments_own_day(agent):
    ticket = intake(phone="13800138000", text="退货地址是哪里").ticket
    reply = ticket_reply(ticket=ticket, author=agent, body="上海仓。")
    created = datetime(2026, 9, 30, 23, 50, tzinfo=SHANGHAI)  # the eve of the National Day
    answered = datetime(2026, 10, 1, 0, 10, tzinfo=SHANGHAI)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=created, first_response_at=answered)
    Message.objects.filter(pk=reply.pk).update(created_at=answered)
    facts_mark([ticket.pk])

    facts_refresh()

    by_day = {row["day"].isoformat(): row for row in rollups()}  # type: ignore[union-attr]
    assert by_day["2026-09-30"]["created"] == 1 and by_day["2026-09-30"]["first_responses"] == 0
    assert by_day["2026-10-01"]["first_responses"] == 1 and by_day["2026-10-01"]["created"] == 0
    assert by_day["2026-10-01"]["first_response_wall_s"] == 20 * 60


def test_business_time_is_the_sla_engines_measure(agent):
    ticket = intake(phone="13800138000", text="会员积分没到账").ticket
    ticket_reply(ticket=ticket, author=agent, body="已补发。")
    facts_refresh()

    clock = SlaClock.objects.get(
        subject_id=ticket.pk, milestone=Milestone.FIRST_RESPONSE, sequence=0
    )
    assert clock.elapsed_business_seconds is not None
    assert fact(ticket).first_response_business_s == clock.elapsed_business_seconds
    assert DailyRollup.objects.get().first_response_business_count == 1


def test_a_follow_up_within_seven_days_undoes_the_first_contact_resolution(agent, settings):
    settings.REOPEN_WINDOW_DAYS = 0  # an answer on the closed ticket opens a follow-up
    first = intake(phone="13800138000", text="牛奶漏了", provider_id="a").ticket
    ticket_reply(ticket=first, author=agent, body="给您补发。")
    ticket_set_status(ticket=first, status=Status.RESOLVED, actor=agent.user)
    ticket_set_status(ticket=first, status=Status.CLOSED, actor=agent.user)
    facts_refresh()
    assert fact(first).first_contact_resolved is True

    later = intake_message(
        inbound=replace(
            app_message(phone="13800138000", text="补发的牛奶也漏了", provider_id="b"),
            thread_ticket_number=first.number,
        )
    ).ticket
    assert later.pk != first.pk and later.previous_id == first.pk
    facts_refresh()

    assert fact(first).first_contact_resolved is False
    assert totals()["first_contact_resolved"] == 0


def test_the_same_customer_about_the_same_category_within_seven_days_is_a_repeat(agent):
    one = intake(phone="13800138000", text="快递三天了还没到", provider_id="a").ticket
    ticket_set_status(ticket=one, status=Status.CLOSED, actor=agent.user)
    two = intake(phone="13800138000", text="快递怎么还没到", provider_id="b").ticket
    Ticket.objects.filter(pk__in=[one.pk, two.pk]).update(category="delivery")
    facts_mark([one.pk, two.pk])
    facts_refresh()

    assert (fact(one).repeat_contact, fact(two).repeat_contact) == (False, True)

    Ticket.objects.filter(pk=one.pk).update(created_at=timezone.now() - timedelta(days=8))
    facts_mark([two.pk])
    facts_refresh()

    assert fact(two).repeat_contact is False
    assert sum(row["repeat_contacts"] for row in rollups()) == 0  # type: ignore[misc]


def every_fact() -> list[dict[str, object]]:
    """Every fact's figures (not when it was refreshed), by ticket."""
    return [
        {k: v for k, v in row.items() if k != "refreshed_at"}
        for row in TicketFact.objects.order_by("ticket_id").values()
    ]


def every_grain() -> dict[str, dict[tuple[object, ...], dict[str, float]]]:
    """Every rollup grain's rows by key, leaving out rows whose counters are all zero (a live
    refresh leaves one behind when a ticket moves away; a rebuild writes none)."""
    found: dict[str, dict[tuple[object, ...], dict[str, float]]] = {}
    for grain in GRAINS:
        rows = {}
        for row in grain.model._default_manager.values(*grain.keys, *grain.counters):
            values = {name: row[name] for name in grain.counters}
            if any(values.values()):
                rows[tuple(row[k] for k in grain.keys)] = values
        found[grain.model._meta.db_table] = rows
    return found


def some_history(agent) -> list[Ticket]:  # type: ignore[no-untyped-def]
    """Tickets with something in every kind of figure: answered by an agent or not yet,
    resolved at the first answer, reopened and resolved again, a repeat contact, a follow-up
    of a resolved ticket."""
    made = []
    for number, text in enumerate(["草莓坏了", "快递没到", "发票", "退款多久", "会员积分"]):
        ticket = intake(phone=f"1380013800{number}", text=text, provider_id=f"p{number}").ticket
        if number != 4:
            ticket_reply(ticket=ticket, author=agent, body="好的")
        if number % 2:
            ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=agent.user)
        made.append(ticket)
    again = intake_message(
        inbound=replace(
            app_message(phone="13800138001", text="还是没到", provider_id="p5"),
            thread_ticket_number=made[1].number,
        )
    ).ticket
    assert again.pk == made[1].pk  # reopened
    ticket_reply(ticket=again, author=agent, body="明天到")
    ticket_set_status(ticket=again, status=Status.RESOLVED, actor=agent.user)
    # On another channel, so that it opens a ticket of its own rather than threading.
    repeat = intake(phone="13800138000", text="草莓又坏了", provider_id="p6", channel="web").ticket
    assert repeat.pk != made[0].pk
    Ticket.objects.filter(pk__in=[made[0].pk, repeat.pk]).update(category="fresh")
    made.append(repeat)
    facts_mark(t.pk for t in made)
    return made


def test_a_rebuild_gives_the_facts_and_rollups_the_live_refreshes_kept(agent, capsys):
    made = some_history(agent)
    facts_refresh()
    facts, grains = every_fact(), every_grain()
    assert sum(row["created"] for row in grains["analytics_dailyrollup"].values()) == 6
    assert [f["repeat_contact"] for f in facts].count(True) == 1
    assert [f["reopens"] for f in facts].count(1) == 1
    TicketFact.objects.filter(ticket_id=made[2].pk).update(agent_replies=7)  # a stale fact

    call_command("facts_rebuild", chunk=4)

    assert every_fact() == facts
    assert every_grain() == grains
    out = capsys.readouterr().out
    assert "6/6 tickets" in out
    assert "facts and rollups rebuilt for 6 tickets" in out


def test_live_refreshes_between_the_chunks_of_a_rebuild_count_each_ticket_once(agent):
    made = some_history(agent)
    facts_refresh()
    done_first, later = made[0], made[-1]  # the first chunk's ticket, and the last chunk's
    chunks: list[int] = []

    def meanwhile(done: int, total: int) -> None:
        chunks.append(done)
        if len(chunks) == 1:
            # A ticket refreshed live after its chunk was written, another before its chunk.
            ticket_set_status(ticket=done_first, status=Status.RESOLVED, actor=agent.user)
            ticket_reply(ticket=later, author=agent, body="已处理")
            assert facts_refresh() == 2

    assert facts_rebuild(chunk=1, progress=meanwhile) == 6

    assert chunks == [1, 2, 3, 4, 5, 6]
    assert fact(done_first).resolved_at is not None
    assert fact(later).agent_replies == 1
    rebuilt_facts, rebuilt_grains = every_fact(), every_grain()
    # What the live refresh alone makes of the same tickets, from nothing.
    for grain in GRAINS:
        grain.model._default_manager.all().delete()
    TicketFact.objects.all().delete()
    facts_mark(t.pk for t in made)
    facts_refresh()
    assert rebuilt_facts == every_fact()
    assert rebuilt_grains == every_grain()
    assert sum(row["resolved"] for row in rebuilt_grains["analytics_dailyrollup"].values()) == 3
