"""Calendars, policies, escalation rules and clocks."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Milestone(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    PLAN = "plan", _("Plan")
    RESOLUTION = "resolution", _("Resolution")


class BusinessCalendar(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    use_cn_holidays = models.BooleanField(
        _("China's public holidays and make-up workdays"), default=True
    )
    holiday_country = models.CharField(
        _("other country's public holidays"),
        max_length=8,
        blank=True,
        help_text=_("ISO country code for the holidays package, e.g. HK or SG; empty for none."),
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


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class BusinessHours(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAYS)
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


# The subject attributes a policy's conditions may test. The core describes each ticket with
# these keys; `sla` only compares values.
CONDITION_KEYS = ("tier", "channel", "team", "category", "vip", "tags")


class SlaPolicy(models.Model):
    """Targets for the subjects whose attributes match `conditions`; first match by position.

    `conditions` maps an attribute to the values that match it, e.g.
    `{"tier": ["urgent"], "channel": ["chat", "app"]}`; `{"vip": true}`; `{"tags": ["b2b"]}`
    (any tag). A key that is absent matches everything; `{}` matches every subject.
    """

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT)
    first_response_minutes = models.PositiveIntegerField(
        _("first response (business minutes)"), null=True, blank=True
    )
    next_response_minutes = models.PositiveIntegerField(
        _("next response (business minutes)"), null=True, blank=True
    )
    plan_minutes = models.PositiveIntegerField(_("plan (business minutes)"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (business minutes)"), null=True, blank=True
    )
    out_of_hours_minutes = models.JSONField(
        _("targets when the clock starts outside working hours (wall-clock minutes)"),
        default=dict,
        blank=True,
        help_text=_(
            'Per milestone, e.g. {"first_response": 1440}: a clock of that milestone that '
            "starts while the calendar is closed is due this many real minutes after its "
            "start, instead of its business-minute target."
        ),
    )
    use_policy_calendar = models.BooleanField(
        _("always use this policy's calendar"),
        default=False,
        help_text=_("Ignore the team's hours, e.g. for an around-the-clock urgent policy."),
    )
    warning_percent = models.PositiveSmallIntegerField(
        _("warning threshold (percent of the target elapsed)"), default=80
    )
    warning_minutes_before = models.PositiveIntegerField(
        _("or warn this many business minutes before due"), null=True, blank=True
    )
    milestone_warnings = models.JSONField(
        _("warning per milestone"),
        default=dict,
        blank=True,
        help_text=_(
            'Overrides for single milestones, e.g. {"first_response": {"percent": 50}, '
            '"resolution": {"minutes_before": 60}}.'
        ),
    )
    pause_states = models.JSONField(_("states that pause the clocks"), default=list, blank=True)
    bot_counts_as_response = models.BooleanField(
        _("a bot answer counts as a response"), default=False
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name

    def targets(self) -> dict[str, int]:
        """Milestone → target in business seconds, for the milestones this policy sets."""
        minutes = {
            Milestone.FIRST_RESPONSE: self.first_response_minutes,
            Milestone.NEXT_RESPONSE: self.next_response_minutes,
            Milestone.PLAN: self.plan_minutes,
            Milestone.RESOLUTION: self.resolution_minutes,
        }
        return {str(m): value * 60 for m, value in minutes.items() if value}

    def out_of_hours_targets(self) -> dict[str, int]:
        """Milestone → wall-clock seconds for a clock that starts while the calendar is
        closed, for the milestones whose business target this policy also sets."""
        targets = self.targets()
        return {
            str(milestone): int(minutes) * 60
            for milestone, minutes in (self.out_of_hours_minutes or {}).items()
            if milestone in targets
            and isinstance(minutes, int)
            and not isinstance(minutes, bool)
            and minutes > 0
        }


class EscalationAction(models.TextChoices):
    NOTIFY_ASSIGNEE = "notify_assignee", _("Notify the assignee")
    NOTIFY_SUPERVISOR = "notify_supervisor", _("Notify the team's supervisors")
    RAISE_PRIORITY = "raise_priority", _("Raise the priority")
    REASSIGN = "reassign", _("Reassign to another team")
    HEAD_AND_REASSIGN = (
        "head_reassign",
        _("Notify the department head and reassign"),
    )


class EscalationRule(models.Model):
    """What happens `delay_minutes` after a milestone is breached."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="escalations")
    milestone = models.CharField(_("milestone"), max_length=20, choices=Milestone.choices)
    level = models.PositiveSmallIntegerField(_("level"))
    action = models.CharField(_("action"), max_length=20, choices=EscalationAction.choices)
    delay_minutes = models.PositiveIntegerField(_("minutes after the breach"), default=0)
    target = models.CharField(
        _("target"),
        max_length=100,
        blank=True,
        help_text=_(
            "For reassign: the team's id. For notify the department head and reassign: "
            "optionally the team's id to move the ticket to (else another agent of its team)."
        ),
    )
    hold_outside_hours = models.BooleanField(
        _("hold notifications until business hours"), default=True
    )

    class Meta:
        verbose_name = _("escalation rule")
        verbose_name_plural = _("escalation rules")
        ordering = ["milestone", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "milestone", "level"], name="sla_escalation_level_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.milestone} L{self.level}: {self.action}"


