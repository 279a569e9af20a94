"""`POST /api/v1/inbound/email`: a raw MIME message, as a mail provider's inbound webhook or
an MTA pipe (`curl --data-binary @-`) delivers it."""

import logging

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_ingest.email.ingest import provider_id_for
from channels_ingest.models import InboundState
from channels_ingest.pipeline.receive import inbound_receive
from tickets.authentication import HasScope
from tickets.models import IntegrationToken, TokenScope

logger = logging.getLogger("kefu.ingest.email")


class RawMimeParser(BaseParser):
    """Takes the body as bytes, whatever the mail provider calls its content type."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):  # type: ignore[no-untyped-def]
        return stream.read() if stream is not None else b""


# Room for the largest attachment allowed plus base64's growth and the rest of the mail.
def max_body_bytes() -> int:
    return settings.MAX_ATTACHMENT_BYTES * 4 // 3 + 5 * 1024 * 1024


class EmailInboundView(APIView):
    permission_classes = [HasScope.of(TokenScope.INBOUND_EMAIL)]
    parser_classes = [RawMimeParser]

    @extend_schema(
        request={"message/rfc822": {"type": "string", "format": "binary"}},
        responses={
            201: OpenApiResponse(description="taken in; body has ticket_number"),
            200: OpenApiResponse(description="a redelivery, or a bounce handled without ticket"),
            413: OpenApiResponse(description="larger than the limit"),
            422: OpenApiResponse(description="stored but cannot become a ticket; see detail"),
        },
        summary="Take in one raw email (MIME)",
    )
    def post(self, request: Request) -> Response:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > max_body_bytes():
            logger.warning("inbound email refused: %d bytes over the limit", length)
            return Response(
                {"detail": f"message of {length} bytes is over the {max_body_bytes()} limit"},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        raw = request.data if isinstance(request.data, bytes) else b""
        if not raw.strip():
            return Response({"detail": "empty body"}, status=status.HTTP_400_BAD_REQUEST)
        token = request.auth
        assert isinstance(token, IntegrationToken)
        receipt = inbound_receive(
            channel="email",
            provider_id=provider_id_for(raw),
            payload={"bytes": len(raw)},
            source=token.name,
            raw=raw,
            answered=True,  # the answer carries the ticket number: it waits for the disk
        )
        record = receipt.record
        answer: dict[str, object] = {"message_id": record.provider_id}
        if receipt.queued:  # processing failed unexpectedly: stored, and a worker will retry
            return Response(answer, status=status.HTTP_202_ACCEPTED)
        if record.state == InboundState.FAILED:
            answer["detail"] = record.error
            return Response(answer, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        answer["ticket_number"] = receipt.ticket_number or None
        return Response(
            answer,
            status=status.HTTP_201_CREATED
            if receipt.created and receipt.result
            else status.HTTP_200_OK,
        )
