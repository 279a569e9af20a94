"""The carrier event webhook: `POST /webhooks/logistics/<source>/` (docs/aftersales.md).

Each source is named in LOGISTICS_WEBHOOK_SECRETS with its secret; another is answered 404.
`kuaidi100` speaks kuaidi100's subscription push (a form with `param` and `sign` =
MD5(param + salt), upper-case hex); every other source speaks the generic JSON format, signed
like the SMS gateways: `X-Kefu-Signature: sha256=` HMAC-SHA256(secret, `<timestamp>.<body>`)
with `X-Kefu-Timestamp` in Unix seconds, refused outside the replay window.

The payload is checked, stored in the inbound log and only then acknowledged; a redelivery
(the same bytes from the same source) changes nothing. Its events are applied by a worker
(queued mode) or before the answer (inline). A refusal is logged with the reason and
answered 4xx, never 500.
"""

import hashlib
import hmac
import logging
import time

from csp.decorators import csp_exempt
from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from channels_ingest.logistics.ingest import CHANNEL
from channels_ingest.logistics.normalise import (
    KUAIDI100,
    BadEvent,
    generic_updates,
    kuaidi100_updates,
)
from channels_ingest.pipeline.receive import inbound_receive
from channels_ingest.sms.gateway import SIGNATURE_HEADER, TIMESTAMP_HEADER, gateway_signature
from kefu.client_ip import client_ip
from kefu.json_input import json_loads

logger = logging.getLogger("kefu.ingest.logistics")

MAX_BODY_BYTES = 512 * 1024


def logistics_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """The generic format's signature: as the SMS gateways' (channels_ingest/sms/gateway.py)."""
    return gateway_signature(secret=secret, timestamp=timestamp, body=body)


def kuaidi100_sign(*, param: str, salt: str) -> str:
    """Kuaidi100's push signature: MD5 of `param` followed by the salt, upper-case hex."""
    return hashlib.md5((param + salt).encode(), usedforsecurity=False).hexdigest().upper()


def _refuse(request: HttpRequest, source: str, status: int, error: str) -> JsonResponse:
    logger.warning("refused logistics webhook %s from %s: %s", source, client_ip(request), error)
    if source == KUAIDI100:
        # Kuaidi100 reads `result` and `returnCode`.
        return JsonResponse(
            {"result": False, "returnCode": str(status), "message": error}, status=status
        )
    return JsonResponse({"error": error}, status=status)


def _generic_problem(request: HttpRequest, secret: str, body: bytes) -> str:
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not timestamp or not signature:
        return f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required"
    try:
        sent = int(timestamp)
    except ValueError:
        return f"{TIMESTAMP_HEADER} must be Unix seconds"
    expected = logistics_signature(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected, signature):
        return "bad signature"
    window = settings.LOGISTICS_WEBHOOK_REPLAY_WINDOW_SECONDS
    if abs(int(time.time()) - sent) > window:
        return f"timestamp outside the {window}s replay window"
    return ""


@csp_exempt()  # type: ignore[arg-type]  # no browser reads it; typed for request-only views
@csrf_exempt  # authenticated by the source's signature; there is no browser session
@require_POST
def incoming(request: HttpRequest, source: str) -> JsonResponse:
    secret = settings.LOGISTICS_WEBHOOK_SECRETS.get(source)
    if not secret:
        logger.warning(
            "logistics webhook for unknown source %s from %s", source, client_ip(request)
        )
        raise Http404("unknown source")
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _refuse(request, source, 413, f"body larger than {MAX_BODY_BYTES} bytes")
    if source == KUAIDI100:
        return _kuaidi100(request, secret, body)
    problem = _generic_problem(request, secret, body)
    if problem:
        return _refuse(request, source, 403, problem)
    try:
        data = json_loads(body)
        generic_updates(data)
    except BadEvent as error:
        return _refuse(request, source, 400, str(error))
    except ValueError as error:  # undecodable, malformed or too deeply nested
        return _refuse(request, source, 400, f"invalid JSON: {error}")
    receipt = inbound_receive(
        channel=CHANNEL,
        provider_id=f"{source}:{hashlib.sha256(body).hexdigest()}",
        payload=data,
        source=source,
    )
    return JsonResponse({"ok": True, "duplicate": not receipt.created})


def _kuaidi100(request: HttpRequest, salt: str, body: bytes) -> JsonResponse:
    param = request.POST.get("param", "")
    sign = request.POST.get("sign", "")
    if not param or not sign:
        return _refuse(request, KUAIDI100, 403, "param and sign are required")
    if not hmac.compare_digest(kuaidi100_sign(param=param, salt=salt), sign.strip().upper()):
        return _refuse(request, KUAIDI100, 403, "bad sign")
    try:
        decoded = json_loads(param)
        kuaidi100_updates(decoded)
    except BadEvent as error:
        return _refuse(request, KUAIDI100, 400, str(error))
    except ValueError as error:
        return _refuse(request, KUAIDI100, 400, f"param is not JSON: {error}")
    inbound_receive(
        channel=CHANNEL,
        provider_id=f"{KUAIDI100}:{hashlib.sha256(param.encode()).hexdigest()}",
        payload={"param": decoded},
        source=KUAIDI100,
        raw=body,
    )
    return JsonResponse({"result": True, "returnCode": "200", "message": "成功"})
