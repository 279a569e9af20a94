"""Feedback's cards on the ticket page (tickets.hooks): the quality card (the ticket's
reviews, shown to supervisors and to the reviewed agent only: each agent sees only the
reviews of their own work) and the complaint card."""

from django.http import HttpRequest
from django.template.loader import render_to_string

from feedback.models import Complaint, Review, Suggestion
from kb.rules import Category
from kefu.roles import Role, has_role
from tickets.models import Ticket


def quality_panel(request: HttpRequest, ticket: Ticket) -> str:
    reviews = Review.objects.filter(ticket=ticket).prefetch_related(
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


def complaint_panel(request: HttpRequest, ticket: Ticket) -> str:
    """The complaint card on the ticket page (staff only, as the page is): whether the ticket
    is a complaint, its owner and review, the flag or unflag form, and the customer's
    suggestion recorded from it or the form to record one."""
    is_complaint = ticket.category == Category.COMPLAINT
    # Only a complaint has a complaint row worth reading: ordinary tickets pay one query (the
    # suggestion) for this card.
    complaint = (
        Complaint.objects.select_related("owner", "review__root_cause")
        .filter(ticket=ticket)
        .first()
        if is_complaint
        else None
    )
    review = getattr(complaint, "review", None) if complaint is not None else None
    return render_to_string(
        "feedback/complaints/_ticket_panel.html",
        {
            "ticket": ticket,
            "is_complaint": is_complaint,
            "complaint": complaint if is_complaint else None,
            "review": review,
            "is_supervisor": has_role(request.user, Role.SUPERVISOR),
            "suggestion": Suggestion.objects.filter(ticket=ticket).first(),
        },
        request=request,
    )
