"""Files on agents' replies and notes: what is taken (photos re-encoded without EXIF, PDFs),
what is refused and how it is said, how each channel carries them, and how they are served."""

import email

import pytest
from django.urls import reverse

from channels_ingest.email.delivery import build_message
from channels_ingest.models import OutboxEntry
from tests.factories import TeamFactory, app_message, intake, make_agent
from tests.support.images import HTML, PDF, SVG, exif_of, jpeg_with_exif, png_bytes, upload
from tickets.compose import attachment_link
from tickets.delivery import DeliveryResult, Outbound
from tickets.inbound import InboundAttachment
from tickets.models import Attachment, DeliveryStatus, Direction, Message
from tickets.services.intake import intake_message
from tickets.views.files import SANDBOX_POLICY

pytestmark = pytest.mark.django_db

SENT: list[Outbound] = []


class CapturingBackend:
    """Stands in for a channel's provider: keeps what it was asked to send."""

    def send(self, outbound: Outbound) -> DeliveryResult:
        SENT.append(outbound)
        return DeliveryResult(status=DeliveryStatus.SENT, provider_id="captured")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    settings.KEFU_PUBLIC_URL = "https://kefu.example"
    SENT.clear()


@pytest.fixture
def capture(settings):  # type: ignore[no-untyped-def]
    from tickets.delivery import backend_for

    path = f"{__name__}.CapturingBackend"
    settings.KEFU_DELIVERY_BACKENDS = {key: path for key in settings.KEFU_DELIVERY_BACKENDS}
    backend_for.cache_clear()
    return SENT


def _send(client, number, *, files, kind="reply", body="请看附件", **extra):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("tickets:send", args=[number]),
        {"body": body, "kind": kind, "files": files, **extra},
        follow=True,
    )


def _reply(ticket) -> Message:  # type: ignore[no-untyped-def]
    return Message.objects.get(ticket=ticket, direction=Direction.OUT, is_automatic=False)


def test_a_photo_on_a_reply_is_kept_as_a_jpeg_without_exif(agent_client):
    result = intake(text="草莓坏了", user_id="u-photo")
    original = jpeg_with_exif()
    assert exif_of(original)  # the test's own photo has a GPS position and a camera

    response = _send(
        agent_client, result.ticket.number, files=[upload("IMG_0001.HEIC.jpg", original)]
    )

    assert response.status_code == 200
    attachment = Attachment.objects.get(message=_reply(result.ticket))
    kept = attachment.file.read()
    assert (attachment.filename, attachment.content_type) == ("IMG_0001.HEIC.jpg", "image/jpeg")
    assert kept.startswith(b"\xff\xd8\xff") and exif_of(kept) == {}
    assert attachment.size == len(kept)


def test_a_note_carries_a_pdf(agent_client):
    result = intake(text="发票", user_id="u-note")

    _send(
        agent_client,
        result.ticket.number,
        files=[upload("invoice.pdf", PDF, "application/pdf")],
        kind="note",
    )

    note = Message.objects.get(ticket=result.ticket, direction=Direction.NOTE)
    attachment = note.attachments.get()
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "invoice.pdf",
        "application/pdf",
        len(PDF),
    )


@pytest.mark.parametrize(
    ("name", "data", "claimed"),
    [
        ("photo.jpg", SVG, "image/jpeg"),
        ("drawing.svg", SVG, "image/svg+xml"),
        ("photo.png", HTML, "image/png"),
        ("page.html", HTML, "text/html"),
        ("broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg"),
    ],
)
def test_active_content_and_unreadable_images_are_refused_with_a_message(
    agent_client, name, data, claimed
):
    result = intake(text="hi", user_id=f"u-bad-{name}")

    response = _send(agent_client, result.ticket.number, files=[upload(name, data, claimed)])

    assert response.status_code == 200
    assert f"{name} 无法作为附件：请发送照片" in response.content.decode()
    assert not Message.objects.filter(
        ticket=result.ticket, direction=Direction.OUT, is_automatic=False
    ).exists()
    assert not Attachment.objects.exists()


