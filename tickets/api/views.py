from django.contrib.auth.models import User
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status as http_status
from rest_framework.generics import RetrieveAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kefu.roles import HasRole, Role
from tickets import selectors
from tickets.api.serializers import (
    QueuePageSerializer,
    StatusChangeSerializer,
    StatusRefusalSerializer,
    TicketSerializer,
)
from tickets.models import Ticket
from tickets.services import workflow


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


class TicketStatusView(APIView):
    """Set a ticket's status, as the ticket page's status form does. A resolve or close that a
    close guard refuses (a complaint without its review) is answered 409 with the reason, and
    the ticket is left as it was."""

    permission_classes = [HasRole.of(Role.AGENT)]

    @extend_schema(
        operation_id="ticket_status_set",
        request=StatusChangeSerializer,
        responses={200: TicketSerializer, 409: StatusRefusalSerializer},
    )
    def post(self, request: Request, number: str) -> Response:
        ticket = selectors.tickets_visible_to(request.user).filter(number=number).first()
        if ticket is None:
            raise Http404
        serializer = StatusChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actor = request.user
        assert isinstance(actor, User)  # staff only (HasRole)
        try:
            ticket = workflow.ticket_set_status(
                ticket=ticket, status=serializer.validated_data["status"], actor=actor
            )
        except workflow.StatusRefused as refused:
            return Response(
                {"code": "close_guard", "detail": " ".join(refused.messages)},
                status=http_status.HTTP_409_CONFLICT,
            )
        shown = Ticket.objects.select_related("team", "assignee__user").filter(pk=ticket.pk).first()
        return Response(TicketSerializer(shown).data)
