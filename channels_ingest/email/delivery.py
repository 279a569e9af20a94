"""Outbound email over SMTP (Django's email backend), threaded the way mail clients expect."""

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from channels_ingest.email.threading import normalise_subject
from tickets.delivery import DeliveryResult, Outbound, TransientDeliveryError
from tickets.models import DeliveryStatus

# Kinds of mail that no human wrote: marked so that other systems do not answer them.
AUTOMATIC_KINDS = {"acknowledgement", "notification", "code"}


def reply_address(token: str) -> str:
    """The ticket's own reply address, `reply+TOKEN@<KEFU_EMAIL_DOMAIN>`: a reply reaches
    the right ticket even from a client that drops every thread header."""
    if not token:
        return settings.DEFAULT_FROM_EMAIL
    return f"reply+{token}@{settings.KEFU_EMAIL_DOMAIN}"


def subject_for(outbound: Outbound) -> str:
    base = normalise_subject(outbound.subject) or outbound.ticket_number
    if outbound.ticket_number:
        base = f"[K#{outbound.ticket_number}] {base}"
    return f"Re: {base}" if outbound.thread_message_ids and outbound.kind == "reply" else base


def build_message(outbound: Outbound) -> EmailMultiAlternatives:
    headers: dict[str, str] = {}
    if outbound.message_id:
        headers["Message-ID"] = f"<{outbound.message_id}>"
    if outbound.thread_message_ids:
        headers["In-Reply-To"] = f"<{outbound.thread_message_ids[-1]}>"
        headers["References"] = " ".join(f"<{mid}>" for mid in outbound.thread_message_ids)
    if outbound.kind in AUTOMATIC_KINDS:
        # RFC 3834: an automatic message, so well-behaved systems neither answer nor loop.
        headers["Auto-Submitted"] = (
            "auto-replied" if outbound.kind == "acknowledgement" else ("auto-generated")
        )
        headers["X-Auto-Response-Suppress"] = "All"
    if outbound.ticket_number:
        headers["X-Kefu-Ticket"] = outbound.ticket_number
    message = EmailMultiAlternatives(
        subject=subject_for(outbound),
        body=outbound.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[outbound.to],
        reply_to=[reply_address(outbound.reply_token)],
        headers=headers,
    )
    if outbound.html:
        # The same reply with its formatting (sanitised in the core: tickets.formatting).
        message.attach_alternative(outbound.html, "text/html")
    for item in outbound.attachments:
        message.attach(item.filename, item.read(), item.content_type)
    return message


class SmtpBackend:
    """Delivery through SMTP. A refused recipient is a failure; an unreachable or busy
    server is transient (the delivery task retries with a bound)."""

    def send(self, outbound: Outbound) -> DeliveryResult:
        message = build_message(outbound)
        try:
            with get_connection(
                backend="django.core.mail.backends.smtp.EmailBackend", fail_silently=False
            ) as connection:
                message.connection = connection
                message.send()
        except smtplib.SMTPRecipientsRefused as error:
            return DeliveryResult(status=DeliveryStatus.FAILED, error=f"refused: {error}")
        except smtplib.SMTPResponseException as error:
            if 500 <= error.smtp_code < 600:
                return DeliveryResult(
                    status=DeliveryStatus.FAILED, error=f"SMTP {error.smtp_code}: {error}"
                )
            raise TransientDeliveryError(f"SMTP {error.smtp_code}: {error}") from error
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            raise TransientDeliveryError(f"SMTP unavailable: {error}") from error
        return DeliveryResult(status=DeliveryStatus.SENT, provider_id=outbound.message_id)