def test_a_file_over_the_size_limit_is_refused_with_a_message(agent_client, settings):
    settings.KEFU_UPLOAD_MAX_BYTES = 1000
    result = intake(text="hi", user_id="u-big")

    response = _send(
        agent_client,
        result.ticket.number,
        files=[upload("big.pdf", PDF + b"0" * 2000, "application/pdf")],
    )

    assert response.status_code == 200
    assert "big.pdf 超过 0.000953674 MB。" in response.content.decode()
    assert not Attachment.objects.exists()


def test_too_many_files_are_refused_with_a_message(agent_client, settings):
    settings.KEFU_UPLOAD_MAX_FILES = 2
    result = intake(text="hi", user_id="u-many")

    response = _send(
        agent_client,
        result.ticket.number,
        files=[upload(f"{i}.pdf", PDF, "application/pdf") for i in range(3)],
    )

    assert "一次最多附加 2 个文件。" in response.content.decode()
    assert not Attachment.objects.exists()


def test_an_email_reply_carries_its_files_and_its_formatting(
    agent_client, capture, django_capture_on_commit_callbacks
):
    result = intake_message(
        inbound=app_message(channel="email", email="emma@example.com", text="My order?")
    )
    body = (
        "Hello Emma,\n\nTo return it:\n1. Open the order\n2. Press <Return>\n\n"
        "• fresh: 48 h\n• other: 7 days"
    )

    with django_capture_on_commit_callbacks(execute=True):
        _send(
            agent_client,
            result.ticket.number,
            body=body,
            files=[upload("label.pdf", PDF, "application/pdf")],
        )

    [outbound] = [item for item in capture if item.kind == "reply"]
    assert outbound.body == body
    assert outbound.html == (
        "<p>Hello Emma,</p><p>To return it:</p><ol><li>Open the order</li>"
        "<li>Press &lt;Return&gt;</li></ol><ul><li>fresh: 48 h</li><li>other: 7 days</li></ul>"
    )
    mail = email.message_from_bytes(build_message(outbound).message().as_bytes())
    parts = {part.get_content_type(): part for part in mail.walk()}
    assert parts["text/plain"].get_payload(decode=True).decode() == body
    assert "<ol><li>Open the order</li>" in parts["text/html"].get_payload(decode=True).decode()
    assert parts["application/pdf"].get_filename() == "label.pdf"
    assert parts["application/pdf"].get_payload(decode=True) == PDF


def test_an_sms_reply_says_where_its_files_are(agent_client, django_capture_on_commit_callbacks):
    result = intake_message(inbound=app_message(channel="sms", phone="13800138000", text="快递呢"))

    with django_capture_on_commit_callbacks(execute=True):
        _send(
            agent_client,
            result.ticket.number,
            body="这是快递单照片",
            files=[upload("a.jpg", jpeg_with_exif())],
        )

    reply = _reply(result.ticket)
    entry = OutboxEntry.objects.get(reference=f"kefu-{reply.pk}")
    assert (
        entry.body == "这是快递单照片\n(1 个附件，请在工单查询页查看：https://kefu.example/status/)"
    )


def test_a_chat_reply_shows_its_files_in_the_widget(
    agent_client, django_capture_on_commit_callbacks
):
    from channels_ingest.chat.events import message_event

    result = intake_message(
        inbound=app_message(channel="chat", user_id="visitor:abcdefghijklmnop", text="hi")
    )
    with django_capture_on_commit_callbacks(execute=True):
        _send(
            agent_client,
            result.ticket.number,
            body="看图",
            files=[upload("a.png", png_bytes(), "image/png")],
        )

    reply = _reply(result.ticket)
    [file] = message_event(reply)["message"]["files"]
    attachment = reply.attachments.get()
    assert file == {
        "name": "a.jpg",
        "type": "image/jpeg",
        "size": attachment.size,
        "url": attachment_link(attachment),
    }
    assert file["url"].startswith("https://kefu.example/status/files/")


