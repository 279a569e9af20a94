"""A bot answer the customer never replied to is recorded as ignored, once, after the window."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from kb.models import DeflectionRecord
from kefu.celery import app as celery_app
from tests.factories import intake
from tests.kb.factories import make_article
from tickets import tasks
from tickets.models import Direction, Message, Status, Ticket, TicketEvent
from tickets.services.bot_followup import (
    bot_answer_ignored_record,
    bot_answers_ignored_record,
    bot_answers_unanswered,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def faq(db):  # type: ignore[no-untyped-def]
    return make_article(
        title="退款多久到账",
        questions=("退款什么时候到账", "钱什么时候退回来"),
        body="退款审核通过后原路退回，一般1-3个工作日到账。",
    )


@pytest.fixture
def answered(default_team, faq, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """A ticket on which the bot answered from the FAQ and asked whether it helped."""
    with django_capture_on_commit_callbacks(execute=True):
        ticket = intake(user_id="u1", text="退款什么时候到账？").ticket
    ticket.refresh_from_db()
    assert ticket.bot_state["awaiting_feedback"] is True
    assert ticket.messages.filter(is_bot=True).count() == 1
    return ticket


def _outcomes() -> list[tuple[str, int | None, str, str]]:
    return list(
        DeflectionRecord.objects.order_by("pk").values_list(
            "outcome", "article_id", "channel", "reference"
        )
    )


def _queue_view(ticket: Ticket) -> tuple[object, ...]:
    ticket.refresh_from_db()
    return (
        ticket.status,
        ticket.is_open,
        ticket.team_id,
        ticket.assignee_id,
        ticket.priority_rank,
        ticket.sla_state,
        ticket.sla_due_at,
        ticket.first_response_at,
    )


def test_an_answer_nobody_replied_to_is_recorded_as_ignored_after_the_window(answered, faq):
    later = timezone.now() + timedelta(hours=settings.BOT_FEEDBACK_WINDOW_HOURS, minutes=1)

    recorded = bot_answers_ignored_record(now=later)

    assert recorded == 1
    assert _outcomes() == [("ignored", faq.pk, "app", answered.number)]
    answered.refresh_from_db()
    assert answered.bot_state["awaiting_feedback"] is False
    assert answered.bot_state["last_article"] == faq.pk


def test_an_answer_is_not_ignored_before_the_window_is_over(answered):
    sooner = timezone.now() + timedelta(hours=settings.BOT_FEEDBACK_WINDOW_HOURS, minutes=-1)

    assert bot_answers_unanswered(now=sooner) == []
    assert bot_answers_ignored_record(now=sooner) == 0
    assert _outcomes() == []
    answered.refresh_from_db()
    assert answered.bot_state["awaiting_feedback"] is True


def test_an_ignored_answer_is_recorded_only_once(answered, faq):
    later = timezone.now() + timedelta(days=2)

    first = bot_answers_ignored_record(now=later)
    second = bot_answers_ignored_record(now=later + timedelta(hours=1))

    assert (first, second) == (1, 0)
    assert _outcomes() == [("ignored", faq.pk, "app", answered.number)]


def test_a_second_run_racing_the_first_records_nothing_more(answered, faq):
    # Both runs listed the ticket before either recorded it.
    later = timezone.now() + timedelta(days=2)

    assert bot_answer_ignored_record(ticket_id=answered.pk, now=later) is not None
    assert bot_answer_ignored_record(ticket_id=answered.pk, now=later) is None
    assert DeflectionRecord.objects.count() == 1


def test_the_ticket_stays_in_the_agents_queue_as_it_was(answered):
    before = _queue_view(answered)
    events = TicketEvent.objects.filter(ticket=answered).count()
    messages = Message.objects.filter(ticket=answered).count()

    bot_answers_ignored_record(now=timezone.now() + timedelta(days=2))

    assert _queue_view(answered) == before
    assert answered.status in (Status.NEW, Status.OPEN)
    assert answered.is_open is True
    assert TicketEvent.objects.filter(ticket=answered).count() == events
    assert Message.objects.filter(ticket=answered).count() == messages  # nothing sent


def test_nothing_is_ignored_when_the_customer_said_it_helped(
    answered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        intake(user_id="u1", text="是的，谢谢")

    bot_answers_ignored_record(now=timezone.now() + timedelta(days=2))

    assert [outcome for outcome, *_rest in _outcomes()] == ["helpful"]


def test_nothing_is_ignored_when_the_conversation_was_handed_off(
    answered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        intake(user_id="u1", text="没用")

    bot_answers_ignored_record(now=timezone.now() + timedelta(days=2))

    assert [outcome for outcome, *_rest in _outcomes()] == ["handed_off"]
    answered.refresh_from_db()
    assert answered.bot_state["handed_off"] is True


def test_a_reply_the_bot_has_not_read_yet_still_counts_as_a_reply(answered):
    # Stored by intake, but the bot's task has not run (its on-commit callback is dropped).
    intake(user_id="u1", text="是")
    answered.refresh_from_db()
    assert answered.bot_state["awaiting_feedback"] is True
    assert answered.messages.filter(direction=Direction.IN).count() == 2

    recorded = bot_answers_ignored_record(now=timezone.now() + timedelta(days=2))

    assert recorded == 0
    assert _outcomes() == []


def test_the_window_comes_from_the_settings(answered, settings):
    settings.BOT_FEEDBACK_WINDOW_HOURS = 1
    in_two_hours = timezone.now() + timedelta(hours=2)

    assert bot_answers_unanswered(now=in_two_hours) == [answered.pk]
    assert bot_answers_ignored_record(now=in_two_hours) == 1


def test_celery_beat_runs_the_task_that_records_ignored_answers(answered, faq):
    entry = settings.CELERY_BEAT_SCHEDULE["bot-ignored"]
    assert entry["task"] in celery_app.tasks
    # The conversation happened long enough ago.
    Message.objects.filter(ticket=answered).update(
        created_at=F("created_at") - timedelta(hours=settings.BOT_FEEDBACK_WINDOW_HOURS, minutes=5)
    )

    tasks.bot_answers_ignored.delay()

    assert _outcomes() == [("ignored", faq.pk, "app", answered.number)]


def test_after_an_ignored_answer_a_new_question_gets_a_new_answer(
    answered, faq, django_capture_on_commit_callbacks
):
    bot_answers_ignored_record(now=timezone.now() + timedelta(days=2))

    with django_capture_on_commit_callbacks(execute=True):
        intake(user_id="u1", text="钱什么时候退回来")

    answered.refresh_from_db()
    assert answered.messages.filter(is_bot=True).count() == 2
    assert answered.bot_state["awaiting_feedback"] is True
    # The earlier answer was not counted a second time (as a second question).
    assert [outcome for outcome, *_rest in _outcomes()] == ["ignored"]
