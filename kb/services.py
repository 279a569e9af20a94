"""Every write of the knowledge base, the triage configuration and the bot settings.

Each write that changes what a process caches (the search index, the triage rules and models)
moves a `Revision` token in the same transaction; processes see the change within a few
seconds of the commit.
"""

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from kb import classifier
from kb.datasets import LabelledRows, read_labelled_csv
from kb.models import (
    Article,
    ArticleCategory,
    ArticleKind,
    ArticleStatus,
    ArticleVersion,
    BotChannel,
    DeflectionOutcome,
    DeflectionRecord,
    DictionaryWord,
    ModelTask,
    RunStatus,
    TrainingRun,
    TriageModel,
    TriageRule,
    TriageSettings,
)
from kefu.revisions import revision_bump

logger = logging.getLogger("kefu.kb")

KB_REVISION = "kb"
TRIAGE_REVISION = "triage"


# --- categories and articles -------------------------------------------------------------


def article_category_save(
    *,
    slug: str,
    name_zh: str,
    name_en: str,
    position: int,
    category: ArticleCategory | None,
) -> ArticleCategory:
    """Create a category (`category=None`) or update `category`."""
    if category is None:
        category = ArticleCategory(slug=slug)
    category.slug = slug
    category.name_zh = name_zh
    category.name_en = name_en
    category.position = position
    category.save()
    revision_bump(key=KB_REVISION)
    return category


@dataclass(frozen=True)
class ArticleContent:
    """What an author writes; the status is set separately (publish/unpublish)."""

    title: str
    body: str
    kind: str = ArticleKind.FAQ
    language: str = "zh-hans"
    category: ArticleCategory | None = None
    questions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


def _clean_list(values: Sequence[str], *, limit: int) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        value = " ".join(str(value).split())
        if value and value not in seen:
            seen[value[:limit]] = None
    return list(seen)


def _snapshot(*, article: Article, author: User | None, note: str) -> ArticleVersion:
    return ArticleVersion.objects.create(
        article=article,
        number=article.version,
        kind=article.kind,
        language=article.language,
        category_slug=article.category.slug if article.category else "",
        title=article.title,
        body=article.body,
        questions=article.questions,
        tags=article.tags,
        status=article.status,
        note=note,
        author=author,
    )


def _apply(article: Article, content: ArticleContent) -> None:
    article.title = content.title.strip()[:300]
    article.body = content.body
    article.kind = content.kind
    article.language = content.language
    article.category = content.category
    article.questions = _clean_list(content.questions, limit=300)
    article.tags = _clean_list(content.tags, limit=50)


@transaction.atomic
def article_create(
    *,
    content: ArticleContent,
    author: User | None,
    status: str = ArticleStatus.DRAFT,
    external_id: str = "",
    note: str = "created",
) -> Article:
    """A new article at version 1 (its first `ArticleVersion`)."""
    article = Article(status=status, version=1, external_id=external_id or _new_external_id())
    _apply(article, content)
    if status == ArticleStatus.PUBLISHED:
        article.published_at = timezone.now()
    article.save()
    _snapshot(article=article, author=author, note=note)
    revision_bump(key=KB_REVISION)
    return article


def _new_external_id() -> str:
    return f"kb-{uuid.uuid4().hex[:12]}"


def _same_content(article: Article, content: ArticleContent) -> bool:
    probe = Article(
        title=article.title,
        body=article.body,
        kind=article.kind,
        language=article.language,
        category=article.category,
        questions=article.questions,
        tags=article.tags,
    )
    _apply(probe, content)
    return (
        probe.title == article.title
        and probe.body == article.body
        and probe.kind == article.kind
        and probe.language == article.language
        and probe.category_id == article.category_id
        and probe.questions == article.questions
        and probe.tags == article.tags
    )