def test_the_preview_serves_a_photo_inline_with_a_safe_type(agent_client):
    result = intake(text="hi", user_id="u-view")
    _send(agent_client, result.ticket.number, files=[upload("a.jpg", jpeg_with_exif())])
    attachment = Attachment.objects.get()

    response = agent_client.get(reverse("tickets:attachment_view", args=[attachment.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX_POLICY
    assert response["Content-Disposition"].startswith("inline")


def test_the_preview_serves_a_pdf_with_a_sandbox(agent_client):
    result = intake(text="hi", user_id="u-pdf")
    _send(agent_client, result.ticket.number, files=[upload("a.pdf", PDF, "application/pdf")])
    attachment = Attachment.objects.get()

    response = agent_client.get(reverse("tickets:attachment_view", args=[attachment.pk]))

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["Content-Disposition"] == 'inline; filename="a.pdf"'


def test_a_customer_file_that_lies_about_its_type_is_downloaded_not_shown(agent_client):
    result = intake_message(
        inbound=app_message(channel="email", email="x@example.com", text="see attached").__class__(
            **{
                **app_message(channel="email", email="x@example.com", text="see attached").__dict__,
                "attachments": [
                    InboundAttachment(
                        filename="cute.png",
                        content_type="image/png",
                        size=len(HTML),
                        md5="",
                        sha256="",
                        data=HTML,
                    )
                ],
            }
        )
    )
    attachment = Attachment.objects.get(message__ticket=result.ticket)

    response = agent_client.get(reverse("tickets:attachment_view", args=[attachment.pk]))

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_previews_are_for_agents_who_may_see_the_ticket(client, agent_client, default_team):
    result = intake(text="hi", user_id="u-roles")
    _send(agent_client, result.ticket.number, files=[upload("a.jpg", jpeg_with_exif())])
    url = reverse("tickets:attachment_view", args=[Attachment.objects.get().pk])
    client.logout()

    anonymous = client.get(url)
    client.force_login(make_agent(teams=[TeamFactory()]).user)
    other_team = client.get(url)

    assert anonymous.status_code == 302
    assert other_team.status_code == 404


def test_the_ticket_page_shows_a_thumbnail_and_a_pdf_entry(agent_client):
    result = intake(text="hi", user_id="u-page")
    _send(
        agent_client,
        result.ticket.number,
        files=[upload("a.jpg", jpeg_with_exif()), upload("b.pdf", PDF, "application/pdf")],
    )
    photo, pdf = Attachment.objects.order_by("pk")

    page = agent_client.get(reverse("tickets:ticket", args=[result.ticket.number])).content.decode()

    assert f'<img class="thumb" src="{reverse("tickets:attachment_view", args=[photo.pk])}"' in page
    pdf_url = reverse("tickets:attachment_view", args=[pdf.pk])
    assert f'<a href="{pdf_url}" target="_blank" rel="noopener">b.pdf</a>' in page


def test_a_customer_link_opens_a_reply_file_but_never_a_notes(client, agent_client):
    result = intake(text="hi", user_id="u-link")
    _send(agent_client, result.ticket.number, files=[upload("a.pdf", PDF, "application/pdf")])
    _send(
        agent_client,
        result.ticket.number,
        kind="note",
        files=[upload("n.pdf", PDF, "application/pdf")],
    )
    reply_file, note_file = Attachment.objects.order_by("pk")
    client.logout()

    shown = client.get(attachment_link(reply_file, absolute=False))
    hidden = client.get(attachment_link(note_file, absolute=False))
    forged = client.get(attachment_link(reply_file, absolute=False)[:-3] + "abc/")

    assert shown.status_code == 200 and shown["Content-Type"] == "application/pdf"
    assert hidden.status_code == 404
    assert forged.status_code == 404


def test_a_knowledge_base_answer_keeps_its_lists_when_suggested(agent):
    from kb.models import Article, ArticleStatus
    from tickets.selectors import article_suggestions

    article = Article.objects.create(
        title="退货流程",
        body="退货步骤：\n\n1. 打开订单\n2. 点击**申请退货**\n\n- 生鲜 48 小时内\n- 其他 7 天",
        status=ArticleStatus.PUBLISHED,
        external_id="returns",
    )
    result = intake(text="怎么退货", user_id="u-kb")
    result.ticket.suggestions = [{"article_id": article.pk, "title": "退货流程", "answer": "flat"}]
    result.ticket.save(update_fields=["suggestions"])

    [suggestion] = article_suggestions(ticket=result.ticket)

    assert (
        suggestion["answer"]
        == "退货步骤：\n\n1. 打开订单\n2. 点击申请退货\n\n• 生鲜 48 小时内\n• 其他 7 天"
    )
