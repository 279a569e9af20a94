"""Reads of the knowledge base, the triage configuration and the bot settings."""

import threading
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from kb.classifier import LinearTextModel
from kb.models import (
    Article,
    ArticleCategory,
    ArticleStatus,
    BotChannel,
    DeflectionOutcome,
    DeflectionRecord,
    DictionaryWord,
    ModelTask,
    RuleKind,
    TrainingRun,
    TriageModel,
    TriageRule,
    TriageSettings,
)
from kb.rules import KeywordRule, TriageConfig
from kb.sentiment import label_polarities
from kb.text import dictionary_sync


def triage_settings() -> TriageSettings:
    """The settings row, or the defaults when it was never saved."""
    return TriageSettings.objects.filter(pk=1).first() or TriageSettings(pk=1)


def triage_rules(*, kind: str) -> QuerySet[TriageRule]:
    return TriageRule.objects.filter(kind=kind).order_by("position", "pk")


def dictionary_words() -> list[str]:
    """The retailer's own words: those entered by supervisors and every article tag."""
    words = set(DictionaryWord.objects.values_list("word", flat=True))
    for tags in Article.objects.values_list("tags", flat=True):
        words.update(str(tag) for tag in tags or [])
    return sorted(words)


# Loaded models by TriageModel id: a rule or settings edit rebuilds the triage configuration
# but must not reload (and unpack) megabytes of model again.
_loaded_models: dict[int, LinearTextModel] = {}
_loaded_lock = threading.Lock()


def triage_models_unload() -> None:
    """Forget the models this process loaded; each loads again on its next use (tests start
    every case this way: the rows a model was loaded from are rolled back afterwards)."""
    with _loaded_lock:
        _loaded_models.clear()


def _model(pk: int) -> LinearTextModel:
    with _loaded_lock:
        model = _loaded_models.get(pk)
    if model is None:
        blob = TriageModel.objects.values_list("blob", flat=True).get(pk=pk)
        model = LinearTextModel.from_bytes(bytes(blob))
        with _loaded_lock:
            _loaded_models.clear()  # only the active ones are worth keeping
            _loaded_models[pk] = model
    return model


def triage_config() -> TriageConfig:
    """Everything `triage_text` needs, read in one go (rules, settings, active models)."""
    dictionary_sync(dictionary_words())
    rules = TriageRule.objects.filter(is_active=True).order_by("position", "pk")
    category_rules = [
        KeywordRule.compile(rule.code, list(rule.words))
        for rule in rules
        if rule.kind == RuleKind.CATEGORY
    ]
    urgency_rules = [
        KeywordRule.compile(rule.code, list(rule.words))
        for rule in rules
        if rule.kind == RuleKind.URGENCY
    ]
    settings = triage_settings()
    active = dict(
        TriageModel.objects.filter(is_active=True).values_list("task", "pk").order_by("task")
    )
    category_id = active.get(ModelTask.CATEGORY)
    sentiment_id = active.get(ModelTask.SENTIMENT)
    sentiment_model = _model(sentiment_id) if sentiment_id else None
    return TriageConfig(
        category_rules=category_rules,
        urgency_rules=urgency_rules,
        category_threshold=settings.category_threshold,
        negative_sentiment_is_urgent=settings.negative_sentiment_is_urgent,
        negative_sentiment_threshold=settings.negative_sentiment_threshold,
        vip_is_urgent=settings.vip_is_urgent,
        repeat_contacts_threshold=settings.repeat_contacts_threshold,
        category_model=_model(category_id) if category_id else None,
        category_model_id=category_id,
        sentiment_model=sentiment_model,
        sentiment_model_id=sentiment_id,
        sentiment_polarities=label_polarities(sentiment_model.labels) if sentiment_model else {},
    )


def triage_models(*, task: str | None = None) -> QuerySet[TriageModel]:
    """Model versions without their (large) blobs, newest first."""
    models = TriageModel.objects.defer("blob").select_related("created_by")
    return models.filter(task=task) if task else models


