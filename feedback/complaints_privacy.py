"""What complaints and suggestions hold about a customer, for the core's export and erasure
(`tickets.personal_data`): the customer's suggestions (their own words) and the reviews of
their complaints (staff's account of what happened may quote them).

Erasing keeps what the counts need: a suggestion keeps its status and dates but loses its
title, text and note; a review keeps its root cause, department, action status and dates but
loses its free text (what happened, the corrective action)."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q

from feedback.models import ComplaintReview, Suggestion
from tickets.personal_data import CustomerFootprint, PersonalDataSource

# Files go under this name in the archive: complaints/suggestions_and_reviews.json.
SOURCE = "complaints"
ERASED_TEXT = "[erased]"


def _suggestions(footprint: CustomerFootprint) -> Q:
    return Q(customer_id__in=footprint.customer_ids) | Q(
        ticket__customer_id__in=footprint.customer_ids
    )


def _reviews(footprint: CustomerFootprint) -> Q:
    return Q(complaint__ticket__customer_id__in=footprint.customer_ids)


def export(footprint: CustomerFootprint) -> dict[str, bytes]:
    suggestions = list(
        Suggestion.objects.filter(_suggestions(footprint))
        .order_by("pk")
        .values("pk", "ticket__number", "title", "body", "status", "created_at", "done_at")
    )
    reviews = list(
        ComplaintReview.objects.filter(_reviews(footprint))
        .order_by("pk")
        .values(
            "complaint__ticket__number",
            "root_cause__code",
            "department",
            "summary",
            "action",
            "action_status",
            "created_at",
        )
    )
    if not suggestions and not reviews:
        return {}
    body = {"suggestions": suggestions, "complaint_reviews": reviews}
    return {
        "suggestions_and_reviews.json": json.dumps(
            body, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2
        ).encode()
    }


def erase(footprint: CustomerFootprint) -> int:
    suggestions = Suggestion.objects.filter(_suggestions(footprint)).update(
        title=ERASED_TEXT, body="", note="", customer=None
    )
    reviews = ComplaintReview.objects.filter(_reviews(footprint)).update(
        summary="", action=ERASED_TEXT
    )
    return suggestions + reviews


source = PersonalDataSource(name=SOURCE, export=export, erase=erase)
