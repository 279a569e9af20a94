"""Photos and PDFs from the chat widget: `POST /chat/<site key>/upload/`, multipart, from
the shop's page (docs/chat.md).

The request proves who the visitor is the way the widget's socket does (the same `user`,
`expires`, `signature` or `visitor` fields), from a page of the site's own origins. The file
is checked and kept as tickets.files keeps it (a photo re-encoded without EXIF, a PDF),
written to storage and named in the stored widget frame before the widget is answered; the
frame then goes through the same door as a typed message, so a resend with the same client
id is one message. Every refusal is a JSON answer with a code and a sentence in the
visitor's language, never an error page."""

import hashlib
import logging
import time
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels_ingest.chat import events
from channels_ingest.chat.consumers import CLIENT_MESSAGE_ID
from channels_ingest.chat.identity import (
    Visitor,
    VisitorRefused,
    origin_allowed,
    visitor_anonymous,
    visitor_anonymous_verify,
    visitor_verify,
)
from channels_ingest.chat.limits import upload_admit
from channels_ingest.chat.normalise import UPLOAD_PREFIX
from channels_ingest.chat.selectors import chat_site_active
from channels_ingest.chat.services import chat_message_receive
from channels_ingest.chat.texts import error_text, widget_language
from channels_ingest.models import ChatSite
from kefu.client_ip import client_ip
from tickets.files import PreparedFile, files_prepare

logger = logging.getLogger("kefu.ingest")


def _answer(request: HttpRequest, payload: dict[str, Any], *, status: int) -> JsonResponse:
    response = JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})
    origin = request.headers.get("Origin", "")
    if origin and getattr(request, "_chat_origin_ok", False):
        # The widget runs on the shop's page: it may read our answer, nobody else may.
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


def _refuse(request: HttpRequest, code: str, *, status: int, **extra: Any) -> JsonResponse:
    return _answer(request, events.error(code, **extra), status=status)


def _visitor(site: ChatSite, data: Any) -> Visitor:
    name = str(data.get("name", ""))
    if data.get("user"):
        return visitor_verify(
            secret=site.secret,
            site_key=site.key,
            user_id=str(data.get("user")),
            expires=str(data.get("expires", "")),
            signature=str(data.get("signature", "")),
            name=name,
            now=time.time(),
            max_ahead_seconds=settings.CHAT_SIGNATURE_MAX_SECONDS,
        )
    if not site.allows_anonymous:
        raise VisitorRefused("sign_in", "anonymous visitors are not allowed on this site")
    if site.anonymous_requires_signature:
        return visitor_anonymous_verify(
            secret=site.secret,
            site_key=site.key,
            visitor_id=str(data.get("visitor", "")),
            signature=str(data.get("signature", "")),
            name=name,
        )
    return visitor_anonymous(visitor_id=str(data.get("visitor", "")), name=name)


def upload_store(prepared: PreparedFile) -> dict[str, Any]:
    """Write the file where the frame can name it, under a name of its own (two uploads of
    the same photo never share a file that one of them removes), and describe it."""
    digest = hashlib.sha256(prepared.data).hexdigest()
    path = default_storage.save(f"{UPLOAD_PREFIX}{uuid.uuid4().hex}", ContentFile(prepared.data))
    return {
        "path": path,
        "name": prepared.filename,
        "type": prepared.content_type,
        "size": prepared.size,
        "sha256": digest,
        "md5": prepared.md5,
    }


@csrf_exempt  # cross-site by design: the visitor's signature and the origin are the proof
@require_http_methods(["POST", "OPTIONS"])
def chat_upload(request: HttpRequest, site_key: str) -> HttpResponse:
    language = widget_language(str(request.POST.get("lang", "")))
    with translation.override(language):
        return _upload(request, site_key)


def _upload(request: HttpRequest, site_key: str) -> HttpResponse:
    site = chat_site_active(site_key)
    if site is None:
        return _refuse(request, "unknown_site", status=404)
    origin = request.headers.get("Origin", "")
    if not origin_allowed(origin=origin, allowed=site.origins()):
        logger.warning("chat upload refused: origin %r not allowed for site %s", origin, site.key)
        return _refuse(request, "forbidden_origin", status=403)
    request._chat_origin_ok = True  # type: ignore[attr-defined]
    if request.method == "OPTIONS":
        response = _answer(request, {}, status=200)
        response["Access-Control-Allow-Methods"] = "POST"
        return response
    try:
        visitor = _visitor(site, request.POST)
    except VisitorRefused as refused:
        return _refuse(request, refused.code, status=401)
    client_id = str(request.POST.get("id", ""))
    echo = {"client_id": client_id} if client_id else {}
    if not CLIENT_MESSAGE_ID.fullmatch(client_id):
        return _refuse(request, "bad_message", status=400)
    text = str(request.POST.get("text", "")).strip()
    if len(text) > settings.CHAT_MAX_MESSAGE_CHARS:
        return _refuse(request, "too_long", status=400, **echo)
    uploads = request.FILES.getlist("files")
    if not uploads:
        return _refuse(request, "bad_message", status=400, **echo)
    admission = upload_admit(visitor_address=visitor.address, client_address=client_ip(request))
    if not admission.is_allowed:
        return _refuse(
            request, "rate_limited", status=429, retry_after=admission.retry_after, **echo
        )
    try:
        prepared = files_prepare(uploads)
    except ValidationError as error:
        # The sentence names the file and says why (size, count, type).
        return _answer(
            request,
            {
                **events.error("bad_file", **echo),
                "message": " ".join(error.messages) or error_text("bad_file"),
            },
            status=400,
        )
    stored = [upload_store(item) for item in prepared]
    frame = {
        "type": "message",
        "id": client_id,
        "text": text or "\n".join(f"📎 {item.filename}" for item in prepared),
        "files": stored,
    }
    receipt = chat_message_receive(site=site, visitor=visitor, frame=frame, origin=origin)
    if not receipt.is_queued:
        # Taken in (intake keeps its own copy with the message), a resend of a message
        # already taken in, or refused: the upload's copy has served. One left for a retry
        # is read by the retry.
        for item in stored:
            default_storage.delete(item["path"])
    if receipt.refused:
        return _refuse(request, "refused", status=400, **echo)
    return _answer(
        request,
        events.ack(
            client_id=client_id,
            message_id=receipt.message.pk if receipt.message else None,
            ticket_number=receipt.ticket.number if receipt.ticket else "",
            duplicate=receipt.is_duplicate,
        ),
        status=200 if receipt.is_duplicate else 201,
    )
