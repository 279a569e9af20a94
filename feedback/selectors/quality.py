"""Reads of quality inspection: who may review, which reviews and samples a user may see,
a conversation with its pre-check findings, and the calibration pairs."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from feedback.models import Appeal, AppealStatus, PrecheckHit, Review, Reviewer, Sample
from feedback.services.scoring import Agreement, agreement_of
from kefu.roles import Role, has_role
from tickets.models import Message, Ticket


def can_review(user: Any) -> bool:
    """Supervisors, and the members of staff a supervisor named reviewers."""
    if has_role(user, Role.SUPERVISOR):
        return True
    if not has_role(user, Role.AGENT):
        return False
    return Reviewer.objects.filter(user=user).exists()


def reviews_visible_to(user: Any) -> QuerySet[Review]:
    """Supervisors see every review; anyone else the reviews of their own work and the ones
    they wrote. Never another agent's."""
    reviews = Review.objects.select_related("ticket", "agent__user", "reviewer", "version")
    if has_role(user, Role.SUPERVISOR):
        return reviews
    if not has_role(user, Role.AGENT):
        return reviews.none()
    return reviews.filter(Q(agent__user=user) | Q(reviewer=user))


def samples_for_reviewer(user: Any, *, week: Any = None) -> QuerySet[Sample]:
    """The samples a reviewer may take, most pre-check findings first; never their own
    tickets."""
    if not can_review(user):
        return Sample.objects.none()
    samples = (
        Sample.objects.exclude(agent__user=user)
        .select_related("ticket", "team", "agent__user")
        .annotate(hit_count=Count("hits", distinct=True))
        .annotate(review_count=Count("reviews", distinct=True))
        .annotate(mine=Count("reviews", filter=Q(reviews__reviewer=user), distinct=True))
    )
    if week is not None:
        samples = samples.filter(week=week)
    return samples.order_by("-week", "-hit_count", "pk")


@dataclass(frozen=True)
class ConversationLine:
    message: Message
    hits: list[PrecheckHit]


def conversation(ticket: Ticket, hits: list[PrecheckHit]) -> list[ConversationLine]:
    """The ticket's messages, oldest first, each with the findings that point at it."""
    by_message: dict[int | None, list[PrecheckHit]] = {}
    for hit in hits:
        by_message.setdefault(hit.message_id, []).append(hit)
    messages = (
        Message.objects.filter(ticket=ticket)
        .select_related("author__user")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )
    return [ConversationLine(message=m, hits=by_message.get(m.pk, [])) for m in messages]


@dataclass(frozen=True)
class CalibrationPair:
    first: Review
    second: Review
    agreement: Agreement


def calibration_pairs(*, limit: int = 200) -> list[CalibrationPair]:
    """Every two reviews of one ticket by different reviewers, newest tickets first."""
    doubled = (
        Review.objects.values("ticket_id")
        .annotate(reviewers=Count("reviewer", distinct=True))
        .filter(reviewers__gte=2)
        .values("ticket_id")
    )
    reviews = list(
        Review.objects.filter(ticket_id__in=doubled)
        .select_related("ticket", "agent__user", "reviewer")
        .prefetch_related("items__item")
        .order_by("-ticket_id", "submitted_at", "pk")[: limit * 2]
    )
    by_ticket: dict[int, list[Review]] = {}
    for review in reviews:
        by_ticket.setdefault(review.ticket_id, []).append(review)
    pairs = []
    for ticket_reviews in by_ticket.values():
        for index, first in enumerate(ticket_reviews):
            for second in ticket_reviews[index + 1 :]:
                pairs.append(
                    CalibrationPair(
                        first=first, second=second, agreement=agreement_of(first, second)
                    )
                )
    return pairs[:limit]


def open_appeals() -> QuerySet[Appeal]:
    return (
        Appeal.objects.filter(status=AppealStatus.OPEN)
        .select_related("review__ticket", "review__agent__user", "review__reviewer")
        .order_by("created_at")
    )
