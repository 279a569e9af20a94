"""Triage of one inbound text: category, urgency (with the reasons) and a sentiment score.

- **Category**: the active category model (see `kb.classifier`) when there is one: its most
  probable label if the probability clears the threshold supervisors set, else no category
  (left for a person). Without an active model, keyword rules that supervisors edit.
- **Urgency**: keyword rules (food safety, injury, legal threats, media, system failure,
  payment failure, a stolen account or other security problem), each returned with the words
  that made it fire so the ticket can say "urgent because …"; repeated contact about the
  same issue and, when enabled, a VIP customer or a very negative message are reasons too.
- **Sentiment**: the active sentiment model, else a lexicon (`kb.sentiment`).

Chinese keywords match as substrings (Chinese has no spaces between words); English keywords
match whole words, case-insensitively. Rules, settings and models come from the database and
are cached in-process (`RevisionCache`); `triage_text` never raises: without a database it
falls back to the built-in rules.
"""

import logging
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from kb import sentiment as sentiment_scoring
from kb.classifier import TermCounts
from kb.rules import (
    DEFAULT_CATEGORY_RULES,
    DEFAULT_CONFIG,
    DEFAULT_URGENCY_RULES,
    Category,
    KeywordRule,
    TriageConfig,
)
from kb.text import classifier_features, normalise
from kefu.revisions import RevisionCache

__all__ = [
    "CATEGORY_LABELS",
    "DEFAULT_CATEGORY_RULES",
    "DEFAULT_URGENCY_RULES",
    "URGENCY_LABELS",
    "Category",
    "KeywordRule",
    "Triage",
    "TriageConfig",
    "category_label",
    "complaint_words",
    "triage_text",
    "urgency_reasons",
]

logger = logging.getLogger("kefu.kb")


# The built-in categories, by code, in the reader's language. A category a supervisor adds
# on the triage page is shown by its code.
CATEGORY_LABELS = {
    Category.LOGISTICS: _("Logistics"),
    Category.AFTER_SALES: _("After-sales"),
    Category.TECH: _("Technical problem"),
    Category.VALUE_ADDED: _("Value-added service"),
    Category.COMPLAINT: _("Complaint"),
}


def category_label(code: str) -> str:
    return str(CATEGORY_LABELS.get(code, code))


# Why a ticket is urgent, by rule code; shown on the ticket in the reader's language.
URGENCY_LABELS = {
    "food_safety": _("Food safety"),
    "injury": _("Injury or danger"),
    "legal": _("Legal or regulatory threat"),
    "media": _("Media exposure"),
    "system_failure": _("System failure"),
    "payment_failure": _("Payment failure"),
    "account_security": _("Account stolen or security problem"),
    "vip": _("VIP customer"),
    "repeat_contact": _("Repeated contact about the same issue"),
    "negative_sentiment": _("Very negative message"),
}
KEYWORD_URGENCY_RULES = (
    "food_safety",
    "injury",
    "legal",
    "media",
    "system_failure",
    "payment_failure",
    "account_security",
)


@dataclass(frozen=True)
class Triage:
    category: str | None
    is_urgent: bool
    reasons: list[dict[str, object]] = field(default_factory=list)  # {"rule", "words", …}
    sentiment: float = 0.0  # -1 (very negative) … 1 (very positive)
    # Probability of `category` under the model; None when rules decided (or nothing did).
    category_confidence: float | None = None
    category_source: str = ""  # "model", "rules" or "" (no category)
    # The model's three most probable labels, also when none cleared the threshold.
    category_scores: list[tuple[str, float]] = field(default_factory=list)
    model_version: int | None = None  # the TriageModel id of the category model
    sentiment_source: str = "lexicon"  # "model" or "lexicon"
    sentiment_model_version: int | None = None
    # The words of the complaint rule that fired (empty: not a complaint by its words).
    complaint_words: list[str] = field(default_factory=list)

    @property
    def is_complaint(self) -> bool:
        return self.category == Category.COMPLAINT


def _load_config() -> TriageConfig:
    from kb import selectors

    return selectors.triage_config()


config_cache: RevisionCache[TriageConfig] = RevisionCache(("triage", "kb"), _load_config)


def current_config() -> TriageConfig:
    """The cached configuration, or the built-in one when the database cannot be read."""
    try:
        return config_cache.get()
    except Exception:
        # No database (a test without one, a broken connection): rules still work.
        logger.warning("triage configuration unavailable, using built-in rules", exc_info=True)
        return DEFAULT_CONFIG


# Long messages are cut to their start and end before classification: the gist of a long
# complaint is in its first and last sentences, and time per message stays bounded.
_CLASSIFY_HEAD = 160
_CLASSIFY_TAIL = 80


def _for_classifier(text: str) -> str:
    if len(text) <= _CLASSIFY_HEAD + _CLASSIFY_TAIL:
        return text
    return f"{text[:_CLASSIFY_HEAD]} {text[-_CLASSIFY_TAIL:]}"


