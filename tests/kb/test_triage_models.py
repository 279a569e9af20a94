import pytest

from kb import services
from kb.models import ModelTask, RuleKind, TriageModel
from kb.triage import triage_text
from tests.support.triage_samples import (
    CATEGORY_LABELS,
    CATEGORY_TEXTS,
    SENTIMENT_LABELS,
    SENTIMENT_TEXTS,
)

pytestmark = pytest.mark.django_db


def _train(task: str = ModelTask.CATEGORY, name: str = "v1") -> services.TrainResult:
    texts, labels = (
        (CATEGORY_TEXTS, CATEGORY_LABELS)
        if task == ModelTask.CATEGORY
        else (SENTIMENT_TEXTS, SENTIMENT_LABELS)
    )
    return services.triage_model_train(
        task=task, name=name, texts=texts, labels=labels, author=None
    )


def test_an_active_category_model_decides_the_category_with_its_confidence():
    result = _train()

    triage = triage_text("快递还没送到")

    assert triage.category == "delivery"
    assert triage.category_source == "model"
    assert triage.model_version == result.model.pk
    assert triage.category_confidence is not None and triage.category_confidence >= 0.5
    assert triage.category_scores[0][0] == "delivery"


def test_below_the_confidence_threshold_the_category_is_left_for_a_person():
    _train()
    services.triage_settings_update(
        category_threshold=0.99,
        negative_sentiment_is_urgent=False,
        negative_sentiment_threshold=-0.8,
        vip_is_urgent=True,
        repeat_contacts_threshold=2,
    )

    triage = triage_text("快递还没送到")

    assert triage.category is None
    assert triage.category_source == ""
    assert triage.category_scores[0][0] == "delivery"


def test_without_an_active_model_the_keyword_rules_decide():
    _train()
    services.triage_model_deactivate(task=ModelTask.CATEGORY)

    triage = triage_text("快递三天了还没到，物流不动")

    assert triage.category == "logistics"
    assert triage.category_source == "rules"
    assert triage.model_version is None


def test_keyword_rules_edited_by_a_supervisor_take_effect_at_once():
    services.triage_rule_save(
        kind=RuleKind.CATEGORY, code="fresh", words=["榴莲", "durian"], is_active=True, position=0
    )
    services.triage_rule_save(
        kind=RuleKind.URGENCY, code="media", words=["小红书"], is_active=True, position=3
    )

    assert triage_text("榴莲不熟").category == "fresh"
    assert triage_text("I want a durian").category == "fresh"
    assert triage_text("我要发小红书").reasons == [{"rule": "media", "words": ["小红书"]}]
    assert triage_text("我要发微博").is_urgent is False


def test_an_active_sentiment_model_scores_messages():
    result = _train(ModelTask.SENTIMENT)

    positive = triage_text("客服很耐心，很满意")
    negative = triage_text("太差了，非常失望")

    assert positive.sentiment_source == "model"
    assert positive.sentiment_model_version == result.model.pk
    assert positive.sentiment > 0
    assert negative.sentiment < 0


def test_very_negative_messages_are_urgent_only_when_enabled():
    assert triage_text("太差了，垃圾，骗子，非常失望").is_urgent is False
    services.triage_settings_update(
        category_threshold=0.5,
        negative_sentiment_is_urgent=True,
        negative_sentiment_threshold=-0.8,
        vip_is_urgent=False,
        repeat_contacts_threshold=0,
    )

    triage = triage_text("太差了，垃圾，骗子，非常失望")

    assert triage.is_urgent
    assert triage.reasons == [{"rule": "negative_sentiment", "words": [], "score": -1.0}]
    assert triage_text("你好", is_vip=True, repeat_contacts=5).is_urgent is False


def test_an_unreadable_active_model_falls_back_to_the_rules_without_raising():
    result = _train()
    TriageModel.objects.filter(pk=result.model.pk).update(blob=b"not a model")

    triage = triage_text("快递三天了还没到")

    assert triage.category == "logistics"
    assert triage.category_source == "rules"