def active_model(*, task: str) -> TriageModel | None:
    return TriageModel.objects.defer("blob").filter(task=task, is_active=True).first()


def training_runs(*, limit: int = 10) -> QuerySet[TrainingRun]:
    return TrainingRun.objects.defer("data").select_related("model", "created_by")[:limit]


def bot_channel(*, channel: str) -> BotChannel | None:
    return BotChannel.objects.filter(channel=channel).first()


# --- knowledge base ------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryCount:
    category: ArticleCategory
    count: int


def public_categories(*, language: str | None) -> list[CategoryCount]:
    """Categories with published articles (in `language`, when given), in their order."""
    condition = Q(articles__status=ArticleStatus.PUBLISHED)
    if language:
        condition &= Q(articles__language=language)
    rows = ArticleCategory.objects.annotate(published=Count("articles", filter=condition))
    return [CategoryCount(row, row.published) for row in rows if row.published]


def public_articles(
    *, category: ArticleCategory | None = None, language: str | None = None
) -> QuerySet[Article]:
    articles = Article.objects.filter(status=ArticleStatus.PUBLISHED).select_related("category")
    if category is not None:
        articles = articles.filter(category=category)
    if language:
        articles = articles.filter(language=language)
    return articles.order_by("title")


def public_article(*, pk: int) -> Article | None:
    return (
        Article.objects.filter(pk=pk, status=ArticleStatus.PUBLISHED)
        .select_related("category")
        .first()
    )


def manage_articles(
    *, status: str = "", language: str = "", category: str = "", query: str = ""
) -> QuerySet[Article]:
    articles = Article.objects.select_related("category")
    if status:
        articles = articles.filter(status=status)
    if language:
        articles = articles.filter(language=language)
    if category:
        articles = articles.filter(category__slug=category)
    if query:
        articles = articles.filter(Q(title__icontains=query) | Q(body__icontains=query))
    return articles


@dataclass(frozen=True)
class IndexRow:
    article_id: int
    version: int
    kind: str
    language: str
    title: str
    questions: list[str]
    body: str
    tags: list[str]


def index_rows() -> list[IndexRow]:
    """What the search index is built from: published articles."""
    rows = Article.objects.filter(status=ArticleStatus.PUBLISHED).values_list(
        "pk", "version", "kind", "language", "title", "questions", "body", "tags"
    )
    return [
        IndexRow(pk, version, kind, language, title, list(questions or []), body, list(tags or []))
        for pk, version, kind, language, title, questions, body, tags in rows.iterator(
            chunk_size=2000
        )
    ]


# --- deflection ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeflectionSummary:
    helpful: int
    handed_off: int
    ignored: int

    @property
    def answered(self) -> int:
        return self.helpful + self.handed_off + self.ignored

    @property
    def deflection_rate(self) -> float | None:
        """Share of bot answers confirmed helpful; None before any answer."""
        return round(self.helpful / self.answered, 4) if self.answered else None


def deflection_summary(
    *, since: datetime | None = None, until: datetime | None = None, channel: str = ""
) -> DeflectionSummary:
    records = DeflectionRecord.objects.all()
    if since is not None:
        records = records.filter(created_at__gte=since)
    if until is not None:
        records = records.filter(created_at__lt=until)
    if channel:
        records = records.filter(channel=channel)
    counts = dict(records.values_list("outcome").annotate(n=Count("pk")).order_by())
    return DeflectionSummary(
        helpful=counts.get(DeflectionOutcome.HELPFUL, 0),
        handed_off=counts.get(DeflectionOutcome.HANDED_OFF, 0),
        ignored=counts.get(DeflectionOutcome.IGNORED, 0),
    )


def article_answers(*, article_ids: list[int]) -> dict[int, str]:
    """Published articles' bodies as text that keeps their formatting (paragraphs, line
    breaks, list markers), by id: what an agent inserts into a reply."""
    from kb.rendering import text_rendering

    rows = Article.objects.filter(pk__in=article_ids, status=ArticleStatus.PUBLISHED)
    return {pk: text_rendering(body) for pk, body in rows.values_list("pk", "body")}
