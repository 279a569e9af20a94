"""Facts and rollups: what reports read instead of scanning tickets and messages.

- `TicketFact`: one row per ticket with the figures the metrics are made of (docs/metrics.md).
  It is a pure function of the ticket as it stands (its messages, trail and SLA clocks):
  recomputing it from the same ticket gives the same row.
- Rollups (`RollupSums`): the sums of the facts, each counted on the local day of its own
  moment (a ticket counts as created on its creation day, as resolved on its resolution day),
  at five grains: `DailyRollup` per day, team, channel, category, tier and agent;
  `DailyTeamRollup` the same without the agent but with the SLA policy; `DailyChannelRollup`
  per day, team and channel; `DailyAgentRollup` the same with the agent; `MonthlyRollup` per
  month with every dimension. The day grains without the agent also keep the contacts per
  hour. Kept by adding the difference between a ticket's fact before and after each
  refresh, so each always equals the sum of the facts.
- `FactDirty`: the tickets whose facts are due a refresh, written in the same transaction as
  the ticket's trail entry that changed them, so no change is missed and a replay only marks
  a ticket that is marked already.

- `RankingSettings`: the weights and the minimum of the monthly agent ranking (one row).

No foreign keys on facts: a fact outlives its ticket's erasure (figures without personal data).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketFact(models.Model):
    ticket_id = models.BigIntegerField(primary_key=True)
    created_at = models.DateTimeField()
    channel = models.CharField(max_length=10)
    category = models.CharField(max_length=50, blank=True)
    tier = models.CharField(max_length=20)
    team_id = models.BigIntegerField(null=True)
    agent_id = models.BigIntegerField(null=True)  # the assignee now
    customer_id = models.BigIntegerField()
    is_open = models.BooleanField()
    first_response_at = models.DateTimeField(null=True)
    first_response_wall_s = models.PositiveIntegerField(null=True)
    first_response_business_s = models.PositiveIntegerField(null=True)
    resolved_at = models.DateTimeField(null=True)
    resolution_wall_s = models.PositiveIntegerField(null=True)
    resolution_business_s = models.PositiveIntegerField(null=True)
    agent_replies = models.PositiveIntegerField(default=0)
    bot_replies = models.PositiveIntegerField(default=0)
    reopens = models.PositiveIntegerField(default=0)
    # None while the ticket is not resolved (docs/metrics.md: first-contact resolution).
    first_contact_resolved = models.BooleanField(null=True)
    bot_deflected = models.BooleanField(null=True)
    repeat_contact = models.BooleanField(default=False)
    sentiment_sum = models.FloatField(default=0.0)
    sentiment_count = models.PositiveIntegerField(default=0)
    # SLA outcomes (docs/metrics.md: SLA attainment): per milestone, the moment its clock was
    # decided (met when satisfied in time, missed when breached) and whether it was met;
    # None while undecided or when the ticket's policy sets no such clock.
    sla_policy_id = models.BigIntegerField(null=True)
    sla_first_response_at = models.DateTimeField(null=True)
    sla_first_response_met = models.BooleanField(null=True)
    sla_plan_at = models.DateTimeField(null=True)
    sla_plan_met = models.BooleanField(null=True)
    sla_resolution_at = models.DateTimeField(null=True)
    sla_resolution_met = models.BooleanField(null=True)
    # Satisfaction (docs/metrics.md: CSAT, NPS), from the ticket's surveys (feedback.Survey):
    # per kind, the first invitation sent and the latest answer (its moment and score); None
    # while there is none.
    csat_invited_at = models.DateTimeField(null=True)
    csat_answered_at = models.DateTimeField(null=True)
    csat_score = models.SmallIntegerField(null=True)
    nps_invited_at = models.DateTimeField(null=True)
    nps_answered_at = models.DateTimeField(null=True)
    nps_score = models.SmallIntegerField(null=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ticket fact")
        verbose_name_plural = _("ticket facts")
        indexes = [
            models.Index(fields=["created_at"], name="analytics_fact_created"),
            models.Index(fields=["resolved_at"], name="analytics_fact_resolved"),
            # The drill-downs from a CSAT or NPS count; most tickets have no answer.
            models.Index(
                fields=["csat_answered_at"],
                name="analytics_fact_csat",
                condition=models.Q(csat_answered_at__isnull=False),
            ),
            models.Index(
                fields=["nps_answered_at"],
                name="analytics_fact_nps",
                condition=models.Q(nps_answered_at__isnull=False),
            ),
            # The backlog by age and its drill-downs: only the open tickets.
            models.Index(
                fields=["category", "created_at"],
                name="analytics_fact_open",
                condition=models.Q(is_open=True),
            ),
        ]

    def __str__(self) -> str:
        return f"facts of ticket {self.ticket_id}"


class RollupSums(models.Model):
    """The counters every rollup sums, whatever its grain (analytics.facts.contributions says
    what a ticket adds to each): defined once here, so the grains cannot drift apart."""

    # On the creation day.
    created = models.IntegerField(default=0)
    repeat_contacts = models.IntegerField(default=0)
    sentiment_sum = models.FloatField(default=0.0)
    sentiment_count = models.IntegerField(default=0)
    # On the first response's day.
    first_responses = models.IntegerField(default=0)
    first_response_wall_s = models.BigIntegerField(default=0)
    first_response_business_count = models.IntegerField(default=0)
    first_response_business_s = models.BigIntegerField(default=0)
    # On the resolution day.
    resolved = models.IntegerField(default=0)
    resolution_wall_s = models.BigIntegerField(default=0)
    resolution_business_count = models.IntegerField(default=0)
    resolution_business_s = models.BigIntegerField(default=0)
    first_contact_resolved = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    bot_deflected = models.IntegerField(default=0)
    # On the day each SLA milestone was decided (met or breached).
    sla_first_response_decided = models.IntegerField(default=0)
    sla_first_response_met = models.IntegerField(default=0)
    sla_plan_decided = models.IntegerField(default=0)
    sla_plan_met = models.IntegerField(default=0)
    sla_resolution_decided = models.IntegerField(default=0)
    sla_resolution_met = models.IntegerField(default=0)
    # --- satisfaction (docs/metrics.md: CSAT, NPS) ---
    # Invitations on the day they were sent; answers on the day they were given.
    csat_invited = models.IntegerField(default=0)
    csat_answered = models.IntegerField(default=0)
    csat_satisfied = models.IntegerField(default=0)  # answers of 4 or 5
    csat_score_sum = models.IntegerField(default=0)
    nps_invited = models.IntegerField(default=0)
    nps_answered = models.IntegerField(default=0)
    nps_promoters = models.IntegerField(default=0)  # answers of 9 or 10
    nps_detractors = models.IntegerField(default=0)  # answers of 0 to 6
    # --- end of satisfaction ---

    class Meta:
        abstract = True


class DailyRollup(RollupSums):
    """Per local day, team, channel, category, tier and assignee: the finest grain, for
    figures per agent over a few days and for the days at a period's ends."""

    day = models.DateField()
    team_id = models.BigIntegerField(default=0)  # 0: no team
    channel = models.CharField(max_length=10)
    category = models.CharField(max_length=50, blank=True)
    tier = models.CharField(max_length=20)
    agent_id = models.BigIntegerField(default=0)  # 0: unassigned

    class Meta:
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "team_id", "channel", "category", "tier", "agent_id"],
                name="analytics_rollup_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id} {self.channel} {self.category} {self.tier}"