class SlaClock(models.Model):
    """One milestone's deadline for one subject (a ticket, by id).

    The policy's target and the calendar are copied in when the clock starts, so a later
    change of the policy does not rewrite this clock's history. `sequence` numbers the
    repeating milestone (next response: one clock per customer message awaiting a reply).
    """

    subject_id = models.BigIntegerField(_("subject id"))
    milestone = models.CharField(_("milestone"), max_length=20, choices=Milestone.choices)
    sequence = models.PositiveIntegerField(default=0)
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT)
    target_seconds = models.PositiveIntegerField(_("target (business seconds)"))
    # Set when the clock started outside working hours under an out-of-hours target: its
    # target is then wall-clock seconds, and pauses push it back by wall-clock time.
    wall_clock = models.BooleanField(_("wall-clock target"), default=False)
    started_at = models.DateTimeField(_("started"))
    warn_at = models.DateTimeField(_("warn at"))
    due_at = models.DateTimeField(_("due"))
    satisfied_at = models.DateTimeField(_("satisfied"), null=True, blank=True)
    warned_at = models.DateTimeField(_("warned"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    pauses = models.JSONField(_("pauses"), default=list, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    elapsed_wall_seconds = models.PositiveIntegerField(null=True, blank=True)
    elapsed_business_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [
            models.UniqueConstraint(
                fields=["subject_id", "milestone", "sequence"], name="sla_clock_unique"
            )
        ]
        indexes = [
            # The ticker's queries: only running clocks are indexed, so the index (and the
            # tick) grows with the clocks coming due, not with all clocks ever started.
            models.Index(
                fields=["due_at"],
                condition=Q(
                    satisfied_at__isnull=True, breached_at__isnull=True, paused_at__isnull=True
                ),
                name="sla_clock_due_running",
            ),
            models.Index(
                fields=["warn_at"],
                condition=Q(
                    satisfied_at__isnull=True,
                    breached_at__isnull=True,
                    warned_at__isnull=True,
                    paused_at__isnull=True,
                ),
                name="sla_clock_warn_running",
            ),
            models.Index(
                fields=["next_escalation_at"],
                condition=Q(satisfied_at__isnull=True, next_escalation_at__isnull=False),
                name="sla_clock_escalation_due",
            ),
            models.Index(fields=["subject_id", "milestone"], name="sla_clock_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_id}:{self.milestone}#{self.sequence}"

    @property
    def state(self) -> str:
        if self.satisfied_at is not None:
            return "met" if self.breached_at is None else "met_late"
        if self.breached_at is not None:
            return "breached"
        if self.paused_at is not None:
            return "paused"
        if self.warned_at is not None:
            return "at_risk"
        return "running"
