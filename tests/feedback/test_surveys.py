"""Who gets a survey, when, and on which channel: the delay, the channel switches, the
fatigue rule, spam, merged and auto-closed tickets, quiet hours, after-sales cases, NPS."""

from datetime import timedelta

import pytest
from django.conf import settings

from channels_ingest.models import OutboxEntry
from feedback.models import Survey, SurveyKind, SurveyTrigger
from feedback.selectors.surveys import survey_figures
from feedback.services.sampling import Window
from feedback.services.surveys import (
    Answer,
    low_csat_tickets,
    nps_quarter_sample,
    survey_answer,
    survey_invite,
    surveys_due_send,
)
from tests.feedback.surveys_support import (
    DAYTIME,
    SHANGHAI,
    Clock,
    answered_and_resolved,
    configure,
    customer_ticket,
    outbox,  # noqa: F401  (fixture)
)
from tickets import hooks
from tickets.models import Channel, EventKind, Message, Status, Ticket
from tickets.services.actions import ticket_close_as_spam
from tickets.services.trail import event_record
from tickets.services.workflow import ticket_reply, ticket_set_status

pytestmark = pytest.mark.usefixtures("outbox")


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    return Clock(monkeypatch, DAYTIME)


def invitations(ticket: Ticket) -> list[Message]:
    return list(ticket.messages.filter(notice__startswith="survey:").order_by("pk"))


def test_a_resolved_sms_ticket_is_invited_after_the_delay_through_the_outbox(
    agent, clock, django_capture_on_commit_callbacks
):
    configure(delay_minutes=30)
    ticket = answered_and_resolved(customer_ticket(), agent)

    survey = Survey.objects.get(ticket=ticket)
    assert (survey.kind, survey.trigger, survey.channel) == ("csat", "resolved", "sms")
    assert survey.due_at == DAYTIME + timedelta(minutes=30)
    assert list(survey.agents.all()) == [agent]
    assert surveys_due_send(now=DAYTIME + timedelta(minutes=29)) == 0
    assert invitations(ticket) == []

    clock.set(DAYTIME + timedelta(minutes=31))
    with django_capture_on_commit_callbacks(execute=True):
        assert surveys_due_send() == 1
    (message,) = invitations(ticket)
    assert message.notice == "survey:csat"
    assert message.is_automatic and message.author_id is None
    assert "1–5" in message.body
    entry = OutboxEntry.objects.get(reference__endswith=f"-{message.pk}")
    assert (entry.channel, entry.to) == ("sms", "+8613800138000")
    survey.refresh_from_db()
    assert survey.invited_at == clock.now and survey.due_at is None
    assert survey.expires_at == clock.now + timedelta(days=7)


def test_inviting_twice_queues_one_invitation(agent, clock):
    configure(delay_minutes=0)
    ticket = answered_and_resolved(customer_ticket(), agent)
    survey = Survey.objects.get(ticket=ticket)
    assert survey_invite(survey_id=survey.pk) is not None
    assert survey_invite(survey_id=survey.pk) is None
    assert surveys_due_send() == 0
    assert len(invitations(ticket)) == 1


def test_email_and_app_invitations_carry_a_one_click_link(agent, clock):
    configure(delay_minutes=0)
    email_ticket = customer_ticket(channel=Channel.EMAIL, phone=None, email="kim@example.com")
    answered_and_resolved(email_ticket, agent)
    app_ticket = customer_ticket(channel=Channel.APP, phone=None, user_id="app-7")
    answered_and_resolved(app_ticket, agent)
    surveys_due_send()
    for ticket in (email_ticket, app_ticket):
        (message,) = invitations(ticket)
        assert "https://kefu.shop.example/feedback/s/" in message.body
    assert invitations(email_ticket)[0].subject


def test_a_call_is_followed_up_by_sms_and_a_self_service_ticket_by_email(agent, clock):
    configure(delay_minutes=0)
    call = customer_ticket(channel=Channel.PHONE)
    answered_and_resolved(call, agent)
    assert Survey.objects.get(ticket=call).channel == Channel.SMS


