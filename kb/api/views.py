"""Agent-side API: articles suggested for what a customer wrote."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kb.api.serializers import HitSerializer, SuggestQuerySerializer
from kb.search import suggest_for
from kefu.roles import HasRole, Role


class SuggestView(APIView):
    """`GET /kb/api/suggest/?text=…&limit=3`: the top articles for a customer's message, with
    the plain-text answer an agent can insert into a reply."""

    permission_classes = [HasRole.of(Role.AGENT)]

    @extend_schema(parameters=[SuggestQuerySerializer], responses=HitSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = SuggestQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        hits = suggest_for(query.validated_data["text"], limit=query.validated_data["limit"])
        return Response({"results": HitSerializer(hits, many=True).data})
