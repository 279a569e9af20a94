"""Complaints (投诉), their root-cause review (复盘) and customer suggestions (建议).

A complaint is a ticket whose category is `complaint` (kb triage's complaint rule, or an
agent's flag); `Complaint` keeps what feedback adds to it: how it was recognised and the
supervisor who owns it. Closing the ticket needs a `ComplaintReview`: the root cause (from the
editable `RootCause` taxonomy), the responsible department and a corrective action with its
owner, due date and status. A `Suggestion` is a customer's idea, tracked to done or declined.
"""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tickets.models import Customer, Ticket


class RootCause(models.Model):
    """One entry of the root-cause taxonomy; supervisors edit it. An entry in use is retired
    (`is_active` off), never deleted, so old reviews keep their cause."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("root cause")
        verbose_name_plural = _("root causes")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh


class ComplaintSource(models.TextChoices):
    TRIAGE = "triage", _("Recognised by triage")
    AGENT = "agent", _("Flagged by an agent")
    # The ticket's category was set to complaint another way (the category action).
    CATEGORY = "category", _("Category set on the ticket")


class Complaint(models.Model):
    """What feedback keeps of a ticket that is a complaint. The ticket's category says it is
    one; this row holds the owner (a supervisor) and how it became a complaint."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="complaint")
    source = models.CharField(_("source"), max_length=10, choices=ComplaintSource.choices)
    # The words of the complaint rule that fired, when triage recognised it.
    words = models.JSONField(_("words"), default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints_owned",
        verbose_name=_("owner"),
    )
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("flagged by"),
    )
    # The category the ticket had before an agent flagged it; unflagging puts it back.
    previous_category = models.CharField(max_length=50, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("recognised"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")

    def __str__(self) -> str:
        return f"complaint {self.ticket_id}"


class ActionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


class ComplaintReview(models.Model):
    """The root-cause review of one complaint (复盘), with its corrective action."""

    complaint = models.OneToOneField(Complaint, on_delete=models.CASCADE, related_name="review")
    root_cause = models.ForeignKey(
        RootCause, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("root cause")
    )
    department = models.CharField(_("responsible department"), max_length=100)
    summary = models.TextField(_("what happened"), blank=True)
    action = models.TextField(_("corrective action"))
    action_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="corrective_actions",
        verbose_name=_("action owner"),
    )
    action_due = models.DateField(_("action due"))
    action_status = models.CharField(
        _("action status"),
        max_length=12,
        choices=ActionStatus.choices,
        default=ActionStatus.PLANNED,
    )
    action_done_at = models.DateTimeField(_("action done"), null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    created_at = models.DateTimeField(_("reviewed"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("complaint review")
        verbose_name_plural = _("complaint reviews")
        indexes = [
            # The board's overdue corrective actions: open ones by due date.
            models.Index(
                fields=["action_due"],
                condition=~Q(action_status="done"),
                name="feedback_review_action_open",
            )
        ]

    def __str__(self) -> str:
        return f"review {self.complaint_id}"

    def is_overdue(self, today: date | None = None) -> bool:
        """The corrective action is not done and its due date has passed."""
        today = today or timezone.localdate()
        return self.action_status != ActionStatus.DONE and self.action_due < today


class SuggestionStatus(models.TextChoices):
    NEW = "new", _("New")
    ACCEPTED = "accepted", _("Accepted")
    DONE = "done", _("Done")
    DECLINED = "declined", _("Declined")


class Suggestion(models.Model):
    """A customer's suggestion (建议), usually from a ticket, tracked as an improvement item:
    new → accepted → done, or declined. Done ones are the ideas that were acted on."""

    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="suggestions_made",
        verbose_name=_("ticket"),
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="suggestions",
        verbose_name=_("customer"),
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("suggestion"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.NEW
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        constraints = [
            # Turning the same ticket into a suggestion twice keeps one.
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(ticket__isnull=False), name="feedback_one_per_ticket"
            )
        ]

    def __str__(self) -> str:
        return self.title