@transaction.atomic
def article_update(
    *,
    article: Article,
    content: ArticleContent,
    author: User | None,
    note: str = "edited",
) -> Article:
    """Save new content as the next version. Saving unchanged content makes no version."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    if _same_content(article, content):
        return article
    _apply(article, content)
    article.version += 1
    article.save()
    _snapshot(article=article, author=author, note=note)
    revision_bump(key=KB_REVISION)
    return article


@transaction.atomic
def article_set_status(*, article: Article, status: str, author: User | None) -> Article:
    """Publish or unpublish; recorded as a version with a note."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status == status:
        return article
    article.status = status
    if status == ArticleStatus.PUBLISHED:
        article.published_at = timezone.now()
    article.version += 1
    article.save(update_fields=["status", "published_at", "version", "updated_at"])
    _snapshot(article=article, author=author, note=str(status))
    revision_bump(key=KB_REVISION)
    return article


@transaction.atomic
def article_restore(*, article: Article, version: ArticleVersion, author: User | None) -> Article:
    """Make an earlier version's content current again (as a new version)."""
    if version.article_id != article.pk:
        raise ValueError("that version belongs to another article")
    category = ArticleCategory.objects.filter(slug=version.category_slug).first()
    content = ArticleContent(
        title=version.title,
        body=version.body,
        kind=version.kind,
        language=version.language,
        category=category,
        questions=tuple(version.questions),
        tags=tuple(version.tags),
    )
    return article_update(
        article=article, content=content, author=author, note=f"restored v{version.number}"
    )


@dataclass(frozen=True)
class ImportRow:
    external_id: str
    content: ArticleContent  # its category is ignored: category_slug names it
    status: str
    category_slug: str = ""


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


@transaction.atomic
def articles_import(*, rows: Sequence[ImportRow], author: User | None) -> ImportResult:
    """Create or update articles by external id, all or nothing. Categories named by slug are
    created when new."""
    created = updated = unchanged = 0
    existing = {
        a.external_id: a
        for a in Article.objects.filter(
            external_id__in=[r.external_id for r in rows if r.external_id]
        )
    }
    for row in rows:
        content = replace(row.content, category=category_for_import(slug=row.category_slug))
        article = existing.get(row.external_id) if row.external_id else None
        if article is None:
            article = article_create(
                content=content,
                author=author,
                status=row.status,
                external_id=row.external_id,
                note="imported",
            )
            if row.external_id:
                existing[row.external_id] = article
            created += 1
            continue
        before = article.version
        article = article_update(article=article, content=content, author=author, note="imported")
        if article.status != row.status:
            article = article_set_status(article=article, status=row.status, author=author)
        existing[row.external_id] = article
        if article.version == before:
            unchanged += 1
        else:
            updated += 1
    return ImportResult(created=created, updated=updated, unchanged=unchanged)


def category_for_import(*, slug: str) -> ArticleCategory | None:
    """The category named by an import row, created (named after its slug) when new."""
    slug = slugify(slug.strip(), allow_unicode=True)[:60]
    if not slug:
        return None
    category, was_created = ArticleCategory.objects.get_or_create(
        slug=slug, defaults={"name_zh": slug, "name_en": slug}
    )
    if was_created:
        revision_bump(key=KB_REVISION)
    return category


_WORD_SPLIT = re.compile(r"[\s,，、;；]+")


@transaction.atomic
def dictionary_words_set(*, text: str) -> list[str]:
    """Replace the retailer dictionary with the words in `text` (separated by spaces, commas or
    new lines)."""
    words = sorted({w.strip()[:50] for w in _WORD_SPLIT.split(text) if len(w.strip()) >= 2})
    DictionaryWord.objects.exclude(word__in=words).delete()
    DictionaryWord.objects.bulk_create(
        [DictionaryWord(word=w) for w in words], ignore_conflicts=True
    )
    revision_bump(key=KB_REVISION)
    return words


# --- triage rules and settings ---------------------------------------------------------------


def split_words(text: str) -> list[str]:
    """Keywords from a textarea: one per line or separated by commas (English phrases keep
    their spaces)."""
    parts = re.split(r"[\n,，、;；]+", text)
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))


