"""SMS survey answers: a digit reply to an SMS survey is the answer, through the core's
intake hook, and reopens nothing and opens nothing; every other reply is a message as usual."""

from datetime import timedelta

import pytest

from feedback.models import Callback, CallbackReason, Survey
from feedback.services.surveys import digit_of, survey_invite
from tests.feedback.surveys_support import (
    DAYTIME,
    PHONE,
    Clock,
    answered_and_resolved,
    configure,
    customer_ticket,
    outbox,  # noqa: F401  (fixture)
    sms_in,
)
from tickets.models import Message, Status, Ticket
from tickets.services.workflow import ticket_set_status

pytestmark = pytest.mark.usefixtures("outbox")


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    return Clock(monkeypatch, DAYTIME)


@pytest.fixture
def invited(agent, clock):  # type: ignore[no-untyped-def]
    """An SMS ticket answered by `agent`, resolved, and its CSAT invitation sent."""
    configure(delay_minutes=0)
    ticket = answered_and_resolved(customer_ticket(), agent)
    survey = Survey.objects.get(ticket=ticket)
    assert survey_invite(survey_id=survey.pk) is not None
    survey.refresh_from_db()
    return survey


def test_a_digit_reply_is_the_rating_and_opens_nothing(invited, clock):
    tickets_before = Ticket.objects.count()
    clock.set(DAYTIME + timedelta(minutes=5))
    result = sms_in("2")

    assert result.ticket.pk == invited.ticket_id and not result.ticket_opened
    invited.refresh_from_db()
    assert (invited.score, invited.answered_via) == (2, "sms")
    assert invited.answer_message_id == result.message.pk
    ticket = Ticket.objects.get(pk=invited.ticket_id)
    assert ticket.status == Status.RESOLVED
    assert Ticket.objects.count() == tickets_before
    assert result.message.body == "2" and result.message.direction == "in"
    # A rating of 2 is a call-back.
    callback = Callback.objects.get(survey=invited)
    assert (callback.reason, callback.ticket_id) == (CallbackReason.LOW_CSAT, ticket.pk)


def test_a_redelivered_digit_reply_is_taken_once(invited):
    first = sms_in("5", provider_id="SM-1")
    again = sms_in("5", provider_id="SM-1")
    assert again.created is False and again.message.pk == first.message.pk
    assert Message.objects.filter(provider_id="SM-1").count() == 1
    invited.refresh_from_db()
    assert invited.score == 5
    assert not Callback.objects.exists()


def test_any_other_reply_is_a_normal_message(invited):
    result = sms_in("快递还是没到，怎么回事")
    invited.refresh_from_db()
    assert invited.answered_at is None
    # Resolved tickets are not threaded into on SMS: the customer's new matter is a ticket.
    assert result.ticket.pk != invited.ticket_id
    assert result.ticket_opened


def test_a_digit_off_the_scale_is_a_normal_message(invited):
    result = sms_in("7")
    invited.refresh_from_db()
    assert invited.answered_at is None
    assert result.ticket.pk != invited.ticket_id


def test_a_digit_on_a_ticket_that_is_open_again_goes_to_the_conversation(invited, agent):
    ticket = Ticket.objects.get(pk=invited.ticket_id)
    ticket_set_status(ticket=ticket, status=Status.OPEN, actor=agent.user)
    result = sms_in("1")
    invited.refresh_from_db()
    assert invited.answered_at is None
    assert result.ticket.pk == ticket.pk and not result.ticket_opened
    assert Ticket.objects.get(pk=ticket.pk).is_open
    assert not Callback.objects.exists()


def test_a_second_digit_after_the_answer_changes_nothing_and_opens_nothing(invited):
    sms_in("4")
    count = Ticket.objects.count()
    result = sms_in("1")
    invited.refresh_from_db()
    assert invited.score == 4
    assert result.ticket.pk == invited.ticket_id
    assert Ticket.objects.count() == count
    assert not Callback.objects.exists()


def test_a_digit_after_the_survey_expired_is_a_normal_message(invited, clock):
    clock.set(DAYTIME + timedelta(days=8))
    result = sms_in("5")
    invited.refresh_from_db()
    assert invited.answered_at is None
    assert result.ticket.pk != invited.ticket_id


def test_another_customers_digit_is_not_taken(invited):
    result = sms_in("5", phone="+8613911112222")
    invited.refresh_from_db()
    assert invited.answered_at is None
    assert result.ticket_opened


def test_a_full_width_digit_counts():
    assert digit_of("４") == 4
    assert digit_of(" 5 ") == 5
    assert digit_of("10") == 10
    assert digit_of("5星") is None
    assert digit_of("1 2") is None
    assert digit_of("") is None


def test_an_nps_survey_takes_zero_to_ten_by_sms(agent, clock):
    configure(delay_minutes=0)
    ticket = answered_and_resolved(customer_ticket(), agent)
    survey = Survey.objects.get(ticket=ticket)
    Survey.objects.filter(pk=survey.pk).update(kind="nps")
    survey_invite(survey_id=survey.pk)
    result = sms_in("0")
    survey.refresh_from_db()
    assert survey.score == 0 and result.ticket.pk == ticket.pk
    assert Callback.objects.get(survey=survey).reason == CallbackReason.DETRACTOR


def test_the_invitation_reaches_the_phone_the_customer_wrote_from(invited):
    message = Message.objects.get(pk=invited.message_id)
    assert message.channel == "sms"
    assert invited.customer.identities.filter(kind="phone", value=PHONE).exists()


def test_a_digit_while_another_sms_conversation_is_open_goes_to_that_conversation(invited):
    other = sms_in("还有一个问题：发票怎么开？")
    assert other.ticket_opened
    result = sms_in("3")
    invited.refresh_from_db()
    assert invited.answered_at is None
    assert result.ticket.pk == other.ticket.pk


def test_a_digit_finds_its_survey_and_any_open_conversation_in_one_statement(
    invited, clock, django_assert_num_queries
):
    from feedback.services.surveys import sms_reply_intercept
    from tickets.inbound import Identity, InboundMessage

    customer = invited.customer
    digit = InboundMessage(
        channel="sms",
        provider_id="SM-one-statement",
        identities=[Identity(kind="phone", value=PHONE)],
        text="4",
    )
    with django_assert_num_queries(1):
        claim = sms_reply_intercept(customer, digit)
    assert claim is not None and claim.ticket.pk == invited.ticket_id

    # An SMS conversation of theirs is open: the same statement says so, and the digit is
    # left to it.
    customer_ticket(text="还有一个问题")
    with django_assert_num_queries(1):
        assert sms_reply_intercept(customer, digit) is None
    # Not a number: no statement at all.
    with django_assert_num_queries(0):
        assert (
            sms_reply_intercept(
                customer,
                InboundMessage(channel="sms", provider_id="SM-text", identities=[], text="谢谢"),
            )
            is None
        )
