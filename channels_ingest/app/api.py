"""The shop app's API: `POST /api/v1/inbound/app` (a customer message), the user's
conversation since a cursor, and the devices registered for push (docs/chat.md)."""

import copy
import logging
from typing import cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_ingest.app.selectors import MAX_PAGE_SIZE, ConversationPage, conversation_messages
from channels_ingest.app.services import push_token_register, push_token_remove
from channels_ingest.models import InboundState, PushPlatform
from channels_ingest.pipeline.receive import inbound_receive
from tickets.authentication import HasScope
from tickets.identity import normalise_email, normalise_phone
from tickets.models import Direction, IntegrationToken, Message, TokenScope

logger = logging.getLogger("kefu.ingest")


class AppMessageSerializer(serializers.Serializer[dict[str, object]]):
    message_id = serializers.CharField(max_length=255)
    user_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    text = serializers.CharField(max_length=20_000)
    sent_at = serializers.DateTimeField(required=False, allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field[object, object, object, object]]:
        # DRF rebuilds every declared field for each serializer (its deep copy re-runs the
        # constructors), a good share of this busy endpoint's time. These fields are flat and
        # hold no state of a request beyond what `bind` sets on the copy, so a shallow copy
        # of each does.
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

    def validate_phone(self, value: str) -> str:
        if not value:
            return value
        try:
            return normalise_phone(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error

    def validate_email(self, value: str) -> str:
        if not value:
            return value
        try:
            return normalise_email(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(_("Enter a valid email address.")) from error

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        if not any(attrs.get(field) for field in ("user_id", "phone", "email")):
            raise serializers.ValidationError(
                {"user_id": [_("One of user_id, phone or email is required.")]}
            )
        return attrs


_Accepted = inline_serializer(
    "AppMessageAccepted",
    {
        "ticket_number": serializers.CharField(allow_null=True),
        "message_id": serializers.CharField(),
    },
)


class AppInboundView(APIView):
    permission_classes = [HasScope.of(TokenScope.INBOUND_APP)]

    @extend_schema(
        request=AppMessageSerializer,
        responses={201: _Accepted, 200: _Accepted, 202: _Accepted},
        summary="Take in a customer message from the shop's app",
    )
    def post(self, request: Request) -> Response:
        serializer = AppMessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            # The log keeps the body as the app sent it; normalising happens downstream, so a
            # change to the rules can be replayed over what was really received.
            receipt = inbound_receive(
                channel="app",
                provider_id=str(serializer.validated_data["message_id"]),
                payload=dict(request.data),
                source=cast(IntegrationToken, request.auth).name,
                answered=True,
            )
        except DjangoValidationError as error:  # queued: no identity to promise a ticket to
            raise serializers.ValidationError({"user_id": error.messages}) from error
        record = receipt.record
        if record.state == InboundState.FAILED:
            return Response(
                {"detail": record.error, "message_id": record.provider_id},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        answer = {"message_id": record.provider_id, "ticket_number": receipt.ticket_number or None}
        if receipt.queued and not receipt.ticket_number:
            # Taking it in failed unexpectedly (inline): stored, and a worker will retry.
            return Response(answer, status=status.HTTP_202_ACCEPTED)
        # Queued mode answers with the promised number before a worker takes the message in.
        return Response(
            answer, status=status.HTTP_201_CREATED if receipt.created else status.HTTP_200_OK
        )


# --- the shop app's conversation and devices ---------------------------------------------


class ConversationQuerySerializer(serializers.Serializer[dict[str, object]]):
    since = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, required=False, default=50
    )


class ConversationMessageSerializer(serializers.Serializer[Message]):
    id = serializers.IntegerField(source="pk")
    direction = serializers.ChoiceField(
        choices=["in", "out"], help_text="in: from the customer; out: to the customer"
    )
    sender = serializers.SerializerMethodField(
        help_text="customer, agent, bot (an answer from the knowledge base) or automatic"
    )
    author = serializers.SerializerMethodField(help_text="The agent's first name, if any")
    text = serializers.CharField(source="body")
    ticket_number = serializers.CharField(source="ticket.number")
    delivery_status = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_sender(self, message: Message) -> str:
        if message.direction == Direction.IN:
            return "customer"
        if message.is_bot:
            return "bot"
        if message.is_automatic:
            return "automatic"
        return "agent"

    def get_author(self, message: Message) -> str:
        if message.direction == Direction.OUT and message.author is not None:
            return message.author.user.first_name or ""
        return ""


class ConversationPageSerializer(serializers.Serializer[ConversationPage]):
    messages = ConversationMessageSerializer(many=True)
    next_cursor = serializers.CharField(
        help_text="Pass as `since` next time. Opaque; the last moments are returned again "
        "until they settle, so drop repeats by `id`."
    )
    has_more = serializers.BooleanField(help_text="Another page follows at once")


class ConversationMessagesView(APIView):
    permission_classes = [HasScope.of(TokenScope.APP_CONVERSATIONS)]

    @extend_schema(
        parameters=[
            OpenApiParameter("since", str, description="The `next_cursor` of the last call"),
            OpenApiParameter("limit", int, description=f"1–{MAX_PAGE_SIZE}, default 50"),
        ],
        responses={200: ConversationPageSerializer},
        summary="An app user's conversation: public messages after a cursor, oldest first",
    )
    def get(self, request: Request, user_id: str) -> Response:
        query = ConversationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            page = conversation_messages(
                user_id=user_id,
                since=str(query.validated_data["since"]),
                limit=int(query.validated_data["limit"]),
                now=timezone.now(),
            )
        except ValueError as error:
            raise serializers.ValidationError({"since": [_("Malformed cursor.")]}) from error
        return Response(ConversationPageSerializer(page).data)


class PushTokenSerializer(serializers.Serializer[dict[str, object]]):
    user_id = serializers.CharField(max_length=100)
    platform = serializers.ChoiceField(choices=PushPlatform.choices)
    token = serializers.CharField(max_length=512)


class PushTokenRemoveSerializer(serializers.Serializer[dict[str, object]]):
    platform = serializers.ChoiceField(choices=PushPlatform.choices)
    token = serializers.CharField(max_length=512)


class PushTokensView(APIView):
    permission_classes = [HasScope.of(TokenScope.APP_PUSH)]

    @extend_schema(
        request=PushTokenSerializer,
        responses={201: PushTokenSerializer, 200: PushTokenSerializer},
        summary="Register an app user's device for push (idempotent)",
        description="201 when the token is new or moved from another user, 200 when it was "
        "already registered for this user. Outbound app messages list the user's tokens.",
    )
    def post(self, request: Request) -> Response:
        serializer = PushTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, changed = push_token_register(
            user_id=str(data["user_id"]), platform=str(data["platform"]), token=str(data["token"])
        )
        body = {"user_id": token.user_id, "platform": token.platform, "token": token.token}
        return Response(body, status=status.HTTP_201_CREATED if changed else status.HTTP_200_OK)

    @extend_schema(
        request=PushTokenRemoveSerializer,
        responses={204: None, 404: None},
        summary="Forget a device token",
    )
    def delete(self, request: Request) -> Response:
        serializer = PushTokenRemoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        removed = push_token_remove(
            platform=str(serializer.validated_data["platform"]),
            token=str(serializer.validated_data["token"]),
        )
        return Response(status=status.HTTP_204_NO_CONTENT if removed else status.HTTP_404_NOT_FOUND)