@transaction.atomic
def triage_rule_save(
    *, kind: str, code: str, words: list[str], is_active: bool, position: int
) -> TriageRule:
    """Create or replace the rule for (kind, code)."""
    rule, _created = TriageRule.objects.update_or_create(
        kind=kind,
        code=code,
        defaults={"words": words, "is_active": is_active, "position": position},
    )
    revision_bump(key=TRIAGE_REVISION)
    return rule


@transaction.atomic
def triage_rule_delete(*, rule: TriageRule) -> None:
    rule.delete()
    revision_bump(key=TRIAGE_REVISION)


@transaction.atomic
def triage_settings_update(
    *,
    category_threshold: float,
    negative_sentiment_is_urgent: bool,
    negative_sentiment_threshold: float,
    vip_is_urgent: bool,
    repeat_contacts_threshold: int,
) -> TriageSettings:
    settings, _created = TriageSettings.objects.update_or_create(
        pk=1,
        defaults={
            "category_threshold": category_threshold,
            "negative_sentiment_is_urgent": negative_sentiment_is_urgent,
            "negative_sentiment_threshold": negative_sentiment_threshold,
            "vip_is_urgent": vip_is_urgent,
            "repeat_contacts_threshold": repeat_contacts_threshold,
        },
    )
    revision_bump(key=TRIAGE_REVISION)
    return settings


# --- models --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainResult:
    model: TriageModel
    evaluation: classifier.Evaluation
    activated: bool
    # The accuracy of the model that was active, on the same held-out rows (None: there was
    # none, or its labels share nothing with the new data).
    current_accuracy: float | None


def triage_model_train(
    *,
    task: str,
    name: str,
    texts: Sequence[str],
    labels: Sequence[str],
    author: User | None,
) -> TrainResult:
    """Train a model version on a stratified 80 % and evaluate it on the held-out 20 %.

    It replaces the active model of its task only if it scores at least as well as that model
    on the same held-out rows (accuracy, then macro-F1); otherwise it is kept, inactive, with
    a note saying why, and a supervisor can still activate it by hand.
    """
    if task not in ModelTask.values:
        raise ValueError(f"unknown task {task!r}")
    model, evaluation = classifier.train_and_evaluate(texts, labels)
    _train_rows, test_rows = classifier.stratified_split(labels)
    current = TriageModel.objects.filter(task=task, is_active=True).first()
    current_evaluation = None
    if current is not None:
        try:
            loaded = classifier.LinearTextModel.from_bytes(bytes(current.blob))
            current_evaluation = classifier.evaluate(
                loaded,
                [texts[i] for i in test_rows],
                [labels[i] for i in test_rows],
                n_train=current.n_train,
            )
        except ValueError:
            logger.warning("active %s model %s cannot be read; replacing it", task, current.pk)
    better = current_evaluation is None or (evaluation.accuracy, evaluation.macro_f1) >= (
        current_evaluation.accuracy,
        current_evaluation.macro_f1,
    )
    if current is None:
        note = ""
    elif current_evaluation is None:
        note = "the active model could not be evaluated"
    elif better:
        note = f"replaced #{current.pk} (accuracy {current_evaluation.accuracy} on the same rows)"
    else:
        note = (
            f"not activated: the active model #{current.pk} scores "
            f"{current_evaluation.accuracy} on the same held-out rows"
        )
    with transaction.atomic():
        stored = TriageModel.objects.create(
            name=name[:100] or f"{task} {timezone.localdate().isoformat()}",
            task=task,
            blob=model.to_bytes(),
            labels=model.labels,
            n_train=evaluation.n_train,
            n_test=evaluation.n_test,
            metrics=evaluation.as_metrics(),
            note=note[:300],
            created_by=author,
        )
        if better:
            stored = triage_model_activate(model=stored)
    return TrainResult(
        model=stored,
        evaluation=evaluation,
        activated=better,
        current_accuracy=current_evaluation.accuracy if current_evaluation else None,
    )