# The counters of contacts by local hour of creation (HourlyRollupSums), in hour order.
CREATED_HOURS = [f"created_h{hour:02d}" for hour in range(24)]


class HourlyRollupSums(RollupSums):
    """The sums, and the contacts by the local hour of their creation (on the creation day),
    for the weekday × hour heat map: kept by the day grains without the agent."""

    created_h00 = models.IntegerField(default=0)
    created_h01 = models.IntegerField(default=0)
    created_h02 = models.IntegerField(default=0)
    created_h03 = models.IntegerField(default=0)
    created_h04 = models.IntegerField(default=0)
    created_h05 = models.IntegerField(default=0)
    created_h06 = models.IntegerField(default=0)
    created_h07 = models.IntegerField(default=0)
    created_h08 = models.IntegerField(default=0)
    created_h09 = models.IntegerField(default=0)
    created_h10 = models.IntegerField(default=0)
    created_h11 = models.IntegerField(default=0)
    created_h12 = models.IntegerField(default=0)
    created_h13 = models.IntegerField(default=0)
    created_h14 = models.IntegerField(default=0)
    created_h15 = models.IntegerField(default=0)
    created_h16 = models.IntegerField(default=0)
    created_h17 = models.IntegerField(default=0)
    created_h18 = models.IntegerField(default=0)
    created_h19 = models.IntegerField(default=0)
    created_h20 = models.IntegerField(default=0)
    created_h21 = models.IntegerField(default=0)
    created_h22 = models.IntegerField(default=0)
    created_h23 = models.IntegerField(default=0)

    class Meta:
        abstract = True


