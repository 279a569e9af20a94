"""Call-backs (回访): follow-up tasks to phone or write to a customer after a low rating, a
detractor's NPS answer, or because an agent or a supervisor asked for one; each with its
attempts and their outcomes."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from feedback.models.surveys import Survey
from tickets.models import Agent, Customer, Team, Ticket


class CallbackReason(models.TextChoices):
    LOW_CSAT = "low_csat", _("CSAT 1–2")
    ANGRY_COMMENT = "angry_comment", _("Angry comment")
    DETRACTOR = "detractor", _("NPS detractor")
    COMPLAINT = "complaint", _("Complaint")
    MANUAL = "manual", _("Asked for by hand")


class CallbackOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    RESOLVED = "resolved", _("Resolved")
    REOPENED = "reopened", _("Ticket reopened")
    ESCALATED = "escalated", _("Escalated")


# Outcomes that finish a call-back; after the others it stays in the queue.
FINAL_OUTCOMES = frozenset(
    {CallbackOutcome.REACHED, CallbackOutcome.RESOLVED, CallbackOutcome.REOPENED}
)


class Callback(models.Model):
    """One follow-up task. `key` makes a task created from a survey unique to it (an answer
    read twice gives one task); tasks made by hand have none."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="callbacks")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="callbacks")
    survey = models.ForeignKey(
        Survey, on_delete=models.SET_NULL, null=True, blank=True, related_name="callbacks"
    )
    key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=CallbackReason.choices)
    note = models.TextField(_("note"), blank=True)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True)
    owner = models.ForeignKey(
        Agent,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="callbacks",
        verbose_name=_("owner"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    due_at = models.DateTimeField(_("due"))
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    closed_at = models.DateTimeField(_("done"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=CallbackOutcome.choices, blank=True
    )

    class Meta:
        verbose_name = _("call-back")
        verbose_name_plural = _("call-backs")
        indexes = [
            models.Index(
                fields=["due_at"],
                name="feedback_callback_open",
                condition=Q(closed_at__isnull=True),
            ),
            models.Index(fields=["owner", "closed_at"], name="feedback_callback_owner"),
            models.Index(fields=["customer", "created_at"], name="feedback_callback_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} · {self.ticket_id}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class CallbackAttempt(models.Model):
    """One try to reach the customer, by whom, with its outcome and a note."""

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="attempts")
    agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=CallbackOutcome.choices)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("call-back attempt")
        verbose_name_plural = _("call-back attempts")
        indexes = [models.Index(fields=["callback", "at"], name="feedback_attempt_at")]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} · {self.at:%Y-%m-%d %H:%M}"
