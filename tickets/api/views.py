from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.generics import RetrieveAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kefu.roles import HasRole, Role
from tickets import selectors
from tickets.api.serializers import QueuePageSerializer, TicketSerializer
from tickets.models import Ticket


class QueueView(APIView):
    """The agent's queue, a page at a time (keyset cursor in `after`)."""

    permission_classes = [HasRole.of(Role.AGENT)]

    @extend_schema(
        operation_id="queue_list",
        parameters=[
            OpenApiParameter("view", str, enum=["team", "mine", "unassigned"]),
            OpenApiParameter("after", str),
        ],
        responses=QueuePageSerializer,
    )
    def get(self, request: Request) -> Response:
        view = request.query_params.get("view", "team")
        page = selectors.queue_page(
            user=request.user, view=view, cursor=request.query_params.get("after", "")
        )
        return Response(QueuePageSerializer(page).data)


@extend_schema_view(get=extend_schema(operation_id="ticket_retrieve"))
class TicketDetailView(RetrieveAPIView[Ticket]):
    permission_classes = [HasRole.of(Role.AGENT)]
    serializer_class = TicketSerializer
    lookup_field = "number"

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.tickets_visible_to(self.request.user).select_related(
            "team", "assignee__user"
        )
