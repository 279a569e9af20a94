"""Saved views of the queue: a name, the filters and the sort, kept by an agent for
themselves or shared by a supervisor with a team."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models.teams import Team


class SavedView(models.Model):
    name = models.CharField(_("name"), max_length=80)
    # Who made it; they may rename and delete it. A view with a team is shared with that
    # team's agents (only supervisors share); without, it is its owner's alone.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_views",
        verbose_name=_("owner"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_views",
        verbose_name=_("shared with team"),
    )
    # The queue's query: filter names to values as the filter form takes them, and the sort
    # ("column" or "-column").
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    sort = models.CharField(_("sort"), max_length=20, default="priority")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["owner"], name="tickets_savedview_owner"),
            models.Index(fields=["team"], name="tickets_savedview_team"),
        ]

    def __str__(self) -> str:
        return self.name
