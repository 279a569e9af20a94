"""Quality inspection (质检): scorecards and their versions, who reviews, the weekly sample
each team's rule draws with the automatic pre-checks that rank it, reviews scored against
one scorecard version, and the agent's appeal of a review."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tickets.models import Agent, Message, Team, Ticket


class ItemGroup(models.TextChoices):
    GREETING = "greeting", _("Greeting and closing")
    ACCURACY = "accuracy", _("Accuracy")
    EMPATHY = "empathy", _("Empathy")
    COMPLIANCE = "compliance", _("Compliance")
    RESOLUTION = "resolution", _("Resolution")


class Rating(models.TextChoices):
    """A reviewer's verdict on one item. A critical item is met or missed; missing it fails
    the whole review."""

    MET = "met", _("Met")
    PARTLY = "partly", _("Partly met")
    MISSED = "missed", _("Missed")
    NOT_APPLICABLE = "na", _("Not applicable")


# The share of an item's weight each rating earns (not applicable: the item is left out).
RATING_SHARE = {Rating.MET: 1.0, Rating.PARTLY: 0.5, Rating.MISSED: 0.0}


class Scorecard(models.Model):
    """A named scorecard; what it asks lives in its versions. Editing one adds a version,
    so every review keeps the items it was scored with."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScorecardVersion(models.Model):
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        verbose_name = _("scorecard version")
        verbose_name_plural = _("scorecard versions")
        constraints = [
            models.UniqueConstraint(
                fields=["scorecard", "number"], name="feedback_scorecard_version_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scorecard.name} v{self.number}"


class ScorecardItem(models.Model):
    version = models.ForeignKey(ScorecardVersion, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    group = models.CharField(_("group"), max_length=20, choices=ItemGroup.choices)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    weight = models.PositiveSmallIntegerField(_("weight"), default=10)
    is_critical = models.BooleanField(
        _("critical"), default=False, help_text=_("Missing it fails the whole review.")
    )

    class Meta:
        verbose_name = _("scorecard item")
        verbose_name_plural = _("scorecard items")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The item's name in the page's language (Chinese unless English is chosen)."""
        if (get_language() or "").startswith("en"):
            return self.name_en or self.name_zh
        return self.name_zh or self.name_en


class Reviewer(models.Model):
    """A member of staff a supervisor named to review (supervisors review without this)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quality_reviewer"
    )
    named_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("named"), auto_now_add=True)

    class Meta:
        verbose_name = _("quality reviewer")
        verbose_name_plural = _("quality reviewers")

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class QualitySettings(models.Model):
    """The pre-checks' word lists and thresholds, edited by supervisors; one row."""

    greetings_zh = models.JSONField(_("greetings (Chinese)"), default=list, blank=True)
    greetings_en = models.JSONField(_("greetings (English)"), default=list, blank=True)
    forbidden_phrases = models.JSONField(_("forbidden phrases"), default=list, blank=True)
    silence_minutes = models.PositiveIntegerField(_("long silence (business minutes)"), default=30)
    sentiment_drop = models.FloatField(_("sentiment drop"), default=0.6)

    class Meta:
        verbose_name = _("quality settings")
        verbose_name_plural = _("quality settings")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="feedback_settings_one")]

    def __str__(self) -> str:
        return str(_("Quality settings"))


class SamplingRule(models.Model):
    """What a team's weekly sample takes: a random share of each agent's tickets, and every
    ticket of the kinds switched on."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="quality_rule")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, verbose_name=_("scorecard"))
    random_percent = models.PositiveSmallIntegerField(_("random share per agent (%)"), default=5)
    complaints = models.BooleanField(_("every complaint"), default=True)
    low_csat = models.BooleanField(_("every CSAT of 1 or 2"), default=True)
    sla_breached = models.BooleanField(_("every breached SLA"), default=True)
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("sampling rule")
        verbose_name_plural = _("sampling rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(random_percent__lte=100), name="feedback_rule_percent_max_100"
            )
        ]

    def __str__(self) -> str:
        return str(self.team)


class SampleReason(models.TextChoices):
    RANDOM = "random", _("Random share")
    COMPLAINT = "complaint", _("Complaint")
    LOW_CSAT = "low_csat", _("CSAT 1–2")
    SLA_BREACH = "sla_breach", _("SLA breached")
    KEYWORD = "keyword", _("Keyword")


class Sample(models.Model):
    """A ticket drawn for review in one week (the Monday it starts). Unique per week and
    ticket: drawing the same week again adds nothing."""

    week = models.DateField(_("week"))
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="quality_samples")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="quality_samples")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="+")
    reasons = models.JSONField(_("why drawn"), default=list)
    created_at = models.DateTimeField(_("drawn"), auto_now_add=True)

    class Meta:
        verbose_name = _("quality sample")
        verbose_name_plural = _("quality samples")
        constraints = [
            models.UniqueConstraint(fields=["week", "ticket"], name="feedback_sample_once_a_week")
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.ticket_id}"

    def reason_labels(self) -> list[str]:
        return [str(SampleReason(reason).label) for reason in self.reasons]


class PrecheckKind(models.TextChoices):
    NO_GREETING = "no_greeting", _("No greeting in the first reply")
    FORBIDDEN_PHRASE = "forbidden_phrase", _("Forbidden phrase")
    SENTIMENT_DROP = "sentiment_drop", _("Customer's mood dropped")
    LONG_SILENCE = "long_silence", _("Long silence")


class PrecheckHit(models.Model):
    """What an automatic pre-check found in a sampled ticket, pointing at the message."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="hits")
    kind = models.CharField(max_length=20, choices=PrecheckKind.choices)
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, related_name="+")
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.kind} · {self.message_id}"


class Review(models.Model):
    """One reviewer's scoring of one ticket's handling by one agent, against the scorecard
    version it was scored with. `score` (0–100, 0 when a critical item is missed) is written
    only by the scoring service, from the items, and again by an upheld appeal."""

    sample = models.ForeignKey(
        Sample, on_delete=models.SET_NULL, null=True, blank=True, related_name="reviews"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="quality_reviews")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="quality_reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quality_reviews_given"
    )
    version = models.ForeignKey(ScorecardVersion, on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1)
    is_failed = models.BooleanField(_("failed"), default=False)
    comment = models.TextField(_("comment"), blank=True)
    submitted_at = models.DateTimeField(_("submitted"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)

    class Meta:
        verbose_name = _("quality review")
        verbose_name_plural = _("quality reviews")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "reviewer"], name="feedback_review_once_per_reviewer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} · {self.score}"


class ReviewItem(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(ScorecardItem, on_delete=models.PROTECT, related_name="+")
    rating = models.CharField(_("rating"), max_length=10, choices=Rating.choices)
    comment = models.CharField(_("comment"), max_length=1000, blank=True)

    class Meta:
        ordering = ["item__position", "item_id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "item"], name="feedback_review_item_once")
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.rating}"


class AppealStatus(models.TextChoices):
    OPEN = "open", _("Waiting for a decision")
    UPHELD = "upheld", _("Upheld")
    REJECTED = "rejected", _("Rejected")


class Appeal(models.Model):
    """The reviewed agent's appeal of a review (one per review), and the supervisor's
    decision: upheld changes item ratings and the score, recorded here before and after."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="appeal")
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=10, choices=AppealStatus.choices, default=AppealStatus.OPEN
    )
    created_at = models.DateTimeField(_("appealed"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    score_before = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    score_after = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    # {item id: [rating before, rating after]} for the items an upheld appeal changed.
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")

    def __str__(self) -> str:
        return f"{self.review_id} · {self.status}"
