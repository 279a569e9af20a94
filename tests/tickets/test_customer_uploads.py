"""Customers' photos and PDFs on the status page: kept like agents' files (photos without
EXIF, nothing active), refused with a sentence, shown on the ticket page and to the
customer."""

import uuid

import pytest
from django.urls import reverse

from tests.factories import TeamFactory, intake, make_agent
from tests.support.images import HTML, PDF, SVG, exif_of, jpeg_with_exif, upload
from tickets.models import Attachment, Channel, Direction, Message
from tickets.portal import SESSION_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def _signed_in(client, customer_id: int) -> None:  # type: ignore[no-untyped-def]
    session = client.session
    session[SESSION_KEY] = customer_id
    session.save()


def _write(client, number: str, *, files, text: str = ""):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("portal:ticket", args=[number]),
        {"text": text, "token": str(uuid.uuid4()), "files": files},
    )


def test_a_customer_sends_a_photo_from_the_status_page(client, default_team):
    result = intake(text="草莓坏了", user_id="u-portal", phone="13800138000")
    _signed_in(client, result.ticket.customer_id)

    response = _write(
        client, result.ticket.number, text="这是照片", files=[upload("IMG_1.jpg", jpeg_with_exif())]
    )

    assert response.status_code == 302
    message = Message.objects.get(ticket=result.ticket, channel=Channel.WEB)
    assert (message.direction, message.body) == (Direction.IN, "这是照片")
    attachment = message.attachments.get()
    assert (attachment.filename, attachment.content_type) == ("IMG_1.jpg", "image/jpeg")
    assert exif_of(attachment.file.read()) == {}


def test_a_pdf_alone_is_a_message_named_after_it(client, default_team):
    result = intake(text="发票", user_id="u-portal-pdf")
    _signed_in(client, result.ticket.customer_id)

    _write(client, result.ticket.number, files=[upload("receipt.pdf", PDF, "application/pdf")])

    message = Message.objects.get(ticket=result.ticket, channel=Channel.WEB)
    assert message.body == "📎 receipt.pdf"
    assert message.attachments.get().content_type == "application/pdf"


@pytest.mark.parametrize(
    ("name", "data", "claimed"),
    [
        ("photo.jpg", SVG, "image/jpeg"),
        ("x.svg", SVG, "image/svg+xml"),
        ("a.png", HTML, "image/png"),
    ],
)
def test_active_content_is_refused_with_a_sentence_on_the_page(
    client, default_team, name, data, claimed
):
    result = intake(text="hi", user_id=f"u-portal-bad-{name}")
    _signed_in(client, result.ticket.customer_id)

    response = _write(
        client, result.ticket.number, text="看看", files=[upload(name, data, claimed)]
    )

    assert response.status_code == 200
    assert f"{name} 无法作为附件" in response.content.decode()
    assert not Message.objects.filter(ticket=result.ticket, channel=Channel.WEB).exists()
    assert not Attachment.objects.exists()


def test_a_file_over_the_limit_is_refused_with_a_sentence(client, default_team, settings):
    settings.KEFU_UPLOAD_MAX_BYTES = 1024 * 1024
    result = intake(text="hi", user_id="u-portal-big")
    _signed_in(client, result.ticket.customer_id)

    response = _write(
        client,
        result.ticket.number,
        files=[upload("big.pdf", PDF + b"0" * (2 * 1024 * 1024), "application/pdf")],
    )

    assert response.status_code == 200
    assert "big.pdf 超过 1 MB。" in response.content.decode()
    assert not Attachment.objects.exists()


def test_an_empty_message_without_files_is_refused(client, default_team):
    result = intake(text="hi", user_id="u-portal-empty")
    _signed_in(client, result.ticket.customer_id)

    response = _write(client, result.ticket.number, files=[])

    assert response.status_code == 200
    assert not Message.objects.filter(ticket=result.ticket, channel=Channel.WEB).exists()


def test_uploads_need_the_customers_own_ticket(client, default_team):
    mine = intake(text="hi", user_id="u-portal-a")
    theirs = intake(text="hi", user_id="u-portal-b")
    _signed_in(client, mine.ticket.customer_id)

    other = _write(client, theirs.ticket.number, files=[upload("a.pdf", PDF, "application/pdf")])
    client.logout()
    anonymous = _write(client, mine.ticket.number, files=[upload("a.pdf", PDF, "application/pdf")])

    assert (other.status_code, anonymous.status_code) == (404, 404)
    assert not Attachment.objects.exists()


def test_the_customers_photo_shows_on_the_ticket_page_and_on_their_status_page(
    client, default_team
):
    result = intake(text="草莓坏了", user_id="u-portal-show")
    _signed_in(client, result.ticket.customer_id)
    _write(client, result.ticket.number, files=[upload("IMG_1.jpg", jpeg_with_exif())])
    attachment = Attachment.objects.get()

    status_page = client.get(reverse("portal:ticket", args=[result.ticket.number])).content.decode()
    agent = make_agent(teams=[default_team])
    client.force_login(agent.user)
    ticket_page = client.get(
        reverse("tickets:ticket", args=[result.ticket.number])
    ).content.decode()
    client.force_login(make_agent(teams=[TeamFactory()]).user)
    other_team = client.get(reverse("tickets:attachment_view", args=[attachment.pk]))

    assert '<img class="thumb" src="/status/files/' in status_page
    assert f'src="{reverse("tickets:attachment_view", args=[attachment.pk])}"' in ticket_page
    assert other_team.status_code == 404
