"""The agent's presence switch in the header of staff pages."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kefu.roles import Role, role_required
from tickets import selectors
from tickets.models import Agent
from tickets.services.presence import presence_set


def _state(agent: Agent) -> dict[str, object]:
    return {"status": agent.status, "auto": agent.status_is_auto}


@require_http_methods(["GET", "POST"])
@role_required(Role.AGENT)
def presence(request: HttpRequest) -> HttpResponse:
    """GET: the signed-in agent's status. POST `status` (online, busy, away): set it. JSON,
    or the switch's HTML for htmx."""
    agent = selectors.agent_for(request.user)
    if agent is None:
        raise PermissionDenied(_("Only agents have a status."))
    if request.method == "POST":
        try:
            agent = presence_set(agent=agent, status=request.POST.get("status", ""))
        except ValidationError as error:
            return HttpResponseBadRequest("; ".join(error.messages))
    if request.headers.get("HX-Request"):
        return render(request, "agent/_presence.html", {"agent": agent})
    if request.method == "POST" and "application/json" not in request.headers.get("Accept", ""):
        # The switch posted without its script: back to the page it was on.
        back = request.headers.get("Referer", "")
        if url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(back)
        return redirect("tickets:queue")
    return JsonResponse(_state(agent))
