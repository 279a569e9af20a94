"""Raw email in through the webhook, threading, loop guard, bounces; email out over a real
SMTP server on loopback."""

import base64
import email
import hashlib
import time
from datetime import timedelta
from email.policy import default as default_policy

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from channels_ingest.models import InboundRecord, InboundState, OutboxEntry
from tests.channels_ingest.email.raw import mail
from tests.factories import issue_token
from tests.support.mail import customer_mail
from tickets.models import Attachment, DeliveryStatus, Direction, Message, Status, Ticket
from tickets.services.workflow import ticket_reply, ticket_set_status

pytestmark = pytest.mark.django_db

URL = "/api/v1/inbound/email"


@pytest.fixture
def api(default_team, agent):  # type: ignore[no-untyped-def]
    client = APIClient()
    token = issue_token("mail-pipe", scopes=["inbound:email"])
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def post(api, raw: bytes, capture):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        return api.post(URL, raw, content_type="message/rfc822")


def test_a_new_mail_opens_a_ticket_and_gets_an_automatic_acknowledgement(
    api, django_capture_on_commit_callbacks
):
    response = post(api, customer_mail("m1@example.com"), django_capture_on_commit_callbacks)

    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert response.json() == {"message_id": "m1@example.com", "ticket_number": ticket.number}
    message = ticket.messages.get(direction=Direction.IN)
    assert (message.subject, message.body, message.email_message_id) == (
        "订单破损",
        "收到的杯子碎了",
        "m1@example.com",
    )
    assert ticket.customer.name == "张伟"
    ack = ticket.messages.get(direction=Direction.OUT)
    assert ack.is_automatic and ack.delivery_status == DeliveryStatus.SENT
    assert OutboxEntry.objects.get().kind == "acknowledgement"
    assert ticket.first_response_at is None  # an acknowledgement is no response


def test_the_same_mail_again_is_a_no_op(api, django_capture_on_commit_callbacks):
    first = post(api, customer_mail("m1@example.com"), django_capture_on_commit_callbacks)
    again = post(api, customer_mail("m1@example.com"), django_capture_on_commit_callbacks)

    assert again.status_code == 200
    assert again.json()["ticket_number"] == first.json()["ticket_number"]
    assert Message.objects.filter(direction=Direction.IN).count() == 1
    assert OutboxEntry.objects.count() == 1


