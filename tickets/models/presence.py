"""Who can take a ticket now: agents' presence, their skills, and how many tickets of each
channel they may hold at once. The fields kept on the agent itself are in `teams.py`."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def _channels() -> list[tuple[str, object]]:
    # Read when the field needs them: tickets.models.tickets imports this module's neighbours.
    from tickets.models.tickets import Channel

    return list(Channel.choices)


class AgentStatus(models.TextChoices):
    ONLINE = "online", _("Online")
    BUSY = "busy", _("Busy")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class AgentLevel(models.IntegerChoices):
    JUNIOR = 1, _("Junior")
    REGULAR = 2, _("Regular")
    SENIOR = 3, _("Senior")


class SkillKind(models.TextChoices):
    LANGUAGE = "language", _("Language")
    CATEGORY = "category", _("Category")


class Skill(models.Model):
    """A language ("en", "zh-hans") or a triage category ("logistics") an agent masters.

    A skill that exists is required: a ticket in English goes only to agents with the
    English skill once that skill is defined here, and to anyone while it is not."""

    kind = models.CharField(_("kind"), max_length=20, choices=SkillKind.choices)
    code = models.CharField(
        _("code"),
        max_length=50,
        help_text=_("A language code (zh-hans, en) or a triage category (logistics, refund…)."),
    )
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="tickets_skill_kind_code")
        ]

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()}: {self.code}"


class ChannelCapacity(models.Model):
    """At most `limit` open tickets of one channel assigned at once: an agent's own limit,
    or a team's default for its agents."""

    agent = models.ForeignKey(
        "tickets.Agent",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="channel_capacities",
        verbose_name=_("agent"),
    )
    team = models.ForeignKey(
        "tickets.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="channel_capacities",
        verbose_name=_("team"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=_channels)
    limit = models.PositiveSmallIntegerField(_("open tickets at once"))

    class Meta:
        verbose_name = _("channel capacity")
        verbose_name_plural = _("channel capacities")
        constraints = [
            models.CheckConstraint(
                condition=Q(agent__isnull=False, team__isnull=True)
                | Q(agent__isnull=True, team__isnull=False),
                name="tickets_channel_capacity_agent_or_team",
            ),
            models.UniqueConstraint(
                fields=["agent", "channel"],
                condition=Q(agent__isnull=False),
                name="tickets_channel_capacity_agent",
            ),
            models.UniqueConstraint(
                fields=["team", "channel"],
                condition=Q(team__isnull=False),
                name="tickets_channel_capacity_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent or self.team} · {self.channel} ≤ {self.limit}"
