"""Outbound SMS through a Twilio-compatible Messages API."""

import httpx
from django.conf import settings

from channels_ingest.http import http_client
from channels_ingest.models import SmsChannel
from channels_ingest.sms.services import is_opted_out, opted_out
from tickets.delivery import DeliveryResult, Outbound, TransientDeliveryError
from tickets.models import DeliveryStatus

TIMEOUT_SECONDS = 10.0


class TwilioBackend:
    """Sends with the first active SMS channel (admin), else the TWILIO_* settings. Asks for
    status callbacks at KEFU_PUBLIC_URL so delivery shows on the timeline."""

    def accepts(self, to: str) -> bool:
        """A number that opted out (TD/退订) gets no SMS: a notice goes another way."""
        return not is_opted_out(to)

    def accepts_many(self, addresses: list[str]) -> set[str]:
        return set(addresses) - opted_out(addresses)

    def send(self, outbound: Outbound) -> DeliveryResult:
        if is_opted_out(outbound.to):
            return DeliveryResult(status=DeliveryStatus.FAILED, error="the number opted out")
        channel = SmsChannel.objects.filter(is_active=True).order_by("pk").first()
        sid = channel.account_sid if channel else settings.TWILIO_ACCOUNT_SID
        token = channel.auth_token if channel else settings.TWILIO_AUTH_TOKEN
        sender = channel.number if channel else settings.TWILIO_FROM_NUMBER
        base = (channel.api_base if channel else settings.TWILIO_API_BASE).rstrip("/")
        form = {"To": outbound.to, "From": sender, "Body": outbound.body}
        if settings.KEFU_PUBLIC_URL:
            form["StatusCallback"] = settings.KEFU_PUBLIC_URL.rstrip("/") + (
                "/webhooks/sms/twilio/status/"
            )
        try:
            response = http_client().post(
                f"{base}/2010-04-01/Accounts/{sid}/Messages.json",
                data=form,
                auth=(sid, token),
                timeout=TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as error:
            raise TransientDeliveryError(f"SMS API unreachable: {error}") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientDeliveryError(f"SMS API answered {response.status_code}")
        if response.status_code >= 400:
            return DeliveryResult(
                status=DeliveryStatus.FAILED,
                error=f"SMS API refused ({response.status_code}): {response.text[:200]}",
            )
        body = response.json()
        return DeliveryResult(status=DeliveryStatus.SENT, provider_id=str(body.get("sid", "")))