class DailyChannelRollup(HourlyRollupSums):
    """Per local day, team and channel only: a few rows a day, for the figures per day of a
    long period when no category, tier or agent is asked for (the overview's default)."""

    day = models.DateField()
    team_id = models.BigIntegerField(default=0)  # 0: no team
    channel = models.CharField(max_length=10)

    class Meta:
        verbose_name = _("daily channel rollup")
        verbose_name_plural = _("daily channel rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "team_id", "channel"], name="analytics_channel_rollup_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id} {self.channel}"


class DailyAgentRollup(RollupSums):
    """Per local day, team, channel and assignee only: the figures per agent of a period's
    days (the agents page, the scorecard, the ranking's month ends) without the category
    and tier that multiply the finest grain's rows."""

    day = models.DateField()
    team_id = models.BigIntegerField(default=0)  # 0: no team
    channel = models.CharField(max_length=10)
    agent_id = models.BigIntegerField(default=0)  # 0: unassigned

    class Meta:
        verbose_name = _("daily agent rollup")
        verbose_name_plural = _("daily agent rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "team_id", "channel", "agent_id"],
                name="analytics_agent_rollup_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id} {self.channel} agent {self.agent_id}"


class DailyTeamRollup(HourlyRollupSums):
    """Per local day, team, channel, category, tier and SLA policy, without the assignee
    (a fifth of the rows or fewer): the figures per day, per team, channel, category and
    policy."""

    day = models.DateField()
    team_id = models.BigIntegerField(default=0)  # 0: no team
    channel = models.CharField(max_length=10)
    category = models.CharField(max_length=50, blank=True)
    tier = models.CharField(max_length=20)
    sla_policy_id = models.BigIntegerField(default=0)  # 0: no policy

    class Meta:
        verbose_name = _("daily team rollup")
        verbose_name_plural = _("daily team rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "team_id", "channel", "category", "tier", "sla_policy_id"],
                name="analytics_team_rollup_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id} {self.channel} {self.category} {self.tier}"


class MonthlyRollup(RollupSums):
    """Per local month (its first day), team, channel, category, tier, assignee and SLA
    policy: a year is twelve slices of it, for the figures of long periods that are not
    shown per day."""

    month = models.DateField()
    team_id = models.BigIntegerField(default=0)  # 0: no team
    channel = models.CharField(max_length=10)
    category = models.CharField(max_length=50, blank=True)
    tier = models.CharField(max_length=20)
    agent_id = models.BigIntegerField(default=0)  # 0: unassigned
    sla_policy_id = models.BigIntegerField(default=0)  # 0: no policy

    class Meta:
        verbose_name = _("monthly rollup")
        verbose_name_plural = _("monthly rollups")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "month",
                    "team_id",
                    "channel",
                    "category",
                    "tier",
                    "agent_id",
                    "sla_policy_id",
                ],
                name="analytics_monthly_rollup_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} team {self.team_id} {self.channel} {self.category} {self.tier}"


class FactDirty(models.Model):
    ticket_id = models.BigIntegerField(primary_key=True)
    marked_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ticket fact due a refresh")
        verbose_name_plural = _("ticket facts due a refresh")

    def __str__(self) -> str:
        return f"ticket {self.ticket_id} due a refresh"


class OrderVolume(models.Model):
    """The orders the shop placed on one of its local days, as the shop reports them (the
    orders API's daily counts, or an import): the denominator of contacts per order. Kefu's
    own `aftersales.Order` rows are the orders someone asked about, not all of them."""

    day = models.DateField(_("day"), unique=True)
    orders = models.PositiveIntegerField(_("orders placed"))
    updated_at = models.DateTimeField(_("updated"))
    source = models.CharField(_("source"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("orders of a day")
        verbose_name_plural = _("orders per day")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.orders} orders"


class RankingSettings(models.Model):
    """How the monthly 金牌客服 ranking weighs its components (percent, summing to 100) and
    how many resolved tickets in the month an agent needs to be ranked; one row, edited by
    supervisors (analytics.services.ranking_settings_update)."""

    weight_csat = models.PositiveSmallIntegerField(_("CSAT weight (%)"), default=30)
    weight_quality = models.PositiveSmallIntegerField(_("quality weight (%)"), default=30)
    weight_fcr = models.PositiveSmallIntegerField(
        _("first-contact resolution weight (%)"), default=20
    )
    weight_sla = models.PositiveSmallIntegerField(_("SLA attainment weight (%)"), default=20)
    min_resolved = models.PositiveIntegerField(
        _("minimum resolved tickets in the month"), default=20
    )
    updated_at = models.DateTimeField(_("updated"), null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("ranking settings")
        verbose_name_plural = _("ranking settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="analytics_ranking_one"),
            models.CheckConstraint(
                condition=models.Q(
                    weight_csat__lte=100,
                    weight_quality__lte=100,
                    weight_fcr__lte=100,
                    weight_sla__lte=100,
                ),
                name="analytics_ranking_weights_max_100",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Ranking settings"))


# --- forecast and staffing (docs/staffing.md) ----------------------------------------------


class ShopEvent(models.Model):
    """A shop's sale or promotion (618, 双11, a campaign) that lifts contacts on its days by
    `uplift_percent` above the forecast, on one channel or on all."""

    name = models.CharField(_("name"), max_length=100)
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    uplift_percent = models.SmallIntegerField(
        _("expected uplift (%)"), help_text=_("Negative for fewer contacts than usual.")
    )
    channel = models.CharField(
        _("channel"), max_length=10, blank=True, help_text=_("Empty for every channel.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("shop event")
        verbose_name_plural = _("shop events")
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="analytics_event_order"
            ),
            models.CheckConstraint(
                condition=models.Q(uplift_percent__gte=-100), name="analytics_event_uplift"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.start}–{self.end} {self.uplift_percent:+d}%"


class ForecastRun(models.Model):
    """One computed forecast: the contacts expected per channel and 30-minute interval from
    `start` on, before shop events (they are applied when it is read), with the backtest of
    the same method on the weeks before and the recent history it is shown against."""

    computed_at = models.DateTimeField()
    start = models.DateTimeField()  # the first interval, aware
    interval_minutes = models.PositiveSmallIntegerField(default=30)
    intervals = models.PositiveIntegerField()
    history_days = models.PositiveIntegerField()
    # {channel: [contacts per interval]}
    forecast = models.JSONField(default=dict)
    # {"start": iso, "actual": {channel: [...]}, "predicted": {channel: [...]}}
    backtest = models.JSONField(default=dict)
    # {channel: {"mape": float | None, "wape": float | None, "days": int}}
    accuracy = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("forecast")
        verbose_name_plural = _("forecasts")
        get_latest_by = "computed_at"

    def __str__(self) -> str:
        return f"forecast of {self.computed_at:%Y-%m-%d %H:%M}"


class StaffingSettings(models.Model):
    """The staffing targets, one row (pk 1)."""

    service_level_percent = models.PositiveSmallIntegerField(
        _("service level (%)"), default=80, help_text=_("Share answered within the target time.")
    )
    answer_seconds = models.PositiveIntegerField(
        _("target answer time (seconds)"), default=20, help_text=_("For phone and web chat.")
    )
    max_occupancy_percent = models.PositiveSmallIntegerField(_("maximum occupancy (%)"), default=85)
    shrinkage_percent = models.PositiveSmallIntegerField(
        _("shrinkage (%)"), default=30, help_text=_("Breaks, training, meetings, absence.")
    )
    shift_hours = models.PositiveSmallIntegerField(_("shift length (hours)"), default=8)
    # {channel: seconds of an agent's work per reply}; missing channels use the defaults.
    reply_seconds = models.JSONField(_("handling seconds per reply"), default=dict, blank=True)

    class Meta:
        verbose_name = _("staffing settings")
        verbose_name_plural = _("staffing settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(service_level_percent__gte=1, service_level_percent__lte=99),
                name="analytics_staffing_level",
            ),
            models.CheckConstraint(
                condition=models.Q(max_occupancy_percent__gte=1, max_occupancy_percent__lte=100),
                name="analytics_staffing_occupancy",
            ),
            models.CheckConstraint(
                condition=models.Q(shrinkage_percent__lte=90), name="analytics_staffing_shrinkage"
            ),
            models.CheckConstraint(
                condition=models.Q(shift_hours__gte=1, shift_hours__lte=12),
                name="analytics_staffing_shift",
            ),
        ]

    def __str__(self) -> str:
        return "staffing settings"


# --- scheduled reports (docs/metrics.md: Scheduled reports) --------------------------------


class ScheduledReport(models.TextChoices):
    AFTERSALES_WEEKLY = "aftersales_weekly", _("After-sales service report, weekly")
    AFTERSALES_MONTHLY = "aftersales_monthly", _("After-sales service report, monthly")


class ReportLanguage(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class ReportSubscription(models.Model):
    """Who gets which scheduled report by email, in which language and formats. Edited by
    supervisors (analytics.scheduled); sent by the hourly task once per period."""

    report = models.CharField(
        _("report"),
        max_length=30,
        choices=ScheduledReport.choices,
        default=ScheduledReport.AFTERSALES_WEEKLY,
    )
    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="report_subscriptions", verbose_name=_("recipients")
    )
    language = models.CharField(
        _("language"), max_length=10, choices=ReportLanguage.choices, default=ReportLanguage.ZH_HANS
    )
    attach_xlsx = models.BooleanField(_("Excel workbook (XLSX)"), default=True)
    attach_pdf = models.BooleanField(_("PDF"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        ordering = ["report", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(attach_xlsx=True) | models.Q(attach_pdf=True),
                name="analytics_subscription_a_format",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_report_display()} ({self.language})"


class ReportSendStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class ReportSend(models.Model):
    """One scheduled report of one period owed to one recipient: the row is the job. Unique
    per subscription, period and recipient, so a task run twice owes and sends it once; a
    failed send stays owed until it goes out or runs out of attempts."""

    subscription = models.ForeignKey(
        ReportSubscription, on_delete=models.CASCADE, related_name="sends"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(
        max_length=10, choices=ReportSendStatus.choices, default=ReportSendStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # While a worker sends it; a send whose worker died is taken again once this has passed.
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("scheduled report send")
        verbose_name_plural = _("scheduled report sends")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start", "recipient"],
                name="analytics_report_send_once",
            )
        ]
        indexes = [
            models.Index(
                fields=["status"],
                condition=~models.Q(status="sent"),
                name="analytics_report_send_owed",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.period_start} → user {self.recipient_id}"


# --- after-sales case facts (docs/metrics.md: after-sales cycle time, time per step) -------


class CaseFact(models.Model):
    """One row per after-sales case (analytics.casefacts): its type, its opening, its close
    (the last final step) with the cycle time and the amount refunded, and the dimensions of
    its ticket as the ticket stands (team, channel, category, tier, assignee; all empty for a
    case without a ticket). A pure function of the case, its steps and its ticket."""

    case_id = models.BigIntegerField(primary_key=True)
    case_type = models.CharField(max_length=20)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True)
    closed_step = models.CharField(max_length=20, blank=True)
    cycle_wall_s = models.PositiveIntegerField(null=True)
    refunded = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    ticket_id = models.BigIntegerField(null=True)
    team_id = models.BigIntegerField(default=0)  # 0: no team (or no ticket)
    channel = models.CharField(max_length=10, blank=True)
    category = models.CharField(max_length=50, blank=True)
    tier = models.CharField(max_length=20, blank=True)
    agent_id = models.BigIntegerField(null=True)  # 0: unassigned; None: no ticket
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("case fact")
        verbose_name_plural = _("case facts")
        indexes = [
            # A page narrowed to one agent reads the agent's facts by their moments.
            models.Index(fields=["agent_id", "created_at"], name="analytics_casefact_opened"),
            models.Index(fields=["agent_id", "closed_at"], name="analytics_casefact_closed"),
        ]

    def __str__(self) -> str:
        return f"facts of case {self.case_id}"


class CaseStepFact(models.Model):
    """One step a case has left: from the step's moment to the next step's moment of the same
    case, counted on the local day it ended; wall time, and business time where the step had
    a clock (the SLA engine's measure of the step's clock, aftersales.services.clocks). The
    case's type and dimensions are copied in (as on its `CaseFact`)."""

    step_row_id = models.BigIntegerField(primary_key=True)  # aftersales.CaseStep
    case_id = models.BigIntegerField()
    case_type = models.CharField(max_length=20)
    step = models.CharField(max_length=20)
    entered_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    wall_s = models.PositiveIntegerField()
    business_s = models.PositiveIntegerField(null=True)
    team_id = models.BigIntegerField(default=0)
    channel = models.CharField(max_length=10, blank=True)
    category = models.CharField(max_length=50, blank=True)
    tier = models.CharField(max_length=20, blank=True)
    agent_id = models.BigIntegerField(null=True)  # 0: unassigned; None: no ticket

    class Meta:
        verbose_name = _("case step fact")
        verbose_name_plural = _("case step facts")
        indexes = [
            models.Index(fields=["case_id"], name="analytics_casestep_case"),
            models.Index(fields=["agent_id", "ended_at"], name="analytics_casestep_ended"),
        ]

    def __str__(self) -> str:
        return f"case {self.case_id} {self.step}"


class CaseRollupSums(models.Model):
    """What every after-sales rollup sums (analytics.casefacts.contributions says what a case
    adds): on the `submitted` row of its opening day a case's opening; on the row of its final
    step of the closing day its close, cycle time and refund; on a step's row of the day the
    step ended the time spent in it."""

    opened = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    cycle_wall_s = models.BigIntegerField(default=0)
    refunded = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    steps_ended = models.IntegerField(default=0)
    step_wall_s = models.BigIntegerField(default=0)
    step_business_count = models.IntegerField(default=0)
    step_business_s = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class CaseDailyRollup(CaseRollupSums):
    """Per local day, case type, step and the ticket's team, channel, category and tier (all
    empty for a case without a ticket): the finest grain."""

    day = models.DateField()
    case_type = models.CharField(max_length=20)
    step = models.CharField(max_length=20)
    team_id = models.BigIntegerField(default=0)
    channel = models.CharField(max_length=10, blank=True)
    category = models.CharField(max_length=50, blank=True)
    tier = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("daily case rollup")
        verbose_name_plural = _("daily case rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "case_type", "step", "team_id", "channel", "category", "tier"],
                name="analytics_case_rollup_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.case_type} {self.step} team {self.team_id}"


class CaseTypeDailyRollup(CaseRollupSums):
    """Per local day, case type and step only: a few dozen rows a day, for a period of any
    length when the page is not narrowed."""

    day = models.DateField()
    case_type = models.CharField(max_length=20)
    step = models.CharField(max_length=20)

    class Meta:
        verbose_name = _("daily case type rollup")
        verbose_name_plural = _("daily case type rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "case_type", "step"], name="analytics_case_type_rollup_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.case_type} {self.step}"


class CaseMonthlyRollup(CaseRollupSums):
    """Per local month (its first day) with every dimension of the finest grain: the whole
    months of a long period that is narrowed by team, channel, category or tier."""

    month = models.DateField()
    case_type = models.CharField(max_length=20)
    step = models.CharField(max_length=20)
    team_id = models.BigIntegerField(default=0)
    channel = models.CharField(max_length=10, blank=True)
    category = models.CharField(max_length=50, blank=True)
    tier = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("monthly case rollup")
        verbose_name_plural = _("monthly case rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "case_type", "step", "team_id", "channel", "category", "tier"],
                name="analytics_case_month_rollup_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.case_type} {self.step} team {self.team_id}"


class CaseFactDirty(models.Model):
    """The cases whose facts are due a refresh: marked in the transaction of the step that
    moved them (aftersales.signals.case_steps_recorded) or of a change of their ticket's
    team, tier, category or assignee."""

    case_id = models.BigIntegerField(primary_key=True)
    marked_at = models.DateTimeField()

    class Meta:
        verbose_name = _("case fact due a refresh")
        verbose_name_plural = _("case facts due a refresh")

    def __str__(self) -> str:
        return f"case {self.case_id} due a refresh"