def test_a_channel_switched_off_gets_no_survey(agent, clock):
    configure(channels=["chat", "email", "app"])
    ticket = answered_and_resolved(customer_ticket(), agent)
    assert not Survey.objects.filter(ticket=ticket).exists()


def test_one_survey_per_customer_within_the_fatigue_window(agent, clock):
    configure(delay_minutes=0, fatigue_days=30)
    first = answered_and_resolved(customer_ticket(text="第一个问题"), agent)
    second = answered_and_resolved(customer_ticket(text="第二个问题"), agent)
    assert first.pk != second.pk
    assert list(Survey.objects.values_list("ticket_id", flat=True)) == [first.pk]

    clock.set(DAYTIME + timedelta(days=31))
    third = answered_and_resolved(customer_ticket(text="第三个问题"), agent)
    assert sorted(Survey.objects.values_list("ticket_id", flat=True)) == [first.pk, third.pk]


def test_spam_merged_and_auto_closed_tickets_get_no_survey(agent, clock):
    configure(delay_minutes=0, fatigue_days=0)
    spam = customer_ticket(phone="+8613800000001")
    ticket_close_as_spam(ticket=spam, actor=agent.user)
    auto = customer_ticket(phone="+8613800000002")
    ticket_set_status(ticket=auto, status=Status.RESOLVED, actor=None)
    survivor = customer_ticket(phone="+8613800000003", text="还有一个问题")
    merged = customer_ticket(phone="+8613800000004")
    Ticket.objects.filter(pk=merged.pk).update(merged_into=survivor)
    merged.refresh_from_db()
    answered_and_resolved(merged, agent)

    assert Survey.objects.count() == 0


def test_closing_an_open_ticket_by_hand_counts_as_a_resolution(agent, clock):
    configure(delay_minutes=0)
    ticket = answered_and_resolved(customer_ticket(), agent, status=Status.CLOSED)
    assert Survey.objects.filter(ticket=ticket, kind="csat").count() == 1


def test_a_resolution_event_seen_twice_gives_one_survey(agent, clock):
    configure(delay_minutes=0, fatigue_days=0)
    ticket = answered_and_resolved(customer_ticket(), agent)
    ticket_set_status(ticket=ticket, status=Status.OPEN, actor=agent.user)
    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=agent.user)
    assert Survey.objects.filter(ticket=ticket).count() == 1


def test_quiet_hours_hold_an_sms_invitation_until_the_morning(agent, clock):
    from datetime import datetime

    night = datetime(2026, 11, 20, 22, 30, tzinfo=SHANGHAI)
    morning = datetime(2026, 11, 21, 8, 0, tzinfo=SHANGHAI)
    clock.set(night)
    configure(delay_minutes=0)
    ticket = answered_and_resolved(customer_ticket(), agent)
    survey = Survey.objects.get(ticket=ticket)

    assert surveys_due_send() == 0
    survey.refresh_from_db()
    assert survey.due_at == morning and survey.invited_at is None
    clock.set(morning - timedelta(minutes=1))
    assert surveys_due_send() == 0
    clock.set(morning)
    assert surveys_due_send() == 1
    assert len(invitations(ticket)) == 1


def test_quiet_hours_do_not_hold_an_email_invitation(agent, clock):
    from datetime import datetime

    clock.set(datetime(2026, 11, 20, 22, 30, tzinfo=SHANGHAI))
    configure(delay_minutes=0)
    ticket = customer_ticket(channel=Channel.EMAIL, phone=None, email="kim@example.com")
    answered_and_resolved(ticket, agent)
    assert surveys_due_send() == 1


def test_a_ticket_open_again_before_the_invitation_gets_none(agent, clock):
    configure(delay_minutes=30)
    ticket = answered_and_resolved(customer_ticket(), agent)
    ticket_set_status(ticket=ticket, status=Status.OPEN, actor=agent.user)
    clock.set(DAYTIME + timedelta(hours=1))
    assert surveys_due_send() == 0
    survey = Survey.objects.get(ticket=ticket)
    assert survey.skipped_reason == "ticket open again" and survey.due_at is None
    assert invitations(ticket) == []


