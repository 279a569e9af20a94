"""SMS survey answers taken in a drain's batch (`ChannelAdapter.process_many`): the digits
that answer surveys are stored and answered together, and they end exactly as one by one
would leave them; everything else in the batch still goes one by one."""

import logging
from datetime import timedelta

import pytest

from analytics.models import FactDirty
from channels_ingest.models import InboundRecord, InboundState, SmsOptOut
from channels_ingest.pipeline import doorbell
from channels_ingest.pipeline.doorbell import inbound_drain
from feedback.models import Callback, CallbackReason, Survey
from feedback.services import surveys
from feedback.services.callbacks import CallbackDraft, callback_due, callbacks_create_many
from feedback.services.surveys import survey_invite
from tests.feedback.surveys_support import (
    DAYTIME,
    Clock,
    answered_and_resolved,
    configure,
    customer_ticket,
    outbox,  # noqa: F401  (fixture)
    sms_in,
)
from tickets import hooks
from tickets.models import AuditEntry, Message, Status, Ticket
from tickets.services.workflow import ticket_set_status

pytestmark = pytest.mark.usefixtures("outbox")

PHONES = [f"+86139000000{n:02d}" for n in range(1, 8)]
NEW_PHONE = "+8613955556666"


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    return Clock(monkeypatch, DAYTIME)


@pytest.fixture
def surveyed(agent, clock):  # type: ignore[no-untyped-def]
    """One invited SMS survey for each of PHONES, by phone."""
    configure(delay_minutes=0)
    found = {}
    for phone in PHONES:
        ticket = answered_and_resolved(customer_ticket(phone=phone), agent)
        survey = Survey.objects.get(ticket=ticket)
        assert survey_invite(survey_id=survey.pk) is not None
        found[phone] = survey
    clock.set(DAYTIME + timedelta(minutes=10))
    return found


@pytest.fixture
def one_by_one(monkeypatch):  # type: ignore[no-untyped-def]
    """The provider ids the drain took in one at a time."""
    taken: list[str] = []
    original = doorbell.inbound_process_within

    def spy(*, record: InboundRecord):  # type: ignore[no-untyped-def]
        taken.append(record.provider_id)
        return original(record=record)

    monkeypatch.setattr(doorbell, "inbound_process_within", spy)
    return taken


def stored(sid: str, phone: str, body: str) -> InboundRecord:
    return InboundRecord.objects.create(
        channel="sms",
        provider_id=sid,
        payload={"MessageSid": sid, "From": phone, "To": "+8610690000", "Body": body},
        source="+8610690000",
    )


def survey_of(phone: str) -> Survey:
    return Survey.objects.select_related("ticket").get(customer__identities__value=phone)


def test_digits_answering_surveys_are_taken_together_and_the_rest_one_by_one(
    surveyed, agent, one_by_one
):
    p1, p2, p3, p4, p5, p6, p7 = PHONES
    ticket_set_status(ticket=surveyed[p4].ticket, status=Status.OPEN, actor=agent.user)
    sms_in("4", phone=p7)  # p7 has answered already
    tickets_before = Ticket.objects.count()
    for sid, phone, body in [
        ("SM-a", p1, "2"),
        ("SM-b", p2, " ５ "),
        ("SM-c", p3, "7"),  # off the CSAT scale
        ("SM-d", p4, "1"),  # the survey's ticket is open again
        ("SM-e", p5, "3"),  # the same sender twice: order matters
        ("SM-f", p5, "谢谢"),
        ("SM-g", NEW_PHONE, "4"),  # a new sender
        ("SM-h", p6, "TD"),  # an opt-out keyword
        ("SM-i", p7, "1"),  # after the answer: kept on the ticket, changes nothing
    ]:
        stored(sid, phone, body)

    assert inbound_drain(channel="sms") == 9

    assert sorted(one_by_one) == ["SM-c", "SM-d", "SM-e", "SM-f", "SM-g", "SM-h"]
    assert not InboundRecord.objects.exclude(state=InboundState.PROCESSED).exists()
    first, second = survey_of(p1), survey_of(p2)
    assert (first.score, first.answered_via) == (2, "sms")
    assert (second.score, second.answered_via) == (5, "sms")
    for survey, sid in ((first, "SM-a"), (second, "SM-b")):
        message = Message.objects.get(provider_id=sid)
        assert survey.answer_message_id == message.pk
        assert message.ticket_id == survey.ticket_id and message.direction == "in"
        assert InboundRecord.objects.get(provider_id=sid).ticket_number == survey.ticket.number
        assert InboundRecord.objects.get(provider_id=sid).attempts == 1
        assert not Ticket.objects.get(pk=survey.ticket_id).is_open
    callback = Callback.objects.get(survey=first)
    assert (callback.reason, callback.ticket_id) == (CallbackReason.LOW_CSAT, first.ticket_id)
    assert not Callback.objects.filter(survey=second).exists()
    assert FactDirty.objects.filter(ticket_id=first.ticket_id).exists()
    # One by one, as before: off the scale and open-again digits are messages; p5's digit
    # answers and their thanks comes after it.
    assert survey_of(p3).answered_at is None and survey_of(p4).answered_at is None
    assert Message.objects.get(provider_id="SM-d").ticket_id == surveyed[p4].ticket_id
    assert survey_of(p5).score == 3
    assert Message.objects.get(provider_id="SM-f").ticket_id != surveyed[p5].ticket_id
    assert SmsOptOut.objects.filter(phone=p6).exists()
    late = Message.objects.get(provider_id="SM-i")
    assert late.ticket_id == surveyed[p7].ticket_id and survey_of(p7).score == 4
    # New tickets: p3's "7", p5's thanks and the new sender's "4"; nothing else.
    assert Ticket.objects.count() == tickets_before + 3


