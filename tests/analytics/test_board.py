import pytest

from tests.factories import intake

pytestmark = pytest.mark.django_db


def test_board_counters_count_what_is_open_unassigned_and_waiting(client, supervisor, agent):
    first = intake(user_id="u1")  # the least-loaded agent (first by id) takes it
    intake(user_id="u2")
    client.force_login(supervisor.user)
    client.post(f"/tickets/{first.ticket.number}/reply/", {"body": "收到"})

    counters = client.get("/board/counters/").json()

    assert counters["open"] == 2
    assert counters["unassigned"] == 0
    assert counters["waiting"] == 1
    assert counters["first_responses_today"] == 1
    assert counters["first_response_avg_seconds"] >= 0
    assert counters["breached"] == 0


def test_the_board_page_is_for_supervisors(client, agent, supervisor):
    client.force_login(agent.user)
    assert client.get("/board/").status_code == 403
    client.force_login(supervisor.user)
    assert client.get("/board/").status_code == 200


def test_the_forecast_lists_waiting_tickets_a_slow_team_will_not_reach_in_time(client, supervisor):
    from datetime import timedelta

    from django.utils import timezone

    from analytics.selectors import breach_forecast
    from tickets.models import Ticket

    numbers = [intake(user_id=f"f{i}").ticket.number for i in range(3)]
    # Nobody has answered anything today: a rate of zero, so every waiting ticket is at risk
    # of breaching; the one due first has nobody ahead of it.
    Ticket.objects.update(sla_due_at=timezone.now() + timedelta(hours=2))

    forecast = breach_forecast()

    assert sorted(f.number for f in forecast) == sorted(numbers)
    assert sorted(f.ahead for f in forecast) == [0, 1, 2]
    assert all(f.probability == 1.0 for f in forecast)
    client.force_login(supervisor.user)
    rows = client.get("/board/counters/").json()["likely_to_breach"]
    assert len(rows) == 3


def test_a_team_answering_fast_is_not_forecast_to_breach(supervisor, agent):
    from datetime import timedelta

    from django.utils import timezone

    from analytics.selectors import breach_forecast
    from tickets.models import Message, Ticket
    from tickets.services.workflow import ticket_reply

    answered = [intake(user_id=f"a{i}").ticket for i in range(40)]
    for ticket in answered:
        ticket_reply(ticket=ticket, author=agent, body="ok")
    waiting = intake(user_id="late").ticket
    Ticket.objects.filter(pk=waiting.pk).update(sla_due_at=timezone.now() + timedelta(days=14))
    Message.objects.update(created_at=timezone.now() - timedelta(minutes=5))

    assert [f.number for f in breach_forecast()] == []


def test_escalations_show_on_the_board(client, supervisor, agent):
    from datetime import timedelta

    from django.utils import timezone

    from sla.models import EscalationRule, SlaPolicy
    from sla.selectors import calendar_cache_clear
    from sla.services import clocks_tick

    regular = SlaPolicy.objects.get(name="常规 Regular")
    # Only this test's rule, not the seeded levels.
    EscalationRule.objects.filter(policy=regular).delete()
    EscalationRule.objects.create(
        policy=regular,
        milestone="first_response",
        level=1,
        action="notify_supervisor",
        hold_outside_hours=False,
    )
    calendar_cache_clear()
    ticket = intake(user_id="late", text="hello").ticket
    clocks_tick(now=timezone.now() + timedelta(days=30))
    client.force_login(supervisor.user)
    client.cookies["django_language"] = "en"

    (row,) = client.get("/board/counters/").json()["escalations"]

    assert row["number"] == ticket.number
    assert row["what"] == "First response · L1 · Notify the team's supervisors"


def test_the_board_shows_todays_customer_emotion_index(client, supervisor):
    intake(user_id="e1", text="谢谢，很满意")
    intake(user_id="e2", text="太慢了，非常失望")
    client.force_login(supervisor.user)

    index = client.get("/board/counters/").json()["emotion_index_today"]

    from tickets.models import Message

    scores = list(Message.objects.values_list("sentiment", flat=True))
    assert index == round(sum(scores) / len(scores), 2)
    assert -1 <= index <= 1