def test_a_completed_after_sales_case_gets_one_survey(agent, clock):
    configure(delay_minutes=0, fatigue_days=0)
    ticket = customer_ticket()
    for _ in range(2):
        event_record(
            ticket=ticket,
            kind=EventKind.AFTERSALES,
            actor=None,
            data={"case": "AS202611200001", "step": "completed"},
        )
    event_record(
        ticket=ticket,
        kind=EventKind.AFTERSALES,
        actor=None,
        data={"case": "AS202611200002", "step": "refunded"},
    )
    survey = Survey.objects.get(ticket=ticket)
    assert (survey.trigger, survey.case_number) == (
        SurveyTrigger.CASE_COMPLETED,
        "AS202611200001",
    )


def test_an_order_ticket_in_the_nps_sample_is_asked_nps_some_days_later(agent, clock, monkeypatch):
    configure(delay_minutes=0, nps_order_percent=100, nps_order_days=7)
    monkeypatch.setitem(hooks._ticket_order_numbers, "test", lambda ticket: "SO2026000123")
    ticket = answered_and_resolved(customer_ticket(), agent)
    survey = Survey.objects.get(ticket=ticket)
    assert (survey.kind, survey.trigger) == (SurveyKind.NPS, SurveyTrigger.ORDER)
    assert survey.due_at == DAYTIME + timedelta(days=7)
    clock.set(DAYTIME + timedelta(days=7))
    surveys_due_send()
    (message,) = invitations(ticket)
    assert message.notice == "survey:nps" and "0–10" in message.body


def test_the_quarterly_nps_sample_asks_each_customer_once(agent, clock):
    configure(delay_minutes=0, fatigue_days=0)
    for index in range(3):
        ticket = customer_ticket(phone=f"+861380000001{index}")
        ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=None)  # no CSAT
    assert nps_quarter_sample(size=2) == 2
    assert nps_quarter_sample(size=2) == 0
    assert Survey.objects.filter(kind="nps", trigger="sample").count() == 2
    assert settings.CELERY_BEAT_SCHEDULE["nps-quarter"]["task"] == "feedback.tasks.nps_quarter"


def answered(kind: str, scores: list[int], agent, clock) -> None:  # type: ignore[no-untyped-def]
    configure(delay_minutes=0, fatigue_days=0)
    for index, score in enumerate(scores):
        ticket = customer_ticket(phone=f"+86139000000{index:02d}")
        answered_and_resolved(ticket, agent)
        survey = Survey.objects.get(ticket=ticket)
        Survey.objects.filter(pk=survey.pk).update(kind=kind)
        survey_invite(survey_id=survey.pk)
        survey.refresh_from_db()
        if score >= 0:
            survey_answer(survey=survey, answer=Answer(score=score), via="web")


def test_nps_is_promoters_less_detractors_among_the_answers(agent, clock):
    answered("nps", [10, 9, 8, 7, 3, -1], agent, clock)
    (total,) = survey_figures(
        kind="nps", start=DAYTIME - timedelta(days=1), end=DAYTIME + timedelta(days=1)
    )
    assert (total.invited, total.answered) == (6, 5)
    assert (total.promoters, total.passives, total.detractors) == (2, 2, 1)
    assert total.nps == 20.0
    assert total.response_rate == 83.3
    (by_channel,) = survey_figures(
        kind="nps", start=DAYTIME - timedelta(days=1), end=DAYTIME + timedelta(days=1), by="channel"
    )
    assert by_channel.nps == 20.0
    (by_team,) = survey_figures(
        kind="nps", start=DAYTIME - timedelta(days=1), end=DAYTIME + timedelta(days=1), by="team"
    )
    assert by_team.label == "客服一组"