def test_a_batch_that_fails_is_taken_one_by_one_and_nothing_is_lost(
    surveyed, monkeypatch, one_by_one, caplog
):
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr(surveys, "surveys_answer_many", broken)
    for index, phone in enumerate(PHONES[:3]):
        stored(f"SM-{index}", phone, "5")

    with caplog.at_level(logging.ERROR, logger="kefu.ingest"):
        assert inbound_drain(channel="sms") == 3

    assert "a batch of 3 failed" in caplog.text
    assert sorted(one_by_one) == ["SM-0", "SM-1", "SM-2"]
    for index, phone in enumerate(PHONES[:3]):
        assert survey_of(phone).score == 5
        assert Message.objects.filter(provider_id=f"SM-{index}").count() == 1


def test_an_interceptor_without_a_batch_form_sends_the_whole_batch_one_by_one(surveyed, one_by_one):
    hooks.inbound_interceptor_register("test.plain", lambda customer, inbound: None)
    try:
        stored("SM-1", PHONES[0], "5")
        assert inbound_drain(channel="sms") == 1
    finally:
        hooks.inbound_interceptor_unregister("test.plain")
    assert one_by_one == ["SM-1"]
    assert survey_of(PHONES[0]).score == 5


def test_the_same_survey_answered_by_another_path_meanwhile_keeps_its_first_answer(surveyed):
    survey = survey_of(PHONES[0])
    message = Message.objects.filter(ticket_id=survey.ticket_id).first()
    stale = Survey.objects.select_related("ticket").get(pk=survey.pk)
    surveys.survey_answer(survey=survey, answer=surveys.Answer(score=4), via="email")

    answered = surveys.surveys_answer_many([(stale, surveys.Answer(score=1), message)], via="sms")

    assert answered == []
    survey.refresh_from_db()
    assert (survey.score, survey.answered_via) == (4, "email")
    assert not Callback.objects.exists()


def test_call_backs_made_together_are_due_on_their_teams_calendar_and_audited(surveyed):
    first, second = survey_of(PHONES[0]), survey_of(PHONES[1])
    draft = CallbackDraft(
        ticket=first.ticket, reason=CallbackReason.LOW_CSAT, survey=first, key="survey:x"
    )
    made = callbacks_create_many(
        [
            draft,
            draft,  # the same key twice in one batch: one task
            CallbackDraft(ticket=second.ticket, reason=CallbackReason.LOW_CSAT, note=" 太慢 "),
        ]
    )

    assert len(made) == 2
    now = made[0].created_at
    for callback in made:
        assert callback.due_at == callback_due(team=callback.ticket.team, start=now)
        assert callback.owner_id is None and callback.created_by_id is None
    assert made[1].note == "太慢"
    assert AuditEntry.objects.filter(action="callback_created").count() == 2
    # Again: the key is taken, no second task.
    assert callbacks_create_many([draft]) == []
    assert Callback.objects.count() == 2
