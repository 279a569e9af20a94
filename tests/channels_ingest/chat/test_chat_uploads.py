"""Photos and PDFs from the chat widget: the upload endpoint proves the visitor like the
socket does, keeps the file before answering, and refuses clearly."""

import time

import pytest
from django.urls import reverse

from channels_ingest.chat.identity import sign_visitor
from channels_ingest.models import InboundRecord
from tests.channels_ingest.chat.sockets import SECRET, SHOP_ORIGIN, make_site
from tests.support.images import HTML, PDF, SVG, exif_of, jpeg_with_exif, upload
from tickets.models import Attachment, Channel, Message

pytestmark = pytest.mark.django_db

URL = "/chat/shop-key/upload/"


@pytest.fixture(autouse=True)
def _site(settings, tmp_path, default_team):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    return make_site(team=default_team)


def _signed(user: str = "u3001") -> dict[str, str]:
    expires = int(time.time()) + 3600
    signature = sign_visitor(secret=SECRET, site_key="shop-key", user_id=user, expires=expires)
    return {"user": user, "expires": str(expires), "signature": signature, "name": "陈静"}


def _post(client, files, *, origin=SHOP_ORIGIN, client_id="c0123456789abcdef", **fields):  # type: ignore[no-untyped-def]
    data = {**_signed(), "id": client_id, "lang": "en", "files": files, **fields}
    return client.post(URL, data, HTTP_ORIGIN=origin)


def test_a_visitors_photo_is_kept_without_exif_before_the_answer(client):
    response = _post(client, [upload("IMG_2041.jpg", jpeg_with_exif())], text="草莓坏了")

    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    answer = response.json()
    message = Message.objects.get(pk=answer["id"])
    assert (answer["type"], answer["client_id"]) == ("ack", "c0123456789abcdef")
    assert answer["ticket_number"] == message.ticket.number
    assert (message.channel, message.body) == (Channel.CHAT, "草莓坏了")
    attachment = message.attachments.get()
    assert (attachment.filename, attachment.content_type) == ("IMG_2041.jpg", "image/jpeg")
    assert exif_of(attachment.file.read()) == {}
    record = InboundRecord.objects.get(channel="chat")
    [stored] = record.payload["frame"]["files"]
    assert stored["name"] == "IMG_2041.jpg"
    # Intake keeps the message's own copy; the upload's copy is gone (nothing lingers
    # outside the message that erasure and retention look after).
    from django.core.files.storage import default_storage

    assert not default_storage.exists(stored["path"])


def test_the_same_upload_sent_again_is_one_message(client):
    first = _post(client, [upload("a.pdf", PDF, "application/pdf")])
    again = _post(client, [upload("a.pdf", PDF, "application/pdf")])

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["duplicate"] is True
    assert Message.objects.count() == 1
    assert Attachment.objects.count() == 1
    assert Message.objects.get().body == "📎 a.pdf"


@pytest.mark.parametrize(
    ("name", "data", "claimed"),
    [
        ("photo.jpg", SVG, "image/jpeg"),
        ("x.svg", SVG, "image/svg+xml"),
        ("p.png", HTML, "image/png"),
    ],
)
def test_active_content_is_refused_with_a_sentence(client, name, data, claimed):
    response = _post(client, [upload(name, data, claimed)])

    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == "bad_file"
    assert answer["message"] == (
        f"{name} cannot be attached: send a photo (JPEG, PNG, HEIC, WebP, GIF) or a PDF."
    )
    assert answer["client_id"] == "c0123456789abcdef"
    assert not InboundRecord.objects.exists() and not Message.objects.exists()


def test_a_file_over_the_limit_is_refused_with_a_sentence(client, settings):
    settings.KEFU_UPLOAD_MAX_BYTES = 2 * 1024 * 1024

    response = _post(client, [upload("big.pdf", PDF + b"0" * (3 * 1024 * 1024), "application/pdf")])

    assert response.status_code == 400
    assert response.json()["message"] == "big.pdf is larger than 2 MB."
    assert not Message.objects.exists()


def test_uploads_need_the_sites_origin_and_a_valid_visitor(client):
    wrong_origin = _post(
        client, [upload("a.pdf", PDF, "application/pdf")], origin="https://evil.example"
    )
    forged = _post(client, [upload("a.pdf", PDF, "application/pdf")], signature="0" * 64)
    unknown_site = client.post(
        "/chat/nope/upload/", {"id": "c0123456789abcdef"}, HTTP_ORIGIN=SHOP_ORIGIN
    )

    assert wrong_origin.status_code == 403
    assert "Access-Control-Allow-Origin" not in wrong_origin
    assert (forged.status_code, forged.json()["code"]) == (401, "bad_signature")
    assert unknown_site.status_code == 404
    assert not InboundRecord.objects.exists()


def test_an_upload_without_a_file_is_refused(client):
    response = _post(client, [])

    assert (response.status_code, response.json()["code"]) == (400, "bad_message")


def test_uploads_are_rate_limited_per_visitor(client, settings):
    settings.RATELIMIT_ENABLE = True
    settings.CHAT_UPLOADS_PER_MINUTE = 1

    first = _post(client, [upload("a.pdf", PDF, "application/pdf")], client_id="c-first-0001")
    second = _post(client, [upload("b.pdf", PDF, "application/pdf")], client_id="c-second-0002")

    assert first.status_code == 201
    assert (second.status_code, second.json()["code"]) == (429, "rate_limited")
    assert Message.objects.count() == 1


def test_the_visitors_photo_shows_on_the_ticket_page(client, agent):
    answer = _post(client, [upload("IMG_2041.jpg", jpeg_with_exif())]).json()
    attachment = Attachment.objects.get()
    client.force_login(agent.user)

    page = client.get(reverse("tickets:ticket", args=[answer["ticket_number"]])).content.decode()

    assert (
        f'<img class="thumb" src="{reverse("tickets:attachment_view", args=[attachment.pk])}"'
        in page
    )
