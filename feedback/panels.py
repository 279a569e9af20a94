"""The quality card on the ticket page (tickets.hooks): the ticket's reviews, shown to
supervisors and to the reviewed agent only (each agent sees only the reviews of their own
work)."""

from django.http import HttpRequest
from django.template.loader import render_to_string

from feedback.models import Review
from kefu.roles import Role, has_role
from tickets.models import Ticket


def quality_panel(request: HttpRequest, ticket: Ticket) -> str:
    reviews = Review.objects.filter(ticket=ticket).select_related(
        "agent__user", "reviewer", "appeal"
    )
    if not has_role(request.user, Role.SUPERVISOR):
        reviews = reviews.filter(agent__user_id=request.user.pk or 0)
    shown = list(reviews.order_by("submitted_at", "pk"))
    if not shown:
        return ""
    return render_to_string(
        "feedback/quality/_ticket_panel.html", {"reviews": shown}, request=request
    )
