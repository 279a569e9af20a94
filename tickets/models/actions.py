"""What agents do to tickets beyond replying: stores (for tickets opened at a counter),
custom fields per category, transfers with their note, merges that can be undone, and links
between related tickets."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tickets.models.teams import Agent, Team
from tickets.models.tickets import Ticket


class Store(models.Model):
    """A shop where customers come to the counter; a ticket opened there names it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["city", "name"]

    def __str__(self) -> str:
        return f"{self.city} · {self.name}" if self.city else self.name


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    CHOICE = "choice", _("Choice")


class CustomField(models.Model):
    """A field agents fill in on tickets of some categories (an order number, a SKU). The
    values live on the ticket (`Ticket.custom_fields`, by `key`)."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    label_zh = models.CharField(_("label (Chinese)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100)
    type = models.CharField(
        _("type"), max_length=10, choices=CustomFieldType.choices, default=CustomFieldType.TEXT
    )
    choices = models.JSONField(
        _("choices"), default=list, blank=True, help_text=_("For a choice field: the options.")
    )
    categories = models.JSONField(
        _("categories"),
        default=list,
        blank=True,
        help_text=_("Triage categories whose tickets have this field; empty for all."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.label_en if (get_language() or "").startswith("en") else self.label_zh

    def applies_to(self, category: str) -> bool:
        return not self.categories or category in self.categories


class TicketTransfer(models.Model):
    """A ticket handed to another team or agent, with the note that says why: the receiving
    team reads it on the ticket and in its queue."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="transfers")
    from_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_agent = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("transferred at"))

    class Meta:
        verbose_name = _("ticket transfer")
        verbose_name_plural = _("ticket transfers")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.from_team_id} → {self.to_team_id}"


class TicketMerge(models.Model):
    """One ticket (`source`) merged into another (`target`, the survivor). `moved` lists the
    ids of the messages that moved and the source's state before, so that undoing moves
    exactly those back."""

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="merges_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="merges_in")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    moved = models.JSONField(_("moved"), default=dict)
    created_at = models.DateTimeField(_("merged at"))
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("ticket merge")
        verbose_name_plural = _("ticket merges")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source_id} → {self.target_id}"


class TicketLink(models.Model):
    """Two related tickets, shown on both pages. Stored once, lower id first."""

    first = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("linked at"))

    class Meta:
        verbose_name = _("ticket link")
        verbose_name_plural = _("ticket links")
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="tickets_link_unique"),
            models.CheckConstraint(condition=Q(first__lt=F("second")), name="tickets_link_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.first_id} ↔ {self.second_id}"
