"""Outbound app messages: a signed JSON POST to the shop's push webhook."""

import hashlib
import hmac
import json

import httpx
from django.conf import settings

from channels_ingest.app.selectors import push_tokens_for
from channels_ingest.http import http_client
from tickets.delivery import DeliveryResult, Outbound, TransientDeliveryError
from tickets.models import DeliveryStatus

SIGNATURE_HEADER = "X-Kefu-Signature"
TIMEOUT_SECONDS = 5.0


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class AppWebhookBackend:
    """POSTs `{"reference", "user_id", "ticket_number", "text", "kind", "push_tokens"}`; the
    shop answers 2xx. `push_tokens` lists the user's registered devices
    (`[{"platform", "token"}]`, newest first) for the shop's push service. A 5xx, 429 or a
    network error is transient (retried); another 4xx is a failure. Every attempt at one
    message sends the same body and `Idempotency-Key` header (its reference)."""

    def __init__(self) -> None:
        self.url = settings.APP_OUTBOUND_WEBHOOK_URL
        self.secret = settings.APP_OUTBOUND_WEBHOOK_SECRET

    def send(self, outbound: Outbound) -> DeliveryResult:
        body = json.dumps(
            {
                "reference": outbound.reference,
                "user_id": outbound.to,
                "ticket_number": outbound.ticket_number,
                "text": outbound.body,
                "kind": outbound.kind,
                "push_tokens": push_tokens_for(user_id=outbound.to),
            },
            ensure_ascii=False,
        ).encode()
        # A send the outbox tries again (a worker died mid-send, a 5xx) carries the same key:
        # the shop can drop the copy.
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": outbound.reference,
        }
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(body, self.secret)
        try:
            response = http_client().post(
                self.url, content=body, headers=headers, timeout=TIMEOUT_SECONDS
            )
        except httpx.HTTPError as error:
            raise TransientDeliveryError(f"app webhook unreachable: {error}") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientDeliveryError(f"app webhook answered {response.status_code}")
        if response.status_code >= 400:
            return DeliveryResult(
                status=DeliveryStatus.FAILED, error=f"app webhook refused: {response.status_code}"
            )
        provider_id = ""
        try:
            provider_id = str(response.json().get("id", ""))
        except (ValueError, AttributeError):
            pass
        return DeliveryResult(status=DeliveryStatus.SENT, provider_id=provider_id)
