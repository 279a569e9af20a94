"""The shop's BI reads the customers' ratings (token scope `reports`): every answered
survey, oldest answer first, a page at a time (docs/feedback.md, "API")."""

from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.models import Survey
from feedback.selectors.surveys import ratings_answered
from tickets.authentication import HasScope
from tickets.masking import mask_text
from tickets.models import TokenScope


class RatingSerializer(serializers.Serializer[Survey]):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="csat (1–5) or nps (0–10)")
    score = serializers.IntegerField()
    tags = serializers.ListField(child=serializers.CharField())
    comment = serializers.SerializerMethodField(help_text="Card, ID and phone numbers masked")
    ticket = serializers.CharField(source="ticket_number")
    case = serializers.CharField(source="case_number")
    channel = serializers.CharField()
    answered_via = serializers.CharField()
    team = serializers.CharField(source="team.name", default=None, allow_null=True)
    category = serializers.CharField()
    agents = serializers.SerializerMethodField()
    invited_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField()

    def get_comment(self, survey: Survey) -> str:
        return mask_text(survey.comment)

    def get_agents(self, survey: Survey) -> list[str]:
        return [agent.user.get_username() for agent in survey.agents.all()]


class RatingPages(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class RatingsView(APIView):
    permission_classes = [HasScope.of(TokenScope.REPORTS)]

    @extend_schema(
        parameters=[
            OpenApiParameter("since", str, description="Only answers at or after (ISO 8601)"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="At most 1000 (default 100)"),
        ],
        responses=RatingSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        since_text = request.query_params.get("since", "")
        since = parse_datetime(since_text) if since_text else None
        if since_text and (since is None or since.tzinfo is None):
            return Response(
                {"code": "since", "detail": _("since must be an ISO 8601 time with its offset.")},
                status=400,
            )
        pages = RatingPages()
        page: Any = pages.paginate_queryset(ratings_answered(since=since), request, view=self)
        return pages.get_paginated_response(RatingSerializer(page, many=True).data)
