"""Reads of saved queue views: which a user sees, with how many tickets each holds now."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from kefu.roles import Role, has_role
from tickets.filters import filters_from
from tickets.models import SavedView
from tickets.selectors import queue_tickets, team_ids_for

SAVED_VIEWS_SHOWN = 30


@dataclass(frozen=True)
class SavedViewCount:
    view: SavedView
    count: int
    may_edit: bool


def saved_views_visible_to(user: Any) -> QuerySet[SavedView]:
    """The user's own views and those shared with their teams (supervisors: every shared
    view)."""
    if not has_role(user, Role.AGENT):
        return SavedView.objects.none()
    teams = team_ids_for(user)
    shared = Q(team__isnull=False) if teams is None else Q(team_id__in=teams)
    return SavedView.objects.filter(Q(owner=user, team__isnull=True) | shared).select_related(
        "team"
    )


def saved_view_for(user: Any, pk: int) -> SavedView | None:
    return saved_views_visible_to(user).filter(pk=pk).first()


def saved_view_may_edit(user: Any, view: SavedView) -> bool:
    """Its owner may rename or delete a personal view; a supervisor, a shared one."""
    if view.team_id is None:
        return bool(view.owner_id == getattr(user, "pk", None))
    return has_role(user, Role.SUPERVISOR)


def saved_views_with_counts(user: Any) -> list[SavedViewCount]:
    """The views the user sees, each with the number of tickets it shows them now (one
    count per view, by the queue's own query)."""
    views = list(saved_views_visible_to(user)[:SAVED_VIEWS_SHOWN])
    return [
        SavedViewCount(
            view=view,
            count=queue_tickets(user=user, view="team", filters=filters_from(view.filters)).count(),
            may_edit=saved_view_may_edit(user, view),
        )
        for view in views
    ]
