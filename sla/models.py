"""Calendars, policies and clocks."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Tier(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    REGULAR = "regular", _("Regular")
    VALUE_ADDED = "value_added", _("Value-added")


class Milestone(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    PLAN = "plan", _("Plan")
    RESOLUTION = "resolution", _("Resolution")


class BusinessCalendar(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    use_cn_holidays = models.BooleanField(
        _("China's public holidays and make-up workdays"), default=True
    )
    is_default = models.BooleanField(_("default calendar"), default=False)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="sla_one_default_calendar",
            )
        ]

    def __str__(self) -> str:
        return self.name


class BusinessHours(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), help_text=_("0 = Monday … 6 = Sunday"))
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="sla_hours_order"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="sla_hours_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start:%H:%M}-{self.end:%H:%M}"


class CalendarDate(models.Model):
    """A custom closure or an extra working day; wins over the holiday data."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="dates")
    date = models.DateField(_("date"))
    is_working = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar date")
        verbose_name_plural = _("calendar dates")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="sla_calendar_date_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {'working' if self.is_working else 'closed'}"


class SlaPolicy(models.Model):
    name = models.CharField(_("name"), max_length=100)
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, unique=True)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT)
    first_response_minutes = models.PositiveIntegerField(_("first response (business minutes)"))
    plan_minutes = models.PositiveIntegerField(_("plan (business minutes)"), null=True, blank=True)
    warning_percent = models.PositiveSmallIntegerField(
        _("warning threshold (percent of the target elapsed)"), default=80
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name


class SlaClock(models.Model):
    """One milestone's deadline for one subject (a ticket, by id).

    The policy's targets and the calendar are copied in as `target_seconds` and `calendar`, so
    a later change of the policy does not rewrite this clock's history.
    """

    subject_id = models.BigIntegerField(_("subject id"))
    milestone = models.CharField(_("milestone"), max_length=20, choices=Milestone.choices)
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT)
    target_seconds = models.PositiveIntegerField(_("target (business seconds)"))
    started_at = models.DateTimeField(_("started"))
    warn_at = models.DateTimeField(_("warn at"))
    due_at = models.DateTimeField(_("due"))
    satisfied_at = models.DateTimeField(_("satisfied"), null=True, blank=True)
    warned_at = models.DateTimeField(_("warned"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    elapsed_wall_seconds = models.PositiveIntegerField(null=True, blank=True)
    elapsed_business_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [
            models.UniqueConstraint(
                fields=["subject_id", "milestone"], name="sla_clock_one_per_milestone"
            )
        ]
        indexes = [
            # The ticker's two queries: only clocks still running are indexed, so the index
            # (and the tick) grows with the clocks due, not with all clocks ever started.
            models.Index(
                fields=["due_at"],
                condition=Q(satisfied_at__isnull=True, breached_at__isnull=True),
                name="sla_clock_due_running",
            ),
            models.Index(
                fields=["warn_at"],
                condition=Q(
                    satisfied_at__isnull=True, breached_at__isnull=True, warned_at__isnull=True
                ),
                name="sla_clock_warn_running",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject_id}:{self.milestone}"

    @property
    def state(self) -> str:
        if self.satisfied_at is not None:
            return "met" if self.breached_at is None else "met_late"
        if self.breached_at is not None:
            return "breached"
        if self.warned_at is not None:
            return "at_risk"
        return "running"
