"""Teams, their agents and the rules that route new tickets to them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sla.models import BusinessCalendar
from tickets.models.presence import AgentLevel, AgentStatus, Skill


class Department(models.TextChoices):
    CUSTOMER_SERVICE = "customer_service", _("Customer service")
    TECH_SUPPORT = "tech_support", _("Tech support")
    LOGISTICS = "logistics", _("Logistics")
    AFTER_SALES = "after_sales", _("After-sales")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    department = models.CharField(_("department"), max_length=30, choices=Department.choices)
    is_default = models.BooleanField(
        _("default team"), default=False, help_text=_("Gets tickets no routing rule matches.")
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("business calendar"),
        help_text=_("The team's hours for SLA timers; empty for the policy's calendar."),
    )
    urgent_level = models.PositiveSmallIntegerField(
        _("level for urgent tickets"),
        choices=AgentLevel.choices,
        default=AgentLevel.JUNIOR,
        help_text=_("Urgent tickets are assigned only to agents of this level or above."),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="tickets_one_default_team"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Agent(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    teams = models.ManyToManyField(Team, related_name="agents", blank=True)
    capacity = models.PositiveSmallIntegerField(_("capacity (open tickets)"), default=20)
    # The standing switch (off while on leave or in training); presence is `status`.
    is_available = models.BooleanField(
        _("available"),
        default=True,
        help_text=_("Off: never assigned tickets automatically, whatever their status."),
    )
    # Presence (tickets/services/presence.py): online when a page is open, away when idle,
    # offline when the last page closed; busy only by the agent's own choice.
    status = models.CharField(
        _("status"), max_length=10, choices=AgentStatus.choices, default=AgentStatus.OFFLINE
    )
    status_is_auto = models.BooleanField(
        _("status set by Kefu"), default=False, help_text=_("Away because idle, not by choice.")
    )
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    last_assigned_at = models.DateTimeField(_("last assigned a ticket"), null=True, blank=True)
    takes_tickets = models.BooleanField(
        _("takes tickets as a supervisor"),
        default=False,
        help_text=_("Supervisors and admins are assigned tickets automatically only when on."),
    )
    level = models.PositiveSmallIntegerField(
        _("level"), choices=AgentLevel.choices, default=AgentLevel.JUNIOR
    )
    skills = models.ManyToManyField(Skill, related_name="agents", blank=True)
    shift_calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("shift hours"),
        help_text=_("Assigned tickets only within these hours; empty for any time online."),
    )

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class RoutingRule(models.Model):
    """Send tickets of a triage category to a team."""

    category = models.CharField(_("category"), max_length=50, unique=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return f"{self.category} → {self.team}"
