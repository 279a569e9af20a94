from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.timezone import localtime
from django.views.decorators.http import require_GET

from analytics import selectors
from feedback.selectors.complaints import overdue_actions
from kefu.roles import Role, role_required
from sla.models import EscalationAction, Milestone
from tickets.masking import mask_text
from tickets.models import AgentStatus
from tickets.templatetags.kefu_format import business_duration


def _counters() -> dict[str, object]:
    values = selectors.board_counters()
    average = values["first_response_avg_seconds"]
    values["first_response_avg_display"] = "—" if average is None else business_duration(average)
    values["likely_to_breach"] = [
        {
            "number": f.number,
            "subject": f.subject,
            "team": f.team,
            "due_at": localtime(f.due_at).strftime("%m-%d %H:%M"),
            "left": business_duration(f.seconds_left),
            "ahead": f.ahead,
            "rate_per_hour": f.rate_per_hour,
            "probability": round(f.probability * 100),
        }
        for f in selectors.breach_forecast()
    ]
    actions = dict(EscalationAction.choices)
    milestones = dict(Milestone.choices)
    values["escalations"] = [
        {
            "number": e.number,
            "subject": e.subject,
            "what": f"{milestones.get(e.milestone, e.milestone)} · L{e.level} · "
            f"{actions.get(e.action, e.action)}",
            "at": localtime(e.at).strftime("%H:%M"),
        }
        for e in selectors.recent_escalations()
    ]
    values["overdue_actions"] = [
        {
            "number": review.complaint.ticket.number,
            "cause": str(review.root_cause),
            "action": mask_text(review.action[:80]),
            "owner": review.action_owner.get_full_name() or review.action_owner.get_username(),
            "due": review.action_due.isoformat(),
        }
        for review in overdue_actions()
    ]
    statuses = dict(AgentStatus.choices)
    values["agents"] = [
        {
            "name": p.name,
            "status": p.status,
            "status_display": statuses.get(p.status, p.status),
            "since": localtime(p.since).strftime("%H:%M") if p.since else "",
            "open_tickets": p.open_tickets,
            "capacity": p.capacity,
        }
        for p in selectors.agents_presence()
    ]
    values["agents_online"] = sum(1 for p in values["agents"] if p["status"] == "online")
    return values


@require_GET
@role_required(Role.SUPERVISOR)
def board(request: HttpRequest) -> HttpResponse:
    return render(request, "board/board.html", {"counters": _counters()})


@require_GET
@role_required(Role.SUPERVISOR)
def board_live(request: HttpRequest) -> HttpResponse:
    """The board's counters, likely breaches and escalations, fetched by the page (htmx) when
    a board event arrives."""
    return render(request, "board/_live.html", {"counters": _counters()})


@require_GET
@role_required(Role.SUPERVISOR)
def board_counters(request: HttpRequest) -> JsonResponse:
    """The same figures as JSON, for other screens and scripts."""
    return JsonResponse(_counters())