def urgency_reasons(text: str, *, config: TriageConfig | None = None) -> list[dict[str, object]]:
    """The keyword urgency rules that fire on `text`, with their words, in rule order."""
    return _urgency_reasons(normalise(text), config or current_config())


def _urgency_reasons(normalised: str, config: TriageConfig) -> list[dict[str, object]]:
    reasons: list[dict[str, object]] = []
    for rule in config.urgency_rules:
        hits = rule.hits(normalised)
        if hits:
            reasons.append({"rule": rule.code, "words": list(dict.fromkeys(hits))})
    return reasons


def _category_by_rules(normalised: str, config: TriageConfig) -> str | None:
    scores: list[tuple[int, int, str]] = []
    for order, rule in enumerate(config.category_rules):
        count = len(rule.hits(normalised))
        if count:
            scores.append((-count, order, rule.code))
    return min(scores)[2] if scores else None


def _complaint_words(normalised: str, config: TriageConfig) -> list[str]:
    """The words of the complaint rule (category code `complaint`) found in the text."""
    for rule in config.category_rules:
        if rule.code == Category.COMPLAINT:
            return list(dict.fromkeys(rule.hits(normalised)))
    return []


def complaint_words(text: str) -> list[str]:
    """The words of the complaint rule found in `text` (empty: its words do not make it a
    complaint). Never raises."""
    try:
        return _complaint_words(normalise(text), current_config())
    except Exception:
        logger.exception("complaint words failed")
        return []


def _triage(text: str, config: TriageConfig, *, is_vip: bool, repeat_contacts: int) -> Triage:
    normalised = normalise(text)
    # Both models take the same features: segment and count them once.
    features = TermCounts.of(
        classifier_features(_for_classifier(text))
        if normalised and (config.category_model or config.sentiment_model)
        else []
    )
    category: str | None = None
    confidence: float | None = None
    source = ""
    top: list[tuple[str, float]] = []
    if config.category_model is not None:
        if normalised:
            probabilities = config.category_model.probabilities_of(features)
            ranked = sorted(probabilities.items(), key=lambda pair: -pair[1])
            top = [(label, round(share, 4)) for label, share in ranked[:3]]
            if ranked[0][1] >= config.category_threshold:
                category, confidence, source = ranked[0][0], round(ranked[0][1], 4), "model"
    else:
        category = _category_by_rules(normalised, config)
        source = "rules" if category else ""
    # A complaint is a ticket type of its own, handled by a supervisor under its own SLA: its
    # words decide over the other categories' counts and over a model, which may have been
    # trained without the label (a model trained with it still finds complaints by itself).
    complaint_words = _complaint_words(normalised, config)
    if complaint_words and category != Category.COMPLAINT:
        category, confidence, source = Category.COMPLAINT, None, "rules"

    reasons = _urgency_reasons(normalised, config)
    keyword_reasons = len(reasons)

    if config.sentiment_model is not None and normalised:
        probabilities = config.sentiment_model.probabilities_of(features)
        score = sentiment_scoring.model_score(probabilities, config.sentiment_polarities)
        sentiment_source = "model"
    else:
        score = sentiment_scoring.lexicon_score(text, extra_negative=keyword_reasons)
        sentiment_source = "lexicon"

    if is_vip and config.vip_is_urgent:
        reasons.append({"rule": "vip", "words": []})
    threshold = config.repeat_contacts_threshold
    if threshold and repeat_contacts >= threshold:
        reasons.append({"rule": "repeat_contact", "words": [], "count": repeat_contacts})
    if config.negative_sentiment_is_urgent and score <= config.negative_sentiment_threshold:
        reasons.append({"rule": "negative_sentiment", "words": [], "score": score})

    return Triage(
        category=category,
        is_urgent=bool(reasons),
        reasons=reasons,
        sentiment=score,
        category_confidence=confidence,
        category_source=source,
        category_scores=top,
        model_version=config.category_model_id,
        sentiment_source=sentiment_source,
        sentiment_model_version=(
            config.sentiment_model_id if sentiment_source == "model" else None
        ),
        complaint_words=complaint_words,
    )


def triage_warm_up() -> None:
    """Load what the first message would otherwise wait for: the triage configuration and
    models, and jieba's dictionary (about a second together). Called when a worker starts."""
    triage_text("您好，我的订单还没到 hello, where is my order")


def triage_text(text: str, *, is_vip: bool = False, repeat_contacts: int = 0) -> Triage:
    """Classify one message. Never raises, on any string (an empty one too) and whatever the
    state of the database or the models: at worst it answers with the built-in rules."""
    text = text if isinstance(text, str) else str(text or "")
    try:
        return _triage(
            text, current_config(), is_vip=is_vip, repeat_contacts=max(0, int(repeat_contacts))
        )
    except Exception:
        logger.exception("triage failed; answering with the built-in rules")
    try:
        return _triage(text, DEFAULT_CONFIG, is_vip=is_vip, repeat_contacts=0)
    except Exception:
        logger.exception("triage with the built-in rules failed")
        return Triage(category=None, is_urgent=False)
