"""Satisfaction surveys: CSAT after a resolution (1–5) and NPS, the relationship question
(0–10), each invitation sent on the customer's channel and answered once; and the settings
supervisors edit (delay, channels, fatigue, expiry, NPS sampling)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.models import Agent, Channel, Customer, Message, Team, Ticket


class SurveyKind(models.TextChoices):
    CSAT = "csat", _("CSAT")
    NPS = "nps", _("NPS")


class SurveyTrigger(models.TextChoices):
    RESOLVED = "resolved", _("Ticket resolved")
    CASE_COMPLETED = "case_completed", _("After-sales case completed")
    ORDER = "order", _("Some days after an order ticket")
    SAMPLE = "sample", _("Periodic sample")


# Channels an invitation can go out on; the ticket's own channel decides which (a call is
# followed up by SMS, a self-service ticket by email).
SURVEY_CHANNELS = (Channel.CHAT, Channel.SMS, Channel.EMAIL, Channel.APP)

# The scale of each kind: CSAT 1–5, NPS 0–10.
SCALE = {SurveyKind.CSAT: (1, 5), SurveyKind.NPS: (0, 10)}


class Survey(models.Model):
    """One invitation to rate, for one ticket (or case) of one customer. The row is the job:
    `due_at` says when the invitation is owed (cleared once it is queued on the outbox or
    given up, with the reason). The answer is written once, on this row."""

    kind = models.CharField(_("kind"), max_length=10, choices=SurveyKind.choices)
    trigger = models.CharField(_("why sent"), max_length=20, choices=SurveyTrigger.choices)
    # What the survey is about, unique: a second resolution event, or a redelivered one,
    # never gives a second survey.
    key = models.CharField(max_length=120, unique=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="surveys")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="surveys")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # The ticket's team and category when it was resolved, for the figures by team/category.
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True)
    category = models.CharField(_("category"), max_length=50, blank=True)
    # The agents who answered the ticket (a human reply of theirs): the rating counts for them.
    agents = models.ManyToManyField(Agent, blank=True, related_name="surveys")
    case_number = models.CharField(_("after-sales case"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created"))
    due_at = models.DateTimeField(_("invitation due"), null=True, blank=True)
    invited_at = models.DateTimeField(_("invited"), null=True, blank=True)
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    nonce = models.CharField(max_length=32)
    skipped_reason = models.CharField(_("not sent because"), max_length=200, blank=True)
    score = models.SmallIntegerField(_("score"), null=True, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_via = models.CharField(_("answered on"), max_length=10, blank=True)
    answer_message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=10),
                name="feedback_survey_score_range",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(answered_at__isnull=False),
                name="feedback_survey_score_answered",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "created_at"], name="feedback_survey_customer"),
            models.Index(
                fields=["due_at"], name="feedback_survey_due", condition=Q(due_at__isnull=False)
            ),
            models.Index(
                fields=["customer", "channel", "invited_at"], name="feedback_survey_reply"
            ),
            models.Index(fields=["answered_at"], name="feedback_survey_answered"),
            # The figures of a period (and the board's CSAT of the day), by invitation time.
            models.Index(fields=["kind", "invited_at"], name="feedback_survey_invited"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.ticket_id}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None

    @property
    def status(self) -> str:
        if self.answered_at is not None:
            return "answered"
        if self.skipped_reason:
            return "skipped"
        if self.invited_at is not None:
            return "invited"
        return "scheduled"

    @property
    def scale(self) -> tuple[int, int]:
        return SCALE[SurveyKind(self.kind)]


def default_channels() -> list[str]:
    return [str(channel) for channel in SURVEY_CHANNELS]


def default_tags() -> list[str]:
    return ["回复及时", "态度友好", "问题已解决", "等待太久", "问题未解决"]


class SurveySettings(models.Model):
    """What supervisors set for surveys and call-backs; one row."""

    delay_minutes = models.PositiveIntegerField(
        _("delay before the invitation (minutes)"), default=30
    )
    channels = models.JSONField(_("channels"), default=default_channels, blank=True)
    fatigue_days = models.PositiveIntegerField(
        _("at most one survey per customer in (days)"), default=30
    )
    expiry_days = models.PositiveIntegerField(
        _("an invitation may be answered for (days)"), default=7
    )
    tags = models.JSONField(_("tags a customer may pick"), default=default_tags, blank=True)
    nps_is_active = models.BooleanField(_("send NPS surveys"), default=True)
    nps_order_days = models.PositiveIntegerField(
        _("NPS: days after an order ticket is resolved"), default=7
    )
    nps_order_percent = models.PositiveSmallIntegerField(
        _("NPS: share of order tickets asked (%)"), default=20
    )
    nps_quarter_sample = models.PositiveIntegerField(
        _("NPS: customers asked each quarter"), default=200
    )
    callback_due_minutes = models.PositiveIntegerField(
        _("call-back due within (business minutes)"), default=240
    )
    angry_sentiment = models.FloatField(_("comment angry below (sentiment, −1…1)"), default=-0.5)

    class Meta:
        verbose_name = _("survey settings")
        verbose_name_plural = _("survey settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="feedback_survey_settings_one"),
            models.CheckConstraint(
                condition=Q(nps_order_percent__lte=100), name="feedback_nps_percent_max_100"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Survey settings"))
