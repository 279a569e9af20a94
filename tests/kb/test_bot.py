import pytest

from kb import services
from kb.bot import DecisionKind, HandoffReason, bot_reply, feedback_of
from kb.models import DeflectionOutcome, DeflectionRecord
from tests.kb.factories import make_faq_set

pytestmark = pytest.mark.django_db


def test_a_confident_match_is_answered_with_a_did_this_help_follow_up():
    faq = make_faq_set()

    decision = bot_reply(text="退款多久到账？", channel="chat", state={})

    assert decision.kind == DecisionKind.ANSWER
    assert decision.article_id == faq["refund"].pk
    assert decision.answer == "退款审核通过后原路退回，一般1-3个工作日到账。"
    assert decision.follow_up == "以上回答对您有帮助吗？请回复“是”或“否”。"
    assert decision.text == f"{decision.answer}\n\n{decision.follow_up}"
    assert decision.confidence >= 0.4
    assert decision.state == {
        "language": "zh-hans",
        "answered": 1,
        "last_article": faq["refund"].pk,
        "awaiting_feedback": True,
    }
    assert decision.deflection_outcome == ""


def test_english_questions_get_english_answers_and_follow_up():
    faq = make_faq_set()

    decision = bot_reply(text="I forgot my password", channel="app", state={})

    assert decision.kind == DecisionKind.ANSWER
    assert decision.article_id == faq["password"].pk
    assert decision.follow_up == "Did this answer help? Please reply yes or no."


def test_yes_closes_the_loop_and_counts_as_deflected():
    faq = make_faq_set()
    first = bot_reply(text="退款多久到账", channel="chat", state={})

    decision = bot_reply(text="有帮助，谢谢！", channel="chat", state=first.state)

    assert decision.kind == DecisionKind.RESOLVED
    assert decision.text == "很高兴能帮到您！如还有其他问题，随时联系我们。"
    assert decision.deflection_outcome == DeflectionOutcome.HELPFUL
    assert decision.deflection_article_id == faq["refund"].pk
    assert decision.state["awaiting_feedback"] is False


def test_no_hands_off_as_not_helpful():
    faq = make_faq_set()
    first = bot_reply(text="退款多久到账", channel="chat", state={})

    decision = bot_reply(text="没有帮助", channel="chat", state=first.state)

    assert decision.kind == DecisionKind.HANDOFF
    assert decision.reason == HandoffReason.NOT_HELPFUL
    assert decision.deflection_outcome == DeflectionOutcome.HANDED_OFF
    assert decision.deflection_article_id == faq["refund"].pk
    assert decision.state["handed_off"] is True


def test_a_request_for_a_person_hands_off_at_once():
    make_faq_set()

    for text in ["转人工", "我要人工客服", "Can I talk to a human?", "agent please"]:
        decision = bot_reply(text=text, channel="chat", state={})
        assert (decision.kind, decision.reason) == (
            DecisionKind.HANDOFF,
            HandoffReason.ASKED_FOR_HUMAN,
        )
        assert decision.deflection_outcome == ""


def test_urgent_messages_go_to_a_person_even_when_an_answer_exists():
    make_faq_set()

    decision = bot_reply(text="退款多久到账？孩子喝了过期牛奶拉肚子", channel="chat", state={})

    assert (decision.kind, decision.reason) == (DecisionKind.HANDOFF, HandoffReason.URGENT)
    assert decision.text == "您反映的问题很重要，已为您优先转接人工客服，请稍候。"


def test_a_second_question_before_feedback_hands_off_and_the_answer_counts_as_ignored():
    faq = make_faq_set()
    first = bot_reply(text="退款多久到账", channel="chat", state={})

    decision = bot_reply(text="怎么查物流", channel="chat", state=first.state)

    assert (decision.kind, decision.reason) == (
        DecisionKind.HANDOFF,
        HandoffReason.SECOND_QUESTION,
    )
    assert decision.text == ""
    assert decision.suggestions[0].article_id == faq["track"].pk
    assert decision.deflection_outcome == DeflectionOutcome.IGNORED


def test_below_the_threshold_the_bot_stays_quiet_and_attaches_suggestions():
    faq = make_faq_set()
    services.bot_channel_update(channel="chat", is_enabled=True, threshold=0.99)

    decision = bot_reply(text="退款的钱一般要等多久才会退回来", channel="chat", state={})

    assert (decision.kind, decision.reason) == (
        DecisionKind.HANDOFF,
        HandoffReason.LOW_CONFIDENCE,
    )
    assert decision.text == ""
    assert decision.suggestions[0].article_id == faq["refund"].pk


def test_the_bot_is_silent_on_email_and_after_a_handoff():
    make_faq_set()

    email = bot_reply(text="退款多久到账", channel="email", state={})
    after = bot_reply(text="退款多久到账", channel="chat", state={"handed_off": True})
    empty = bot_reply(text="", channel="chat", state={})

    assert [email.kind, after.kind, empty.kind] == [DecisionKind.SILENT] * 3
    assert [email.text, after.text, empty.text] == ["", "", ""]


def test_feedback_words_are_told_apart_from_new_questions():
    assert [feedback_of(t) for t in ["是", "有帮助", "好的谢谢", "yes!", "Thanks", "不错"]] == [
        True
    ] * 6
    assert [feedback_of(t) for t in ["否", "没有帮助", "没用", "不是", "no", "didn't help"]] == [
        False
    ] * 6
    assert feedback_of("怎么查物流") is None
    assert feedback_of("Where is my order?") is None


def test_deflection_is_recorded_once_per_outcome():
    faq = make_faq_set()

    first = services.deflection_record(
        article_id=faq["refund"].pk, channel="chat", outcome="helpful", reference="T-1"
    )
    again = services.deflection_record(
        article_id=faq["refund"].pk, channel="chat", outcome="helpful", reference="T-1"
    )

    assert first.pk == again.pk
    assert DeflectionRecord.objects.count() == 1
    with pytest.raises(ValueError, match="unknown deflection outcome"):
        services.deflection_record(article_id=None, channel="chat", outcome="x", reference="T-1")
