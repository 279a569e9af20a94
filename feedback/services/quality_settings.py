"""The pre-checks' word lists and thresholds, each team's sampling rule, and the reviewers
supervisors name."""

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from feedback.models import QualitySettings, Reviewer, SamplingRule, Scorecard
from tickets.models import Team
from tickets.services.audit import audit_record

DEFAULT_GREETINGS_ZH = ["您好", "你好", "很高兴为您服务", "感谢您的耐心等待", "亲"]
DEFAULT_GREETINGS_EN = [
    "hello",
    "hi",
    "good morning",
    "good afternoon",
    "good evening",
    "dear",
    "thank you for contacting",
    "thanks for reaching out",
]
DEFAULT_FORBIDDEN = [
    "不归我管",
    "你自己看",
    "没办法",
    "爱买不买",
    "听不懂吗",
    "不知道",
    "not my problem",
    "calm down",
    "your fault",
    "i don't know",
]


def quality_settings() -> QualitySettings:
    """The one settings row, made with the default lists the first time it is asked for
    (the constraint holds it to one row; a racing creator finds the other's)."""
    found = QualitySettings.objects.filter(pk=1).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return QualitySettings.objects.create(
                pk=1,
                greetings_zh=DEFAULT_GREETINGS_ZH,
                greetings_en=DEFAULT_GREETINGS_EN,
                forbidden_phrases=DEFAULT_FORBIDDEN,
            )
    except IntegrityError:
        return QualitySettings.objects.get(pk=1)


def _clean(words: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for word in words:
        word = word.strip()
        if word and word not in seen:
            seen.append(word)
    return seen


def quality_settings_update(
    *,
    greetings_zh: Sequence[str],
    greetings_en: Sequence[str],
    forbidden_phrases: Sequence[str],
    silence_minutes: int,
    sentiment_drop: float,
    actor: User,
) -> QualitySettings:
    row = quality_settings()
    row.greetings_zh = _clean(greetings_zh)
    row.greetings_en = _clean(greetings_en)
    row.forbidden_phrases = _clean(forbidden_phrases)
    row.silence_minutes = silence_minutes
    row.sentiment_drop = sentiment_drop
    row.save()
    audit_record(
        actor=actor,
        action="quality_settings_changed",
        object_type="quality_settings",
        object_id="1",
        data={"silence_minutes": silence_minutes, "sentiment_drop": sentiment_drop},
    )
    return row


def sampling_rule_save(
    *,
    team: Team,
    scorecard: Scorecard,
    random_percent: int,
    complaints: bool,
    low_csat: bool,
    sla_breached: bool,
    keywords: Sequence[str],
    is_active: bool,
) -> SamplingRule:
    rule, _created = SamplingRule.objects.update_or_create(
        team=team,
        defaults={
            "scorecard": scorecard,
            "random_percent": random_percent,
            "complaints": complaints,
            "low_csat": low_csat,
            "sla_breached": sla_breached,
            "keywords": _clean(keywords),
            "is_active": is_active,
        },
    )
    return rule


def reviewer_name(*, user: User, actor: User) -> Reviewer:
    reviewer, created = Reviewer.objects.get_or_create(user=user, defaults={"named_by": actor})
    if created:
        audit_record(
            actor=actor,
            action="quality_reviewer_named",
            object_type="user",
            object_id=str(user.pk),
            data={},
        )
    return reviewer


def reviewer_remove(*, user: User, actor: User) -> None:
    deleted, _rows = Reviewer.objects.filter(user=user).delete()
    if deleted:
        audit_record(
            actor=actor,
            action="quality_reviewer_removed",
            object_type="user",
            object_id=str(user.pk),
            data={},
        )
