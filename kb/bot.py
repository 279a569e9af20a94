"""The answer bot: decides, for one customer message, whether the bot answers, hands the
conversation to a person, or says nothing.

`bot_reply` is a decision, not an action: it writes nothing. The core keeps a small state dict
per conversation, passes it in with each inbound message, stores `decision.state` back, sends
`decision.text` (when not empty) as a bot message, and records `decision.deflection_outcome`
(when set) with `kb.services.deflection_record`.

The conversation, in short:

1. A request for a person (转人工, 人工, human, agent …) hands off at once.
2. Urgent words (food safety, injury, legal, media) hand off at once: those need a person.
3. After a bot answer, "no"/"没用" hands off (not helpful); "yes"/"有帮助" closes the loop
   (resolved); any other message is a second question while the first is still unconfirmed,
   which hands off too.
4. Otherwise the best FAQ match answers if its confidence clears the channel's threshold,
   followed by "有帮助吗？"; below it the bot stays quiet and the conversation goes to a person
   with the suggestions attached (handoff, reason low_confidence, no text).

Messages to the customer are in the customer's language (that of their message), not the
interface language, so they are written here in both languages rather than translated.
"""

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from kb import selectors
from kb.models import DeflectionOutcome
from kb.search import Hit, search
from kb.text import EN, ZH, language_of, normalise
from kb.triage import urgency_reasons

logger = logging.getLogger("kefu.kb")


class DecisionKind:
    ANSWER = "answer"
    HANDOFF = "handoff"
    RESOLVED = "resolved"  # the customer confirmed the answer helped
    SILENT = "silent"


class HandoffReason:
    ASKED_FOR_HUMAN = "asked_for_human"
    NOT_HELPFUL = "not_helpful"
    SECOND_QUESTION = "second_question"
    URGENT = "urgent"
    LOW_CONFIDENCE = "low_confidence"


# Channels the bot speaks on unless a BotChannel row says otherwise. Email and phone are
# answered by people: an email thread with a bot's FAQ answer reads as a brush-off.
DEFAULT_THRESHOLDS = {"app": 0.4, "chat": 0.4, "sms": 0.45, "web": 0.35}

FOLLOW_UP = {
    ZH: "以上回答对您有帮助吗？请回复“是”或“否”。",
    EN: "Did this answer help? Please reply yes or no.",
}
HANDOFF_TEXT = {
    ZH: "好的，正在为您转接人工客服，请稍候。",
    EN: "Sure, we are connecting you to a member of our team. Please hold on.",
}
URGENT_TEXT = {
    ZH: "您反映的问题很重要，已为您优先转接人工客服，请稍候。",
    EN: "This is important to us: a member of our team will take over right away.",
}
NOT_HELPFUL_TEXT = {
    ZH: "抱歉没能帮到您，正在为您转接人工客服，请稍候。",
    EN: "Sorry that did not help. We are connecting you to a member of our team.",
}
RESOLVED_TEXT = {
    ZH: "很高兴能帮到您！如还有其他问题，随时联系我们。",
    EN: "Glad it helped! Write to us any time if there is anything else.",
}

_HUMAN_ZH = (
    "转人工",
    "人工客服",
    "人工服务",
    "人工",
    "真人",
    "客服人员",
    "找客服",
    "活人",
    "接线员",
)
_HUMAN_EN = re.compile(
    r"\b(human|agent|real person|a person|someone|representative|operator|staff member|"
    r"speak to (?:a |an )?(?:person|manager|agent)|talk to (?:a |an )?(?:person|manager|agent))\b"
)
_YES_EN = re.compile(
    r"^(yes|y|yeah|yep|yup|ok|okay|sure|thanks|thank you|thx|helpful|solved|it helped|"
    r"that helped|great|perfect|got it)\b"
)
_NO_EN = re.compile(
    r"^(no|n|nope|not really|not helpful|didn'?t help|did not help|doesn'?t help|"
    r"that doesn'?t help|useless|not solved)\b"
)
# Checked before the yes words: "没有帮助" contains "有帮助".
_NO_ZH_PREFIXES = (
    "没有帮助", "没帮助", "没帮到", "没用", "没有用", "不是", "不行", "不对", "没解决",
    "没有解决", "不能解决", "不满意", "不太", "否", "并没有", "还是不", "还是没",
)  # fmt: skip
_NO_ZH = {"不", "没", "没有", "无用"}
_YES_ZH_PREFIXES = (
    "有帮助", "有用", "解决了", "谢谢", "感谢", "是的", "好的", "可以了", "明白了",
    "知道了", "不错", "懂了", "清楚了", "收到",
)  # fmt: skip
_YES_ZH = {"是", "有", "有的", "好", "对", "嗯", "可以", "行", "对的", "嗯嗯"}
_PUNCTUATION = re.compile(r"[\s，。！？!?,.~…、：:；;\"“”（）()]+")


@dataclass(frozen=True)
class BotDecision:
    kind: str  # DecisionKind
    state: dict[str, Any]  # store it: the next call for this conversation takes it
    text: str = ""  # the bot message to send the customer; empty: send nothing
    reason: str = ""  # HandoffReason, for handoffs
    article_id: int | None = None  # the article answered with
    answer: str = ""  # its plain-text answer (also contained in `text`)
    confidence: float = 0.0
    follow_up: str = ""  # "did this help?", also at the end of `text`
    suggestions: list[Hit] = field(default_factory=list)  # for the agent taking over
    language: str = ZH
    # To record with deflection_record (with the article the bot had answered with).
    deflection_outcome: str = ""
    deflection_article_id: int | None = None