def test_a_reply_threads_by_in_reply_to_our_message(api, agent, django_capture_on_commit_callbacks):
    post(api, customer_mail("m1@example.com"), django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    ours = ticket_reply(ticket=ticket, author=agent, body="请拍照给我们")

    reply = customer_mail(
        "m2@example.com",
        subject="回复: 订单破损",
        extra=(f"In-Reply-To: <{ours.email_message_id}>",),
    )
    post(api, reply, django_capture_on_commit_callbacks)

    assert Ticket.objects.count() == 1
    assert ticket.messages.filter(direction=Direction.IN).count() == 2


def test_a_reply_threads_by_the_reply_address_alone(api, django_capture_on_commit_callbacks):
    post(api, customer_mail("m1@example.com"), django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()

    reply = mail(
        "From: zhang.wei@example.com",
        f"To: reply+{ticket.reply_token}@kefu.localhost",
        "Subject: 又来了",
        "Message-ID: <m3@example.com>",
        body="照片见附件",
    )
    post(api, reply, django_capture_on_commit_callbacks)

    assert Ticket.objects.count() == 1
    assert ticket.messages.filter(direction=Direction.IN).count() == 2


def test_a_reply_threads_by_the_ticket_tag_in_the_subject(api, django_capture_on_commit_callbacks):
    post(api, customer_mail("m1@example.com"), django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()

    reply = customer_mail("m4@example.com", subject=f"RE: [K#{ticket.number}] 订单破损")
    post(api, reply, django_capture_on_commit_callbacks)

    assert Ticket.objects.count() == 1


def test_a_new_mail_without_thread_keys_opens_a_new_ticket(api, django_capture_on_commit_callbacks):
    post(api, customer_mail("m1@example.com"), django_capture_on_commit_callbacks)
    post(api, customer_mail("m5@example.com", subject="发票"), django_capture_on_commit_callbacks)

    assert Ticket.objects.count() == 2


def test_a_reply_to_a_recently_closed_ticket_reopens_it(
    api, agent, django_capture_on_commit_callbacks
):
    post(api, customer_mail("m1@example.com"), django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=agent.user)

    reply = customer_mail("m6@example.com", subject=f"Re: [K#{ticket.number}] 订单破损")
    post(api, reply, django_capture_on_commit_callbacks)

    ticket.refresh_from_db()
    assert Ticket.objects.count() == 1
    assert (ticket.status, ticket.is_open) == (Status.OPEN, True)


def test_a_reply_to_a_long_closed_ticket_opens_a_new_one_linked_to_it(
    api, agent, django_capture_on_commit_callbacks
):
    post(api, customer_mail("m1@example.com"), django_capture_on_commit_callbacks)
    old = Ticket.objects.get()
    ticket_set_status(ticket=old, status=Status.CLOSED, actor=agent.user)
    Ticket.objects.filter(pk=old.pk).update(closed_at=timezone.now() - timedelta(days=30))

    reply = customer_mail("m7@example.com", subject=f"Re: [K#{old.number}] 订单破损")
    post(api, reply, django_capture_on_commit_callbacks)

    new = Ticket.objects.exclude(pk=old.pk).get()
    assert new.previous == old
    assert Ticket.objects.get(pk=old.pk).status == Status.CLOSED


def test_automatic_mail_becomes_a_ticket_but_is_never_acknowledged(
    api, django_capture_on_commit_callbacks
):
    auto = customer_mail("m8@example.com", extra=("Auto-Submitted: auto-replied",))

    response = post(api, auto, django_capture_on_commit_callbacks)

    assert response.status_code == 201
    assert OutboxEntry.objects.count() == 0


def test_a_bounce_marks_our_message_failed_and_opens_nothing(
    api, agent, django_capture_on_commit_callbacks
):
    post(api, customer_mail("m1@example.com"), django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    ours = ticket_reply(ticket=ticket, author=agent, body="您好")
    bounce = mail(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>",
        "To: support@kefu.localhost",
        "Subject: Undelivered Mail Returned to Sender",
        "Message-ID: <bounce-1@mx.example.com>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
        body=(
            b"--b1\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
            b"--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
            b"Reporting-MTA: dns; mx.example.com\r\n\r\n"
            b"Final-Recipient: rfc822; zhang.wei@example.com\r\nAction: failed\r\n"
            b"Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
            b"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            + f"Message-ID: <{ours.email_message_id}>\r\n".encode()
            + b"Subject: x\r\n--b1--\r\n"
        ),
    )

    response = post(api, bounce, django_capture_on_commit_callbacks)

    ours.refresh_from_db()
    assert response.status_code == 200
    assert ours.delivery_status == DeliveryStatus.FAILED
    assert ours.delivery_error.startswith("bounced")
    assert Ticket.objects.count() == 1


def post_mail_with_two_attachments(api, settings, capture):  # type: ignore[no-untyped-def]
    """A 6-byte GIF and a 4 KiB zip, with the attachment limit at 1 KiB."""
    settings.MAX_ATTACHMENT_BYTES = 1024
    big = base64.encodebytes(b"x" * 4096).replace(b"\n", b"\r\n")
    small = base64.encodebytes(b"GIF89a").replace(b"\n", b"\r\n")
    raw = mail(
        "From: zhang.wei@example.com",
        "Subject: photos",
        "Message-ID: <m9@example.com>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="mx"',
        body=(
            b"--mx\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n"
            b"--mx\r\nContent-Type: image/gif\r\n"
            b'Content-Disposition: attachment; filename="a.gif"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\n" + small + b"\r\n"
            b"--mx\r\nContent-Type: application/zip\r\n"
            b'Content-Disposition: attachment; filename="big.zip"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\n" + big + b"\r\n--mx--\r\n"
        ),
    )
    return post(api, raw, capture)


def test_an_oversized_attachment_is_refused_with_a_note_and_the_mail_still_lands(
    api, settings, django_capture_on_commit_callbacks
):
    response = post_mail_with_two_attachments(api, settings, django_capture_on_commit_callbacks)

    assert response.status_code == 201
    kept = Attachment.objects.get(filename="a.gif")
    refused = Attachment.objects.get(filename="big.zip")
    assert (kept.size, bool(kept.file), kept.refused_reason) == (6, True, "")
    assert kept.file.read() == b"GIF89a"
    assert (refused.size, bool(refused.file)) == (4096, False)
    assert "over the 1024" in refused.refused_reason
    message = Message.objects.get(direction=Direction.IN)
    assert any("big.zip" in note for note in message.defects)


def test_garbage_is_stored_and_refused_with_the_reason_never_a_500(api):
    response = api.post(URL, b"\x00\x01 not a mail at all", content_type="message/rfc822")

    assert response.status_code == 422
    record = InboundRecord.objects.get()
    assert record.state == InboundState.FAILED
    assert response.json()["detail"] == record.error != ""
    assert Ticket.objects.count() == 0


def test_an_empty_body_is_refused(api):
    assert api.post(URL, b"", content_type="message/rfc822").status_code == 400
    assert InboundRecord.objects.count() == 0


def test_a_body_over_the_limit_is_refused_413(api, settings):
    settings.MAX_ATTACHMENT_BYTES = 10

    response = api.post(URL, b"x" * (6 * 1024 * 1024), content_type="message/rfc822")

    assert response.status_code == 413
    assert InboundRecord.objects.count() == 0


def test_the_email_webhook_needs_a_token(default_team):
    response = APIClient().post(URL, customer_mail("m1@example.com"), content_type="message/rfc822")

    assert response.status_code == 401


@pytest.fixture
def smtp_server(settings):  # type: ignore[no-untyped-def]
    import socket

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    received: list[email.message.EmailMessage] = []

    class Collect(MessageHandler):
        def handle_message(self, message):  # type: ignore[no-untyped-def]
            received.append(email.message_from_bytes(message.as_bytes(), policy=default_policy))

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.KEFU_DELIVERY_BACKENDS = {
        **settings.KEFU_DELIVERY_BACKENDS,
        "email": "channels_ingest.email.delivery.SmtpBackend",
    }
    from tickets.delivery import backend_for

    backend_for.cache_clear()
    yield received
    controller.stop()


def wait_for(items: list, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(items) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_replies_go_out_by_smtp_threaded_and_tagged(
    api, agent, smtp_server, django_capture_on_commit_callbacks
):
    post(api, customer_mail("m1@example.com"), django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_reply(ticket=ticket, author=agent, body="已为您补发")
    wait_for(smtp_server, 2)

    ack, sent = smtp_server
    assert ack["Auto-Submitted"] == "auto-replied"
    assert sent["Auto-Submitted"] is None
    assert sent["Message-ID"] == f"<{reply.email_message_id}>"
    assert sent["In-Reply-To"] == f"<{ack['Message-ID'].strip('<>')}>"
    assert sent["References"].split() == ["<m1@example.com>", ack["Message-ID"]]
    assert sent["Subject"] == f"Re: [K#{ticket.number}] 订单破损"
    assert sent["Reply-To"] == f"reply+{ticket.reply_token}@kefu.localhost"
    assert sent["To"] == "zhang.wei@example.com"
    assert sent.get_content().strip() == "已为您补发"
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT


def test_an_unreachable_smtp_server_shows_the_reply_as_failed_after_the_last_attempt(
    api, agent, settings, django_capture_on_commit_callbacks
):
    post(api, customer_mail("m1@example.com"), django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    # One attempt allowed; the outbox's retries before the last are tests/tickets/test_outbox.py's.
    settings.DELIVERY_MAX_ATTEMPTS = 1
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # discard: nothing listens
    settings.KEFU_DELIVERY_BACKENDS = {
        **settings.KEFU_DELIVERY_BACKENDS,
        "email": "channels_ingest.email.delivery.SmtpBackend",
    }
    from tickets.delivery import backend_for

    backend_for.cache_clear()

    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_reply(ticket=ticket, author=agent, body="hello")

    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert "SMTP unavailable" in reply.delivery_error


def test_the_ticket_page_lists_attachments_and_defects_and_downloads_only_for_its_team(
    api, agent_client, client, settings, django_capture_on_commit_callbacks
):
    from tests.factories import TeamFactory, make_agent

    post_mail_with_two_attachments(api, settings, django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    kept = Attachment.objects.get(filename="a.gif")

    page = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    download = agent_client.get(f"/attachments/{kept.pk}/")
    outsider = make_agent(teams=[TeamFactory()])
    client.force_login(outsider.user)

    assert "big.zip" in page and "a.gif" in page and "⚠" in page
    assert download.status_code == 200
    assert download["Content-Type"] == "application/octet-stream"
    assert b"".join(download.streaming_content) == b"GIF89a"
    assert client.get(f"/attachments/{kept.pk}/").status_code == 404


def huge_text(chars: int) -> str:
    """A customer's text of about `chars` characters: numbered lines of Chinese and ASCII."""
    lines = []
    total = 0
    number = 0
    while total < chars:
        line = f"第{number}行：订单 20261122-{number:05d} 的货物清单 item {number} ok"
        lines.append(line)
        total += len(line) + 1
        number += 1
    return "\n".join(lines)


def test_a_huge_mail_is_stored_capped_with_the_full_text_attached(
    api, agent_client, settings, django_capture_on_commit_callbacks
):
    settings.KEFU_MESSAGE_BODY_MAX_CHARS = 100_000
    text = huge_text(2 * 1024 * 1024)
    raw = customer_mail("huge@example.com", body=text)
    assert len(raw) > 2 * 1024 * 1024

    response = post(api, raw, django_capture_on_commit_callbacks)

    assert response.status_code == 201
    message = Message.objects.get(direction=Direction.IN)
    marker = "[消息过长，已截短：完整内容见附件 original.txt]"  # zh-Hans, the site's language
    assert len(message.body) <= 100_000
    kept = message.body.removesuffix(f"\n\n{marker}")
    assert kept != message.body  # the marker ends the stored text
    # Cut at a line break: the stored text is whole lines of the original.
    assert text.startswith(kept + "\n")
    assert len(kept) > 90_000
    attachment = message.attachments.get()
    assert (attachment.filename, attachment.content_type) == ("original.txt", "text/plain")
    full = text.encode()
    assert attachment.size == len(full)
    assert attachment.file.read() == full
    assert attachment.sha256 == hashlib.sha256(full).hexdigest()

    page = agent_client.get(f"/tickets/{message.ticket.number}/")
    assert page.status_code == 200
    # The page carries the capped text (a few bytes per character once escaped), not 2 MB.
    assert len(page.content) < 600_000
    assert "original.txt" in page.content.decode()
