"""The generic SMS gateway webhook: `POST /webhooks/sms/gateway/<name>/` (see docs/sms.md).

For gateways that are not Twilio-compatible (most Chinese SMS providers): a JSON body, signed
with HMAC-SHA256 over the timestamp and the body, and refused outside a replay window. A
customer message is stored before we answer and taken in by a worker (queued mode) or before
the answer (inline); a redelivery (same gateway and id) is answered the same way and changes
nothing. Delivery reports for messages we sent update their status.
"""

import hashlib
import hmac
import logging
import time
from typing import Any

from csp.decorators import csp_exempt
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from channels_ingest.models import SmsGateway
from channels_ingest.pipeline.receive import inbound_receive
from channels_ingest.sms.services import sms_status_update
from kefu.client_ip import client_ip
from kefu.json_input import json_loads

logger = logging.getLogger("kefu.ingest.sms")

TIMESTAMP_HEADER = "X-Kefu-Timestamp"
SIGNATURE_HEADER = "X-Kefu-Signature"
MAX_BODY_BYTES = 64 * 1024
MAX_MEDIA = 10


def gateway_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256, keyed with the gateway's secret, of
    `<timestamp>.<body>` (the timestamp as sent, the body's bytes as sent)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def _refuse(status: int, error: str, request: HttpRequest, name: str) -> JsonResponse:
    logger.warning("refused SMS gateway webhook %s from %s: %s", name, client_ip(request), error)
    return JsonResponse({"error": error}, status=status)


def _verified(request: HttpRequest, gateway: SmsGateway | None, body: bytes) -> str:
    """Why the request is not authentic, or "" when it is."""
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not timestamp or not signature:
        return f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required"
    try:
        sent = int(timestamp)
    except ValueError:
        return f"{TIMESTAMP_HEADER} must be Unix seconds"
    if gateway is None:
        return "unknown or inactive gateway"
    expected = gateway_signature(secret=gateway.secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected, signature):
        return "bad signature"
    # Checked after the signature, so a stale but genuine request is told why.
    window = settings.SMS_GATEWAY_REPLAY_WINDOW_SECONDS
    # In integers: a timestamp of hundreds of digits is no float.
    if abs(int(time.time()) - sent) > window:
        return f"timestamp outside the {window}s replay window"
    return ""


@csp_exempt()  # type: ignore[arg-type]  # no browser reads it; typed for request-only views
@csrf_exempt  # authenticated by the gateway's signature; there is no browser session
@require_POST
def incoming(request: HttpRequest, name: str) -> JsonResponse:
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _refuse(413, f"body larger than {MAX_BODY_BYTES} bytes", request, name)
    gateway = SmsGateway.objects.filter(name=name, is_active=True).first()
    problem = _verified(request, gateway, body)
    if problem:
        return _refuse(403, problem, request, name)
    assert gateway is not None
    try:
        data = json_loads(body)
    except ValueError as error:  # undecodable, malformed or too deeply nested
        return _refuse(400, f"invalid JSON: {error}", request, name)
    if not isinstance(data, dict):
        return _refuse(400, "the body must be a JSON object", request, name)
    kind = data.get("type", "message")
    if kind == "message":
        return _message(request, gateway, data, body)
    if kind == "status":
        return _status(request, gateway, data)
    return _refuse(400, f"unknown type {kind!r}: expected message or status", request, name)


def _text_field(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    return value.strip() if isinstance(value, str) else ""


def _message(
    request: HttpRequest, gateway: SmsGateway, data: dict[str, Any], body: bytes
) -> JsonResponse:
    message_id, sender = _text_field(data, "id"), _text_field(data, "from")
    if not message_id or not sender:
        return _refuse(400, "id and from are required", request, gateway.name)
    text = data.get("text", "")
    media = data.get("media") or []
    if not isinstance(text, str) or not isinstance(media, list):
        return _refuse(400, "text must be a string and media a list", request, gateway.name)
    urls = [url for url in media[:MAX_MEDIA] if isinstance(url, str) and url]
    # Stored in the shape the SMS adapter reads (Twilio's names), with the bytes as received.
    payload: dict[str, Any] = {
        "From": sender,
        "To": _text_field(data, "to"),
        "Body": text,
        "NumMedia": str(len(urls)),
        **{f"MediaUrl{index}": url for index, url in enumerate(urls)},
        "Gateway": gateway.name,
    }
    receipt = inbound_receive(
        channel="sms",
        provider_id=f"{gateway.name}:{message_id}"[:255],
        payload=payload,
        source=gateway.name,
        raw=body,
    )
    return JsonResponse({"ok": True, "duplicate": not receipt.created})


def _status(request: HttpRequest, gateway: SmsGateway, data: dict[str, Any]) -> JsonResponse:
    message_id, status = _text_field(data, "id"), _text_field(data, "status")
    if not message_id or not status:
        return _refuse(400, "id and status are required", request, gateway.name)
    updated = sms_status_update(
        message_sid=message_id,
        status=status.lower(),
        error_code=_text_field(data, "error"),
        provider=gateway.name,
    )
    return JsonResponse({"ok": True, "matched": updated is not None})
