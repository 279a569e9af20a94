"""Knowledge base, triage configuration and classifier versions, bot settings, deflection."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    ZH = "zh-hans", "简体中文"
    EN = "en", "English"


class ArticleKind(models.TextChoices):
    FAQ = "faq", _("FAQ entry")
    ARTICLE = "article", _("Article")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class ArticleCategory(models.Model):
    """A topic of the public knowledge base (not the triage category of a ticket)."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("knowledge category")
        verbose_name_plural = _("knowledge categories")

    def __str__(self) -> str:
        return self.name_zh

    def name_for(self, language: str) -> str:
        if language == Language.EN and self.name_en:
            return self.name_en
        return self.name_zh


class Article(models.Model):
    """An article or FAQ entry. The current content lives here; every change is also kept as an
    `ArticleVersion`."""

    kind = models.CharField(
        _("kind"), max_length=10, choices=ArticleKind.choices, default=ArticleKind.FAQ
    )
    language = models.CharField(
        _("language"), max_length=10, choices=Language.choices, default=Language.ZH
    )
    category = models.ForeignKey(
        ArticleCategory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("category"),
    )
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("body (Markdown)"))
    # Other ways customers ask the same FAQ question: the bot matches on these.
    questions = models.JSONField(_("question phrasings"), default=list, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    # The id used by CSV/JSON import and export, so that a re-import updates, not duplicates.
    external_id = models.CharField(_("external id"), max_length=100, unique=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        indexes = [models.Index(fields=["status", "language"])]
        verbose_name = _("article")
        verbose_name_plural = _("articles")

    def __str__(self) -> str:
        return self.title


class ArticleVersion(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    kind = models.CharField(max_length=10, choices=ArticleKind.choices)
    language = models.CharField(max_length=10, choices=Language.choices)
    category_slug = models.CharField(max_length=60, blank=True)
    title = models.CharField(max_length=300)
    body = models.TextField()
    questions = models.JSONField(default=list)
    tags = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=ArticleStatus.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="kb_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class DictionaryWord(models.Model):
    """A word jieba should keep whole: a product or brand name, a local term."""

    word = models.CharField(_("word"), max_length=50, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word


class RuleKind(models.TextChoices):
    CATEGORY = "category", _("Category")
    URGENCY = "urgency", _("Urgency")


class TriageRule(models.Model):
    """Keywords for one category (used until a category model is active) or one urgency rule.

    Words with Chinese characters or digits match as substrings; English words match whole
    words, case-insensitively."""

    kind = models.CharField(_("kind"), max_length=10, choices=RuleKind.choices)
    code = models.SlugField(_("code"), max_length=40)
    words = models.JSONField(_("keywords"), default=list)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="kb_rule_kind_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.code}"


class TriageSettings(models.Model):
    """One row (pk=1) that supervisors edit on the triage page."""

    category_threshold = models.FloatField(
        _("category confidence threshold"),
        default=0.5,
        help_text=_("Below this probability the category is left for a person."),
    )
    negative_sentiment_is_urgent = models.BooleanField(
        _("very negative messages are urgent"), default=False
    )
    negative_sentiment_threshold = models.FloatField(
        _("negative sentiment threshold"),
        default=-0.8,
        help_text=_("A message at or below this sentiment (-1 … 1) is urgent, when enabled."),
    )
    vip_is_urgent = models.BooleanField(_("VIP customers are urgent"), default=False)
    repeat_contacts_threshold = models.PositiveIntegerField(
        _("repeat contacts that make a ticket urgent"),
        default=2,
        help_text=_("Earlier contacts about the same issue; 0 turns the rule off."),
    )

    class Meta:
        verbose_name = _("triage settings")
        verbose_name_plural = _("triage settings")

    def __str__(self) -> str:
        return "triage settings"


class ModelTask(models.TextChoices):
    CATEGORY = "category", _("Category")
    SENTIMENT = "sentiment", _("Sentiment")


class TriageModel(models.Model):
    """A trained classifier version. At most one is active per task."""

    name = models.CharField(_("name"), max_length=100)
    task = models.CharField(_("task"), max_length=10, choices=ModelTask.choices)
    blob = models.BinaryField(_("model"))
    labels = models.JSONField(_("labels"), default=list)
    n_train = models.PositiveIntegerField(_("training rows"))
    n_test = models.PositiveIntegerField(_("held-out rows"))
    metrics = models.JSONField(_("metrics"), default=dict)
    is_active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("trained"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["task"], condition=Q(is_active=True), name="kb_one_active_model_per_task"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk} {self.name}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class TrainingRun(models.Model):
    """A CSV uploaded on the triage page, trained by a Celery task (it can take a minute)."""

    task = models.CharField(max_length=10, choices=ModelTask.choices)
    name = models.CharField(max_length=100)
    data = models.BinaryField()
    text_column = models.CharField(max_length=100)
    label_column = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    error = models.TextField(blank=True)
    model = models.ForeignKey(TriageModel, on_delete=models.SET_NULL, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"run {self.pk} {self.status}"


class BotChannel(models.Model):
    """Whether the answer bot speaks on a channel, and how sure it must be."""

    channel = models.CharField(_("channel"), max_length=10, unique=True)
    is_enabled = models.BooleanField(_("bot answers"), default=True)
    threshold = models.FloatField(_("confidence threshold"), default=0.4)

    class Meta:
        ordering = ["channel"]

    def __str__(self) -> str:
        return self.channel


class DeflectionOutcome(models.TextChoices):
    HELPFUL = "helpful", _("Answered by the bot, confirmed helpful")
    HANDED_OFF = "handed_off", _("Handed off to a person")
    IGNORED = "ignored", _("Ignored")


class DeflectionRecord(models.Model):
    article = models.ForeignKey(Article, on_delete=models.SET_NULL, null=True, blank=True)
    channel = models.CharField(max_length=10)
    outcome = models.CharField(max_length=12, choices=DeflectionOutcome.choices)
    # The conversation it belongs to, as the core names it (a ticket number).
    reference = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"])]
        constraints = [
            # A retried task records the same outcome once.
            models.UniqueConstraint(
                fields=["channel", "reference", "article", "outcome"],
                condition=Q(article__isnull=False),
                name="kb_deflection_once",
            ),
            models.UniqueConstraint(
                fields=["channel", "reference", "outcome"],
                condition=Q(article__isnull=True),
                name="kb_deflection_once_without_article",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.outcome}"