@transaction.atomic
def triage_model_activate(*, model: TriageModel) -> TriageModel:
    """Make `model` the active one of its task (rolling back is activating an older one)."""
    # Lock the task's rows so two activations cannot both leave a model active (the partial
    # unique index would refuse the second anyway).
    list(TriageModel.objects.select_for_update().filter(task=model.task).values_list("pk"))
    TriageModel.objects.filter(task=model.task, is_active=True).exclude(pk=model.pk).update(
        is_active=False
    )
    TriageModel.objects.filter(pk=model.pk).update(is_active=True, activated_at=timezone.now())
    revision_bump(key=TRIAGE_REVISION)
    model.refresh_from_db(fields=["is_active", "activated_at"])
    return model


@transaction.atomic
def triage_model_deactivate(*, task: str) -> None:
    """No model for `task`: category falls back to keyword rules, sentiment to the lexicon."""
    TriageModel.objects.filter(task=task, is_active=True).update(is_active=False)
    revision_bump(key=TRIAGE_REVISION)


@transaction.atomic
def triage_model_rollback(*, task: str) -> TriageModel | None:
    """Activate the model that was active before the current one; None if there is none."""
    current = TriageModel.objects.filter(task=task, is_active=True).first()
    earlier = TriageModel.objects.filter(task=task, is_active=False, activated_at__isnull=False)
    if current is not None and current.activated_at is not None:
        earlier = earlier.filter(activated_at__lt=current.activated_at)
    previous = earlier.order_by("-activated_at", "-pk").first()
    if previous is None:
        return None
    return triage_model_activate(model=previous)


# --- training runs (the triage page's uploads) ------------------------------------------------


def training_run_create(
    *,
    task: str,
    name: str,
    data: bytes,
    text_column: str,
    label_column: str,
    author: User | None,
) -> TrainingRun:
    """Store an uploaded CSV and queue its training after commit."""
    from kb.tasks import training_run_execute_task

    run = TrainingRun.objects.create(
        task=task,
        name=name,
        data=data,
        text_column=text_column,
        label_column=label_column,
        created_by=author,
    )
    transaction.on_commit(lambda: training_run_execute_task.delay(run.pk))
    return run


def training_run_execute(*, run_id: int) -> TrainingRun | None:
    """Train the run's CSV. Claims the run first (queued → running), so a task delivered twice
    trains once; returns None when another worker has it."""
    claimed = TrainingRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING
    )
    if not claimed:
        return None
    run = TrainingRun.objects.get(pk=run_id)
    try:
        rows: LabelledRows = read_labelled_csv(
            bytes(run.data), text_column=run.text_column, label_column=run.label_column
        )
        result = triage_model_train(
            task=run.task,
            name=run.name,
            texts=rows.texts,
            labels=rows.labels,
            author=run.created_by,
        )
    except Exception as error:
        if not isinstance(error, ValueError):
            logger.exception("training run %s failed", run_id)
        TrainingRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now(), data=b""
        )
    else:
        TrainingRun.objects.filter(pk=run_id).update(
            status=RunStatus.DONE, model=result.model, finished_at=timezone.now(), data=b""
        )
    run.refresh_from_db()
    return run


# --- bot ---------------------------------------------------------------------------------


@transaction.atomic
def bot_channel_update(*, channel: str, is_enabled: bool, threshold: float) -> BotChannel:
    setting, _created = BotChannel.objects.update_or_create(
        channel=channel, defaults={"is_enabled": is_enabled, "threshold": threshold}
    )
    return setting


def deflection_record(
    *, article_id: int | None, channel: str, outcome: str, reference: str
) -> DeflectionRecord:
    """Record what became of a bot answer in the conversation `reference` (a ticket number):
    confirmed helpful, handed off to a person, or ignored. Recording the same outcome twice
    (a retried task) keeps one record."""
    if outcome not in DeflectionOutcome.values:
        raise ValueError(f"unknown deflection outcome {outcome!r}")
    # An article deleted since still leaves its outcome counted (without the article).
    article = Article.objects.filter(pk=article_id).first() if article_id is not None else None
    record, _created = DeflectionRecord.objects.get_or_create(
        channel=channel, reference=reference[:64], article=article, outcome=outcome
    )
    return record
