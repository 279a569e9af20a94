"""Complaint reviews for the shop's BI (token scope `reports`): `GET /api/v1/feedback/reviews`,
a page at a time, newest complaint first (docs/complaints.md, "API")."""

from typing import Any

from django.core.paginator import EmptyPage, Paginator
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.models import ComplaintReview, RootCause
from feedback.selectors.complaints import reviews_filtered
from tickets.authentication import HasScope
from tickets.masking import mask_text
from tickets.models import TokenScope

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 200


class ReviewQuerySerializer(serializers.Serializer[dict[str, Any]]):
    since = serializers.DateField(required=False, help_text="Complaints received from this day")
    until = serializers.DateField(required=False, help_text="… to this day (inclusive)")
    root_cause = serializers.SlugField(required=False, help_text="A root cause's code")
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=PAGE_SIZE_MAX, default=PAGE_SIZE_DEFAULT
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and until < since:
            raise serializers.ValidationError({"until": "The period ends before it starts."})
        return attrs


class ReviewOutSerializer(serializers.Serializer[ComplaintReview]):
    ticket = serializers.CharField(source="complaint.ticket.number")
    received_at = serializers.DateTimeField(source="complaint.ticket.created_at")
    ticket_status = serializers.CharField(source="complaint.ticket.status")
    how = serializers.CharField(
        source="complaint.source", help_text="triage, agent or category: how it became one"
    )
    root_cause = serializers.CharField(source="root_cause.code")
    root_cause_name_zh = serializers.CharField(source="root_cause.name_zh")
    root_cause_name_en = serializers.CharField(source="root_cause.name_en")
    department = serializers.CharField()
    summary = serializers.SerializerMethodField()
    action = serializers.SerializerMethodField()
    action_owner = serializers.CharField(source="action_owner.username")
    action_due = serializers.DateField()
    action_status = serializers.CharField()
    action_done_at = serializers.DateTimeField(allow_null=True)
    is_overdue = serializers.SerializerMethodField()
    reviewed_at = serializers.DateTimeField(source="created_at")
    updated_at = serializers.DateTimeField()

    # Free text written by staff may quote the customer: personal numbers are masked.
    def get_summary(self, review: ComplaintReview) -> str:
        return mask_text(review.summary)

    def get_action(self, review: ComplaintReview) -> str:
        return mask_text(review.action)

    def get_is_overdue(self, review: ComplaintReview) -> bool:
        return review.is_overdue()


class ComplaintReviewListView(APIView):
    permission_classes = [HasScope.of(TokenScope.REPORTS)]

    @extend_schema(
        operation_id="feedback_reviews_list",
        parameters=[
            OpenApiParameter("since", str, description="YYYY-MM-DD"),
            OpenApiParameter("until", str, description="YYYY-MM-DD"),
            OpenApiParameter("root_cause", str),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description=f"1 … {PAGE_SIZE_MAX}"),
        ],
        responses=inline_serializer(
            "ComplaintReviewPage",
            {
                "count": serializers.IntegerField(),
                "page": serializers.IntegerField(),
                "pages": serializers.IntegerField(),
                "next": serializers.IntegerField(allow_null=True),
                "results": ReviewOutSerializer(many=True),
            },
        ),
        summary="Complaint reviews (root cause, department, corrective action)",
    )
    def get(self, request: Request) -> Response:
        query = ReviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        cause_id = None
        if data.get("root_cause"):
            cause = RootCause.objects.filter(code=data["root_cause"]).first()
            if cause is None:
                return Response(
                    {"root_cause": [f"Unknown root cause “{data['root_cause']}”."]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            cause_id = cause.pk
        rows = reviews_filtered(
            since=data.get("since"), until=data.get("until"), root_cause_id=cause_id
        )
        paginator = Paginator(rows, data["page_size"])
        try:
            page = paginator.page(data["page"])
        except EmptyPage:
            page = None
        return Response(
            {
                "count": paginator.count,
                "page": data["page"],
                "pages": paginator.num_pages,
                "next": page.next_page_number() if page is not None and page.has_next() else None,
                "results": [
                    ReviewOutSerializer(review).data
                    for review in (page.object_list if page is not None else [])
                ],
            }
        )
