"""Reviews: a reviewer scores a ticket against a scorecard version; the reviewed agent
acknowledges it or appeals with a reason; a supervisor decides the appeal (upheld: the
ratings the decision names change, and the score with them, recorded on the appeal)."""

from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback.models import (
    Appeal,
    AppealStatus,
    Rating,
    Review,
    ReviewItem,
    Sample,
    ScorecardVersion,
)
from feedback.services.scoring import score_of
from tickets.models import Agent, Ticket
from tickets.services.audit import audit_record


@dataclass(frozen=True)
class ItemRating:
    rating: str
    comment: str = ""


def _checked(version: ScorecardVersion, ratings: Mapping[int, ItemRating]) -> None:
    items = {item.pk: item for item in version.items.all()}
    missing = set(items) - set(ratings)
    if missing:
        raise ValidationError(_("Rate every item of the scorecard."))
    for item_id, given in ratings.items():
        item = items.get(item_id)
        if item is None:
            raise ValidationError(_("An item is not on this scorecard version."))
        if given.rating not in Rating.values:
            raise ValidationError(_("Unknown rating."))
        if item.is_critical and given.rating not in (Rating.MET, Rating.MISSED):
            raise ValidationError(_("A critical item is either met or missed."))


def review_submit(
    *,
    ticket: Ticket,
    agent: Agent,
    reviewer: User,
    version: ScorecardVersion,
    ratings: Mapping[int, ItemRating],
    comment: str,
    sample: Sample | None = None,
) -> Review:
    """Store a reviewer's scoring of `agent`'s handling of `ticket` (one per reviewer and
    ticket) and its score; audited. Raises ValidationError for an incomplete scoring, a
    second review by the same reviewer, or a reviewer reviewing their own ticket."""
    if agent.user_id == reviewer.pk:
        raise ValidationError(_("Nobody reviews their own tickets."))
    _checked(version, ratings)
    items = {item.pk: item for item in version.items.all()}
    score = score_of((items[item_id], given.rating) for item_id, given in ratings.items())
    try:
        with transaction.atomic():
            review = Review.objects.create(
                sample=sample,
                ticket=ticket,
                agent=agent,
                reviewer=reviewer,
                version=version,
                score=score.value,
                is_failed=score.is_failed,
                comment=comment.strip(),
                submitted_at=timezone.now(),
            )
            ReviewItem.objects.bulk_create(
                ReviewItem(
                    review=review, item_id=item_id, rating=given.rating, comment=given.comment
                )
                for item_id, given in sorted(ratings.items())
            )
            audit_record(
                actor=reviewer,
                action="quality_review_submitted",
                object_type="quality_review",
                object_id=str(review.pk),
                data={
                    "ticket": ticket.number,
                    "agent": agent.pk,
                    "version": version.pk,
                    "score": str(score.value),
                    "failed": score.is_failed,
                },
            )
    except IntegrityError as error:
        raise ValidationError(_("You have reviewed this ticket already.")) from error
    return review


def _own(review: Review, user: User) -> None:
    if review.agent.user_id != user.pk:
        raise PermissionDenied


def review_acknowledge(*, review: Review, user: User) -> bool:
    """The reviewed agent accepts the review; False when it was acknowledged or appealed
    already (nothing changes)."""
    _own(review, user)
    if Appeal.objects.filter(review=review).exists():
        return False
    changed = Review.objects.filter(pk=review.pk, acknowledged_at=None).update(
        acknowledged_at=timezone.now()
    )
    return changed == 1


def appeal_open(*, review: Review, user: User, reason: str) -> Appeal:
    """The reviewed agent appeals, with a reason; one appeal per review, none after the
    agent acknowledged it."""
    _own(review, user)
    if not reason.strip():
        raise ValidationError(_("Say why you appeal."))
    if review.acknowledged_at is not None:
        raise ValidationError(_("You acknowledged this review."))
    try:
        with transaction.atomic():
            return Appeal.objects.create(
                review=review, reason=reason.strip(), created_at=timezone.now()
            )
    except IntegrityError as error:
        raise ValidationError(_("This review has been appealed already.")) from error


def appeal_decide(
    *,
    appeal: Appeal,
    supervisor: User,
    upheld: bool,
    note: str,
    new_ratings: Mapping[int, str],
) -> Appeal:
    """Decide an open appeal once (the row is locked; a second decision is refused).
    Upheld: the items in `new_ratings` take those ratings and the score is computed again;
    the appeal records the score before and after and each change. Audited."""
    with transaction.atomic():
        locked = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if locked.status != AppealStatus.OPEN:
            raise ValidationError(_("This appeal has been decided already."))
        review = Review.objects.select_for_update().get(pk=locked.review_id)
        rows = {row.item_id: row for row in review.items.select_related("item")}
        changes: dict[str, list[str]] = {}
        if upheld:
            for item_id, rating in new_ratings.items():
                row = rows.get(item_id)
                if row is None or rating not in Rating.values:
                    raise ValidationError(_("An item is not on this review."))
                if row.item.is_critical and rating not in (Rating.MET, Rating.MISSED):
                    raise ValidationError(_("A critical item is either met or missed."))
                if rating != row.rating:
                    changes[str(item_id)] = [row.rating, rating]
                    row.rating = rating
                    row.save(update_fields=["rating"])
        score = score_of((row.item, row.rating) for row in rows.values())
        locked.score_before = review.score
        locked.score_after = score.value
        if upheld:
            review.score = score.value
            review.is_failed = score.is_failed
            review.save(update_fields=["score", "is_failed"])
        else:
            locked.score_after = review.score
        locked.status = AppealStatus.UPHELD if upheld else AppealStatus.REJECTED
        locked.decided_by = supervisor
        locked.decided_at = timezone.now()
        locked.decision_note = note.strip()
        locked.changes = changes
        locked.save()
        audit_record(
            actor=supervisor,
            action="quality_appeal_decided",
            object_type="quality_review",
            object_id=str(review.pk),
            data={
                "appeal": locked.pk,
                "status": locked.status,
                "score_before": str(locked.score_before),
                "score_after": str(locked.score_after),
                "changes": changes,
            },
        )
    return locked
