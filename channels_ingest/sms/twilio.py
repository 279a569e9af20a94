"""Twilio webhooks: `/webhooks/sms/twilio/` (incoming SMS) and `…/status/` (delivery status).

Both verify X-Twilio-Signature before anything else; a forged or unsigned request gets 403
and a log line. An incoming message is stored before we answer, and taken in by a worker
(queued mode) or before the answer (inline); a redelivery (same MessageSid) is answered the
same way and changes nothing.
"""

import logging

from csp.decorators import csp_exempt
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from channels_ingest.pipeline.receive import inbound_receive
from channels_ingest.sms.services import auth_token_for, sms_status_update
from channels_ingest.sms.signature import twilio_signature_valid
from kefu.client_ip import client_ip

logger = logging.getLogger("kefu.ingest.sms")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _twiml() -> HttpResponse:
    return HttpResponse(EMPTY_TWIML, content_type="text/xml; charset=utf-8")


def signed_urls(request: HttpRequest) -> list[str]:
    """The URLs Twilio may have signed for this request, the likeliest first.

    With `KEFU_PUBLIC_URL` set, Twilio called the public address (the one our status
    callbacks name), while the request may reach us through a proxy on another host under an
    internal name; the URL rebuilt from the request is then kept as a second candidate for a
    proxy that forwards the public Host.
    """
    own = request.build_absolute_uri()
    if not settings.KEFU_PUBLIC_URL:
        return [own]
    public = settings.KEFU_PUBLIC_URL.rstrip("/") + request.get_full_path()
    return [public] if public == own else [public, own]


def _signed(request: HttpRequest, *, our_number_field: str) -> bool:
    params = {key: request.POST.getlist(key) for key in request.POST}
    token = auth_token_for(
        account_sid=request.POST.get("AccountSid", ""),
        our_number=request.POST.get(our_number_field, ""),
    )
    signature = request.headers.get("X-Twilio-Signature", "")
    valid = any(
        twilio_signature_valid(auth_token=token, url=url, params=params, signature=signature)
        for url in signed_urls(request)
    )
    if not valid:
        logger.warning(
            "refused SMS webhook %s from %s: %s",
            request.path,
            client_ip(request),
            "no signature" if "X-Twilio-Signature" not in request.headers else "bad signature",
        )
    return valid


@csp_exempt()  # a provider's server reads the answer, no browser: no page policy
@csrf_exempt  # authenticated by Twilio's signature instead; there is no browser session
@require_POST
def incoming(request: HttpRequest) -> HttpResponse:
    if not _signed(request, our_number_field="To"):
        return HttpResponse("forbidden: invalid Twilio signature", status=403)
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
    if not sid or not request.POST.get("From"):
        logger.warning("refused SMS webhook without MessageSid or From")
        return HttpResponse("bad request: MessageSid and From are required", status=400)
    payload = {key: request.POST.get(key, "") for key in request.POST}
    inbound_receive(
        channel="sms", provider_id=sid, payload=payload, source=request.POST.get("To", "")
    )
    return _twiml()


@csp_exempt()  # a provider's server reads the answer, no browser: no page policy
@csrf_exempt
@require_POST
def status(request: HttpRequest) -> HttpResponse:
    # On a status callback our number is the sender.
    if not _signed(request, our_number_field="From"):
        return HttpResponse("forbidden: invalid Twilio signature", status=403)
    sms_status_update(
        message_sid=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)
