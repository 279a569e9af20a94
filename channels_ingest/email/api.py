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
from channels_ingest.services import inbound_process, inbound_store
from channels_ingest.tasks import process_inbound
from tickets.authentication import IsIntegration
from tickets.models import IntegrationToken

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
    permission_classes = [IsIntegration]
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
        record, created = inbound_store(
            channel="email",
            provider_id=provider_id_for(raw),
            payload={"bytes": len(raw)},
            source=token.name,
            raw=raw,
        )
        answer: dict[str, object] = {"message_id": record.provider_id}
        if record.state == InboundState.PROCESSED:
            answer["ticket_number"] = record.ticket_number or None
            return Response(answer, status=status.HTTP_200_OK)
        try:
            result = inbound_process(record=record, answered=True)
        except Exception:
            logger.exception("inbound email %s: processing failed, queued", record.provider_id)
            try:
                process_inbound.apply_async((record.pk,), countdown=5)
            except Exception:
                logger.exception("inbound email %s: could not queue; the sweep will", record.pk)
            return Response(answer, status=status.HTTP_202_ACCEPTED)
        if record.state == InboundState.FAILED:
            answer["detail"] = record.error
            return Response(answer, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        answer["ticket_number"] = result.ticket.number if result else None
        return Response(
            answer,
            status=status.HTTP_201_CREATED if created and result else status.HTTP_200_OK,
        )
