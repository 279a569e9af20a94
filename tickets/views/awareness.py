"""Staying aware: the header's notification bell (its fragment, marking read, the sound
setting) and what the reply box asks before it sends (did anything arrive meanwhile?)."""

from typing import cast

from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.roles import Role, role_required
from tickets import selectors
from tickets.services.alerts import alert_settings_set
from tickets.services.notifications import notification_mark_read, notifications_mark_all_read
from tickets.templatetags.kefu_aware import bell_state


def _user(request: HttpRequest) -> User:
    # Every view here is behind role_required, so the user is a signed-in staff user.
    return cast(User, request.user)


def _bell_fragment(request: HttpRequest, *, changed: bool = False) -> HttpResponse:
    response = render(request, "agent/_bell_panel.html", {**bell_state(request.user), "oob": True})
    if changed:
        # Other lists of notifications on the page (the queue's) follow.
        response["HX-Trigger"] = "kefu:notification"
    return response


def _back(request: HttpRequest) -> HttpResponse:
    """Without htmx, a bell form goes back to the page it was sent from."""
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(referer)
    return redirect("tickets:queue")


@require_GET
@role_required(Role.AGENT)
def bell(request: HttpRequest) -> HttpResponse:
    """The bell's list and count, fetched (htmx) when a notification event arrives."""
    return _bell_fragment(request)


@require_POST
@role_required(Role.AGENT)
def bell_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Dismiss one of the user's notifications (someone else's is left alone)."""
    notification_mark_read(user=_user(request), notification_id=pk)
    return (
        _bell_fragment(request, changed=True)
        if request.headers.get("HX-Request")
        else _back(request)
    )


@require_POST
@role_required(Role.AGENT)
def bell_read_all(request: HttpRequest) -> HttpResponse:
    notifications_mark_all_read(user=_user(request))
    return (
        _bell_fragment(request, changed=True)
        if request.headers.get("HX-Request")
        else _back(request)
    )


@require_POST
@role_required(Role.AGENT)
def alert_settings(request: HttpRequest) -> HttpResponse:
    """Turn the alert sound on or off (a checkbox: absent means off)."""
    alert_settings_set(user=_user(request), play_sound=request.POST.get("play_sound") == "on")
    return _bell_fragment(request) if request.headers.get("HX-Request") else _back(request)


@require_GET
@role_required(Role.AGENT)
def reply_unseen(request: HttpRequest, number: str) -> JsonResponse:
    """Asked by the reply box before it sends: how many messages the agent has not seen
    arrived after `seen` (the customer's, other agents' replies), and the newest message's
    id, which the form sends as seen once the agent chose to send anyway. The reply view
    checks again, under the ticket's lock."""
    ticket = selectors.ticket_for(request.user, number)
    if ticket is None:
        raise Http404(_("No such ticket"))
    agent = selectors.agent_for(request.user)
    seen = request.GET.get("seen", "")
    if agent is None or not seen.isdigit():
        return JsonResponse({"error": _("Say which message was seen last: seen=…")}, status=400)
    unseen = list(
        selectors.messages_unseen(
            ticket=ticket, seen_message_id=int(seen), agent=agent
        ).values_list("direction", flat=True)[:100]
    )
    return JsonResponse(
        {
            "unseen": len(unseen),
            "from_customer": sum(1 for direction in unseen if direction == "in"),
            "replies": sum(1 for direction in unseen if direction == "out"),
            "last_id": selectors.message_last_id(ticket=ticket),
        }
    )
