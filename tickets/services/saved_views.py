"""Saved queue views: made, renamed and deleted by their owners; shared with a team by
supervisors (tickets.saved_views says who sees and may change which)."""

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from kefu.roles import Role, has_role
from tickets.filters import TicketFilters
from tickets.models import SavedView, Team
from tickets.saved_views import saved_view_may_edit
from tickets.sorting import sort_parse


def _name_clean(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError(_("Give the view a name."))
    return name[:80]


def _sort_clean(sort: str) -> str:
    column, descending = sort_parse(sort)
    return f"-{column}" if descending else column


def saved_view_create(
    *, owner: User, name: str, filters: TicketFilters, sort: str, team: Team | None
) -> SavedView:
    """A view of the queue with these filters and sort; with a team, shared with it (only
    supervisors share)."""
    if team is not None and not has_role(owner, Role.SUPERVISOR):
        raise PermissionDenied(_("Only supervisors share views with a team."))
    return SavedView.objects.create(
        name=_name_clean(name),
        owner=owner,
        team=team,
        filters=filters.as_params(),
        sort=_sort_clean(sort),
    )


def saved_view_rename(*, view: SavedView, actor: User, name: str) -> SavedView:
    if not saved_view_may_edit(actor, view):
        raise PermissionDenied(_("You may not change this view."))
    view.name = _name_clean(name)
    view.save(update_fields=["name"])
    return view


def saved_view_delete(*, view: SavedView, actor: User) -> None:
    if not saved_view_may_edit(actor, view):
        raise PermissionDenied(_("You may not change this view."))
    view.delete()
