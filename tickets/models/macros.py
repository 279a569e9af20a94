"""Macros: replies agents keep ready, with variables filled from the ticket and actions
carried out when the reply is sent (tickets/services/macros.py)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.models.teams import Agent, Team
from tickets.models.tickets import Status


class MacroLanguage(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class Macro(models.Model):
    """A ready reply. Personal (an `owner`: only that agent sees and edits it) or shared:
    with a team (its agents see it) or with everyone (no team); supervisors edit shared
    ones. The body may hold {customer_name}, {ticket_number}, {order_number} and
    {agent_name}."""

    name = models.CharField(_("name"), max_length=100)
    body = models.TextField(_("text"), max_length=5000)
    language = models.CharField(
        _("language"), max_length=10, choices=MacroLanguage.choices, default=MacroLanguage.ZH_HANS
    )
    owner = models.ForeignKey(
        Agent,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="macros",
        verbose_name=_("personal macro of"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="macros",
        verbose_name=_("shared with team"),
    )
    # Actions, carried out when the reply the macro went into is sent ("" / NULL: none).
    set_status = models.CharField(
        _("set status"), max_length=20, choices=Status.choices, blank=True, default=""
    )
    add_tag = models.CharField(_("add tag"), max_length=50, blank=True, default="")
    transfer_to = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("transfer to team"),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("macro")
        verbose_name_plural = _("macros")
        ordering = ["name", "pk"]
        constraints = [
            # A personal macro belongs to its owner alone: it is not shared with a team too.
            models.CheckConstraint(
                condition=Q(owner__isnull=True) | Q(team__isnull=True),
                name="tickets_macro_personal_or_shared",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_personal(self) -> bool:
        return self.owner_id is not None

    @property
    def has_actions(self) -> bool:
        return bool(self.set_status or self.add_tag or self.transfer_to_id)