def asks_for_human(text: str) -> bool:
    normalised = normalise(text)
    return any(word in normalised for word in _HUMAN_ZH) or bool(_HUMAN_EN.search(normalised))


def feedback_of(text: str) -> bool | None:
    """True for a yes, False for a no, None when the message is neither (a new question)."""
    bare = _PUNCTUATION.sub(" ", normalise(text)).strip()
    if not bare or len(bare) > 30:
        return None
    if bare.isascii():
        if _NO_EN.match(bare):
            return False
        return True if _YES_EN.match(bare) else None
    compact = bare.replace(" ", "")
    if len(compact) > 12:
        return None
    if compact in _NO_ZH or compact.startswith(_NO_ZH_PREFIXES):
        return False
    if compact in _YES_ZH or compact.startswith(_YES_ZH_PREFIXES):
        return True
    return None


def _text(messages: dict[str, str], language: str) -> str:
    return messages.get(language, messages[ZH])


def bot_reply(*, text: str, channel: str, state: dict[str, Any]) -> BotDecision:
    """Decide what the bot does with one inbound message on `channel`. Pure apart from reading
    the KB and the channel settings; never raises (a failure is a silent decision, which
    leaves the conversation to people)."""
    state = dict(state or {})
    try:
        return _decide(text=text or "", channel=channel, state=state)
    except Exception:
        logger.exception("bot decision failed; leaving the conversation to people")
        return BotDecision(kind=DecisionKind.SILENT, state=state)


def _handoff(
    *,
    state: dict[str, Any],
    reason: str,
    language: str,
    text: str = "",
    suggestions: list[Hit] | None = None,
) -> BotDecision:
    awaiting = state.get("awaiting_feedback", False)
    last = state.get("last_article")
    if reason == HandoffReason.SECOND_QUESTION:
        outcome = DeflectionOutcome.IGNORED
    else:
        outcome = DeflectionOutcome.HANDED_OFF
    new_state = {**state, "awaiting_feedback": False, "handed_off": True}
    return BotDecision(
        kind=DecisionKind.HANDOFF,
        state=new_state,
        text=text,
        reason=reason,
        suggestions=suggestions or [],
        language=language,
        # Only a bot answer can be deflected; a handoff before any answer is not recorded.
        deflection_outcome=outcome if awaiting and last else "",
        deflection_article_id=last if awaiting and last else None,
    )


def _decide(*, text: str, channel: str, state: dict[str, Any]) -> BotDecision:
    language = language_of(text) if text.strip() else state.get("language", ZH)
    state["language"] = language
    if state.get("handed_off"):
        return BotDecision(kind=DecisionKind.SILENT, state=state, language=language)
    setting = selectors.bot_channel(channel=channel)
    if setting is not None:
        enabled, threshold = setting.is_enabled, setting.threshold
    else:
        enabled = channel in DEFAULT_THRESHOLDS
        threshold = DEFAULT_THRESHOLDS.get(channel, 1.0)
    if not enabled or not text.strip():
        return BotDecision(kind=DecisionKind.SILENT, state=state, language=language)

    if asks_for_human(text):
        return _handoff(
            state=state,
            reason=HandoffReason.ASKED_FOR_HUMAN,
            language=language,
            text=_text(HANDOFF_TEXT, language),
            suggestions=_suggestions(text, state),
        )
    if urgency_reasons(text):
        return _handoff(
            state=state,
            reason=HandoffReason.URGENT,
            language=language,
            text=_text(URGENT_TEXT, language),
            suggestions=_suggestions(text, state),
        )
    if state.get("awaiting_feedback"):
        feedback = feedback_of(text)
        if feedback is False:
            return _handoff(
                state=state,
                reason=HandoffReason.NOT_HELPFUL,
                language=language,
                text=_text(NOT_HELPFUL_TEXT, language),
                suggestions=_suggestions(text, state),
            )
        if feedback is True:
            return BotDecision(
                kind=DecisionKind.RESOLVED,
                state={**state, "awaiting_feedback": False},
                text=_text(RESOLVED_TEXT, language),
                article_id=state.get("last_article"),
                language=language,
                deflection_outcome=DeflectionOutcome.HELPFUL,
                deflection_article_id=state.get("last_article"),
            )
        return _handoff(
            state=state,
            reason=HandoffReason.SECOND_QUESTION,
            language=language,
            suggestions=_suggestions(text, state),
        )

    hits = search(text, limit=3)
    best = hits[0] if hits else None
    if best is None or best.confidence < threshold:
        return _handoff(
            state=state, reason=HandoffReason.LOW_CONFIDENCE, language=language, suggestions=hits
        )
    follow_up = _text(FOLLOW_UP, language)
    return BotDecision(
        kind=DecisionKind.ANSWER,
        state={
            **state,
            "answered": int(state.get("answered", 0)) + 1,
            "last_article": best.article_id,
            "awaiting_feedback": True,
        },
        text=f"{best.answer}\n\n{follow_up}",
        article_id=best.article_id,
        answer=best.answer,
        confidence=best.confidence,
        follow_up=follow_up,
        suggestions=hits,
        language=language,
    )


def _suggestions(text: str, state: dict[str, Any]) -> list[Hit]:
    try:
        return search(text, limit=3)
    except Exception:
        logger.exception("suggestions for a handoff failed")
        return []
