"""`POST /webhooks/phone/<pbx>/`: call events from a PBX (newCall, answer, hangup).

The PBX proves who it is with its token, in `Authorization: Token <key>` or, for a PBX that
cannot set headers, as the last part of the URL (`/webhooks/phone/<pbx>/<key>/`). A missing
token is 401, a wrong one 403; a body that breaks the contract is 400 with a JSON `error`;
each refusal is logged and nothing is stored. A good event is stored in the inbound log first
(one record per call id and event, so a redelivery is a no-op), then merged into its call. The
answer is `{}`, or for a `newCall` from a blocked number `{"action": "reject", ...}`.
"""

import logging
from typing import Any

from csp.decorators import csp_exempt
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from channels_ingest.models import Pbx
from channels_ingest.phone.ingest import provider_id_for
from channels_ingest.phone.payload import PayloadError, parse_event
from channels_ingest.phone.services import is_blocked, pbx_authenticate
from channels_ingest.pipeline.receive import inbound_receive
from kefu.json_input import json_loads
from tickets.models import CallDirection
from tickets.services.calls import CallEventKind

logger = logging.getLogger("kefu.ingest.phone")

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _refuse(request: HttpRequest, status: int, error: str, pbx: str) -> JsonResponse:
    logger.warning(
        "refused phone webhook for PBX %r from %s: %s",
        pbx,
        request.META.get("REMOTE_ADDR"),
        error,
    )
    response = JsonResponse({"error": error}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = "Token"
    return response


def _key_from_header(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, key = header.partition(" ")
    if scheme.lower() != "token" or not key.strip():
        return None
    return key.strip()


def _read_body(request: HttpRequest) -> dict[str, Any]:
    """The event's fields from a JSON object or a form; raises PayloadError."""
    content_type = request.content_type or ""
    if content_type in FORM_TYPES:
        fields: dict[str, Any] = {}
        for name in request.POST:
            values = request.POST.getlist(name)
            # PHP-style list fields (user[]=a&user[]=b), as some PBXs send them.
            fields[name.removesuffix("[]")] = values if len(values) > 1 else values[0]
        return fields
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            data = json_loads(request.body.decode(request.encoding or "utf-8"))
        except ValueError as error:  # undecodable, malformed or too deeply nested
            raise PayloadError(f"invalid JSON: {error}") from error
        if not isinstance(data, dict):
            raise PayloadError("the JSON body must be an object")
        return data
    raise PayloadError(
        f"unsupported content type {content_type or '(none)'!r}: send JSON or a form"
    )


@csp_exempt()  # type: ignore[arg-type]  # no browser reads it; typed for request-only views
@csrf_exempt  # authenticated by the PBX's token; there is no browser session
@require_POST
def phone_event(request: HttpRequest, pbx: str, key: str = "") -> HttpResponse:
    token = key or _key_from_header(request)
    if token is None:
        return _refuse(request, 401, "missing token: send Authorization: Token <key>", pbx)
    authenticated: Pbx | None = pbx_authenticate(name=pbx, key=token)
    if authenticated is None:
        return _refuse(request, 403, "invalid token for this PBX", pbx)
    try:
        data = _read_body(request)
        event = parse_event(data)
    except PayloadError as error:
        return _refuse(request, 400, str(error), pbx)
    inbound_receive(
        channel="phone",
        provider_id=provider_id_for(event),
        payload=data,
        source=authenticated.name,
    )
    if (
        event.event == CallEventKind.NEW_CALL
        and event.direction == CallDirection.IN
        and is_blocked(event.from_number)
    ):
        return JsonResponse({"action": "reject", "reason": "blocked"})
    return JsonResponse({})