def test_csat_is_the_share_of_four_and_five(agent, clock):
    answered("csat", [5, 4, 3, 2, 1], agent, clock)
    (total,) = survey_figures(
        kind="csat", start=DAYTIME - timedelta(days=1), end=DAYTIME + timedelta(days=1)
    )
    assert (total.answered, total.satisfied, total.csat) == (5, 2, 40.0)
    (by_agent,) = survey_figures(
        kind="csat", start=DAYTIME - timedelta(days=1), end=DAYTIME + timedelta(days=1), by="agent"
    )
    assert (by_agent.label, by_agent.answered) == (agent.user.username, 5)


def test_the_quality_sample_draws_tickets_rated_one_or_two(agent, clock, default_team):
    answered("csat", [2, 5], agent, clock)
    low, high = (s.ticket_id for s in Survey.objects.order_by("pk"))
    window = Window(team=default_team, rule=None, start=DAYTIME, end=DAYTIME)  # type: ignore[arg-type]
    assert low_csat_tickets(window, frozenset({low, high})) == [low]


def test_an_agent_who_replied_twice_is_kept_once_and_the_ticket_still_gets_its_survey(agent, clock):
    configure(delay_minutes=30)
    ticket = customer_ticket()
    ticket_reply(ticket=ticket, author=agent, body="我查一下")

    answered_and_resolved(ticket, agent)

    survey = Survey.objects.get(ticket=ticket)
    assert list(survey.agents.all()) == [agent]


def _resolved_sms_tickets(agent, count: int, *, first: int) -> list[Ticket]:  # type: ignore[no-untyped-def]
    return [
        answered_and_resolved(customer_ticket(phone=f"+86139000{first + n:05d}"), agent)
        for n in range(count)
    ]


def test_the_sweep_invites_a_batch_in_a_fixed_number_of_statements(agent, clock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    configure(delay_minutes=30)
    small = _resolved_sms_tickets(agent, 2, first=0)
    clock.set(DAYTIME + timedelta(minutes=31))
    with CaptureQueriesContext(connection) as two:
        assert surveys_due_send() == 2
    large = _resolved_sms_tickets(agent, 6, first=100)
    clock.set(DAYTIME + timedelta(minutes=62))
    with CaptureQueriesContext(connection) as six:
        assert surveys_due_send() == 6

    # The SMS backend's opt-out list is read once for the batch's numbers (backends_asked).
    opt_outs = [q["sql"] for q in six.captured_queries if "smsoptout" in q["sql"]]
    assert (len(opt_outs), len(six)) == (1, len(two))
    for ticket in [*small, *large]:
        (message,) = invitations(ticket)
        assert message.notice == "survey:csat"
        survey = Survey.objects.get(ticket=ticket)
        assert survey.message_id == message.pk and survey.due_at is None
    assert (
        Ticket.objects.filter(pk__in=[t.pk for t in large], events__kind=EventKind.NOTICE)
        .distinct()
        .count()
        == 6
    )


def test_a_batch_gives_up_and_invites_each_survey_by_its_own_rules(agent, clock):
    configure(delay_minutes=30, fatigue_days=30)
    invited, reopened = _resolved_sms_tickets(agent, 2, first=0)
    ticket_set_status(ticket=reopened, status=Status.OPEN, actor=agent.user)
    # A second resolved ticket of the first customer, surveyed before the fatigue rule could
    # see the first survey invited: the same batch must not invite both.
    again = customer_ticket(phone="+8613900000000", text="另一个问题")
    assert again.pk != invited.pk
    first_survey = Survey.objects.get(ticket=invited)
    Survey.objects.filter(pk=first_survey.pk).update(created_at=DAYTIME - timedelta(days=60))
    answered_and_resolved(again, agent)
    clock.set(DAYTIME + timedelta(minutes=31))

    assert surveys_due_send() == 1

    assert len(invitations(invited)) == 1 and invitations(again) == []
    assert Survey.objects.get(ticket=again).skipped_reason == "asked recently"
    assert Survey.objects.get(ticket=reopened).skipped_reason == "ticket open again"
