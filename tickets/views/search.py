"""Find anything (the header's search box) and the queue's saved views."""

from typing import cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kefu.roles import Role, has_role, role_required
from tickets import saved_views, sorting
from tickets.filters import TicketFilterForm, TicketFilters, filters_from
from tickets.models import SavedView, Team
from tickets.search import search as search_run
from tickets.services import saved_views as saved_view_services

# The queue's columns, in order, with the sort each header link asks for.
QUEUE_COLUMNS = (
    ("number", gettext_lazy("Number")),
    ("subject", gettext_lazy("Subject")),
    ("customer", gettext_lazy("Customer")),
    ("priority", gettext_lazy("Priority")),
    ("channel", gettext_lazy("Channel")),
    ("status", gettext_lazy("Status")),
    ("team", gettext_lazy("Team")),
    ("assignee", gettext_lazy("Assignee")),
    ("due", gettext_lazy("SLA due")),
    ("opened", gettext_lazy("Opened")),
)


@require_GET
@role_required(Role.AGENT)
def search(request: HttpRequest) -> HttpResponse:
    """`/search/?q=…` with the filters of the queue: customers and tickets the user may see.
    A query that is exactly the number of a ticket the user may open opens that ticket."""
    form = TicketFilterForm(request.GET)
    filters = form.filters()
    raw = request.GET.get("q", "")
    after = request.GET.get("after", "")
    results = search_run(user=request.user, raw=raw, filters=filters, cursor=after)
    if results.jump_to is not None and filters.is_empty:
        return redirect("tickets:ticket", number=results.jump_to.number)
    return render(
        request,
        "agent/search.html",
        {
            "q": results.query.text,
            "results": results,
            "filter_form": form,
            "filters": filters,
            "more_query": urlencode(
                {"q": results.query.text, **filters.as_params(), "after": results.next_cursor}
            )
            if results.next_cursor
            else "",
        },
    )


def _sort_headers(sort: str, base_query: str) -> list[dict[str, object]]:
    column, descending = sorting.sort_parse(sort)
    headers = []
    for key, label in QUEUE_COLUMNS:
        active = key == column
        # A click on the sorted column turns it around; on another, sorts by it ascending.
        wanted = (key if descending else f"-{key}") if active else key
        headers.append(
            {
                "label": label,
                "active": active,
                "descending": active and descending,
                "href": f"?{base_query}&{urlencode({'sort': wanted})}",
            }
        )
    return headers


def queue_query_context(request: HttpRequest, view: str) -> dict[str, object]:
    """The queue's filters and sort as the request (or the saved view it names) gives them,
    and the query strings the page's links carry."""
    saved: SavedView | None = None
    saved_id = request.GET.get("saved", "")
    if saved_id.isdigit():
        saved = saved_views.saved_view_for(request.user, int(saved_id))
    if saved is not None:
        filters = filters_from(saved.filters)
        sort = request.GET.get("sort") or saved.sort
    else:
        filters = filters_from(request.GET)
        sort = request.GET.get("sort", "priority")
    column, descending = sorting.sort_parse(sort)
    sort = f"-{column}" if descending else column
    base = {"view": view, **filters.as_params()}
    if saved is not None:
        base = {"view": view, "saved": str(saved.pk)}
    base_query = urlencode(base)
    return {
        "sort": sort,
        "filters": filters,
        "saved": saved,
        "base_query": base_query,
        "query": f"{base_query}&{urlencode({'sort': sort})}",
        "headers": _sort_headers(sort, base_query),
    }


def queue_sidebar_context(request: HttpRequest, filters: TicketFilters) -> dict[str, object]:
    """The queue page's filter form and saved views (with their counts)."""
    return {
        "filter_form": TicketFilterForm(initial=filters.as_params()),
        "saved_views": saved_views.saved_views_with_counts(request.user),
        "share_teams": Team.objects.order_by("name")
        if has_role(request.user, Role.SUPERVISOR)
        else [],
    }


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _back_to_queue(view: SavedView | None = None) -> HttpResponse:
    url = reverse("tickets:queue")
    return redirect(f"{url}?{urlencode({'saved': view.pk})}" if view else url)


@require_POST
@role_required(Role.AGENT)
def saved_view_create(request: HttpRequest) -> HttpResponse:
    """Save the queue's current filters and sort (posted as the page's query) under a name;
    a supervisor may share it with a team."""
    team: Team | None = None
    if request.POST.get("team", "").isdigit():
        team = Team.objects.filter(pk=int(request.POST["team"])).first()
    try:
        view = saved_view_services.saved_view_create(
            owner=_user(request),
            name=request.POST.get("name", ""),
            filters=filters_from(request.POST),
            sort=request.POST.get("sort", "priority"),
            team=team,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back_to_queue()
    return _back_to_queue(view)


def _view_or_404(request: HttpRequest, pk: int) -> SavedView:
    view = saved_views.saved_view_for(request.user, pk)
    if view is None:
        raise Http404(_("No such view"))
    return view


@require_POST
@role_required(Role.AGENT)
def saved_view_rename(request: HttpRequest, pk: int) -> HttpResponse:
    view = _view_or_404(request, pk)
    try:
        saved_view_services.saved_view_rename(
            view=view, actor=_user(request), name=request.POST.get("name", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return _back_to_queue(view)


@require_POST
@role_required(Role.AGENT)
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    view = _view_or_404(request, pk)
    saved_view_services.saved_view_delete(view=view, actor=_user(request))
    return _back_to_queue()
