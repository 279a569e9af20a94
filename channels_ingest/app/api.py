"""`POST /api/v1/inbound/app`: a customer message from the shop's app."""

import logging
from typing import cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_ingest.models import InboundState
from channels_ingest.services import inbound_receive
from tickets.authentication import IsIntegration
from tickets.identity import normalise_email, normalise_phone
from tickets.models import IntegrationToken

logger = logging.getLogger("kefu.ingest")


class AppMessageSerializer(serializers.Serializer[dict[str, object]]):
    message_id = serializers.CharField(max_length=255)
    user_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    text = serializers.CharField(max_length=20_000)
    sent_at = serializers.DateTimeField(required=False, allow_null=True)

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
    permission_classes = [IsIntegration]

    @extend_schema(
        request=AppMessageSerializer,
        responses={201: _Accepted, 200: _Accepted, 202: _Accepted},
        summary="Take in a customer message from the shop's app",
    )
    def post(self, request: Request) -> Response:
        serializer = AppMessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The log keeps the body as the app sent it; normalising happens downstream, so a
        # change to the rules can be replayed over what was really received.
        received = inbound_receive(
            channel="app",
            provider_id=str(serializer.validated_data["message_id"]),
            payload=dict(request.data),
            source=cast(IntegrationToken, request.auth).name,
        )
        record, result = received.record, received.result
        answer = {"message_id": record.provider_id, "ticket_number": record.ticket_number or None}
        if received.queued:
            return Response(answer, status=status.HTTP_202_ACCEPTED)
        if record.state == InboundState.FAILED:
            return Response(
                {"detail": record.error, "message_id": record.provider_id},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        if result is None:
            return Response(answer, status=status.HTTP_200_OK)
        created = received.created
        answer["ticket_number"] = result.ticket.number
        return Response(answer, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
