"""SMS through Twilio's webhooks, signed by the official twilio package's validator."""

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from channels_ingest.models import InboundRecord, SmsChannel, SmsOptOut
from channels_ingest.sms.segments import segment_count
from tickets.models import DeliveryStatus, Direction, Message, Ticket
from tickets.services.workflow import ticket_reply

pytestmark = pytest.mark.django_db

TOKEN = "twilio-auth-token-for-tests"
URL = "http://testserver/webhooks/sms/twilio/"
STATUS_URL = "http://testserver/webhooks/sms/twilio/status/"


@pytest.fixture
def sms_number(db):  # type: ignore[no-untyped-def]
    return SmsChannel.objects.create(
        name="shop", number="+8610690000", account_sid="AC123", auth_token=TOKEN
    )


def signed_post(client: Client, url: str, params: dict[str, str], token: str = TOKEN):  # type: ignore[no-untyped-def]
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)


def sms(sid: str, body: str, sender: str = "+8613800138000") -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": "AC123",
        "From": sender,
        "To": "+8610690000",
        "Body": body,
        "NumMedia": "0",
    }


def test_a_signed_sms_opens_a_ticket_for_the_phone_number(
    client, sms_number, default_team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post(client, URL, sms("SM1", "我的快递到哪了"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.messages.get().body) == ("sms", "我的快递到哪了")
    assert ticket.customer.identities.get().value == "+8613800138000"


def test_a_redelivered_sms_does_not_open_a_second_ticket(
    client, sms_number, default_team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, URL, sms("SM1", "你好"))
        again = signed_post(client, URL, sms("SM1", "你好"))

    assert again.status_code == 200
    assert (Ticket.objects.count(), Message.objects.count()) == (1, 1)
    assert InboundRecord.objects.count() == 1


def test_an_sms_from_a_known_number_threads_into_its_open_sms_ticket(
    client, sms_number, default_team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, URL, sms("SM1", "第一条"))
        signed_post(client, URL, sms("SM2", "第二条", sender="13800138000"))

    assert Ticket.objects.count() == 1
    assert Message.objects.count() == 2


@pytest.mark.parametrize(
    "signature", [None, "forged", RequestValidator("wrong-token").compute_signature(URL, {})]
)
def test_a_forged_or_missing_signature_is_refused_403_and_stores_nothing(
    client, sms_number, default_team, signature, caplog
):
    headers = {} if signature is None else {"HTTP_X_TWILIO_SIGNATURE": signature}

    response = client.post(URL, sms("SM9", "hi"), **headers)

    assert response.status_code == 403
    assert InboundRecord.objects.count() == 0
    assert "refused SMS webhook" in caplog.text


def test_a_changed_parameter_breaks_the_signature(client, sms_number, default_team):
    params = sms("SM3", "原文")
    signature = RequestValidator(TOKEN).compute_signature(URL, params)

    response = client.post(URL, {**params, "Body": "篡改"}, HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 403


PUBLIC = "https://kefu.shop.example"


def test_behind_a_proxy_the_signature_is_checked_against_the_public_url(
    client, settings, sms_number, default_team, django_capture_on_commit_callbacks
):
    # The proxy on another host passes the request on to the internal name; Twilio signed
    # the public address it called, query string included.
    settings.KEFU_PUBLIC_URL = PUBLIC + "/"
    settings.ALLOWED_HOSTS = ["kefu-web"]
    params = sms("SM20", "到货了吗")
    signature = RequestValidator(TOKEN).compute_signature(
        PUBLIC + "/webhooks/sms/twilio/?site=cn", params
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/webhooks/sms/twilio/?site=cn",
            params,
            HTTP_HOST="kefu-web",
            HTTP_X_TWILIO_SIGNATURE=signature,
        )

    assert response.status_code == 200
    assert Ticket.objects.get().messages.get().body == "到货了吗"


def test_behind_a_proxy_a_status_callback_signed_for_the_public_url_is_taken(
    client, settings, sms_number
):
    settings.KEFU_PUBLIC_URL = PUBLIC
    settings.ALLOWED_HOSTS = ["kefu-web"]
    params = {
        "MessageSid": "SM-unknown",
        "AccountSid": "AC123",
        "From": "+8610690000",
        "MessageStatus": "delivered",
    }
    signature = RequestValidator(TOKEN).compute_signature(
        PUBLIC + "/webhooks/sms/twilio/status/", params
    )

    response = client.post(
        "/webhooks/sms/twilio/status/",
        params,
        HTTP_HOST="kefu-web",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )

    assert response.status_code == 204


def test_behind_a_proxy_a_forged_signature_is_still_refused_and_logged(
    client, settings, sms_number, default_team, caplog
):
    settings.KEFU_PUBLIC_URL = PUBLIC
    settings.ALLOWED_HOSTS = ["kefu-web"]
    params = sms("SM21", "hi")
    forged = RequestValidator("not-the-token").compute_signature(
        PUBLIC + "/webhooks/sms/twilio/", params
    )

    response = client.post(
        "/webhooks/sms/twilio/", params, HTTP_HOST="kefu-web", HTTP_X_TWILIO_SIGNATURE=forged
    )

    assert response.status_code == 403
    assert InboundRecord.objects.count() == 0
    assert "refused SMS webhook /webhooks/sms/twilio/" in caplog.text
    assert "bad signature" in caplog.text


def test_the_environment_token_serves_a_number_not_in_the_admin(
    client, settings, default_team, django_capture_on_commit_callbacks
):
    settings.TWILIO_AUTH_TOKEN = "env-token"

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post(client, URL, sms("SM4", "hello"), token="env-token")

    assert response.status_code == 200
    assert Ticket.objects.count() == 1


def test_stop_and_td_opt_out_without_a_ticket_and_start_opts_back_in(
    client, sms_number, default_team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, URL, sms("SM5", "退订"))
        signed_post(client, URL, sms("SM6", "TD", sender="+8613900139000"))

    assert sorted(SmsOptOut.objects.values_list("phone", flat=True)) == [
        "+8613800138000",
        "+8613900139000",
    ]
    assert Ticket.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, URL, sms("SM7", "START"))
    assert list(SmsOptOut.objects.values_list("phone", flat=True)) == ["+8613900139000"]


def test_status_callbacks_move_the_reply_forward_only(
    client, sms_number, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, URL, sms("SM1", "hi"))
    ticket = Ticket.objects.get()
    reply = ticket_reply(ticket=ticket, author=agent, body="您好")
    Message.objects.filter(pk=reply.pk).update(delivery_ref="SMout1", delivery_status="sent")

    delivered = signed_post(
        client,
        STATUS_URL,
        {"MessageSid": "SMout1", "MessageStatus": "delivered", "AccountSid": "AC123"},
    )
    late = signed_post(
        client, STATUS_URL, {"MessageSid": "SMout1", "MessageStatus": "sent", "From": "+8610690000"}
    )

    reply.refresh_from_db()
    assert (delivered.status_code, late.status_code) == (204, 204)
    assert reply.delivery_status == DeliveryStatus.DELIVERED
    assert reply.direction == Direction.OUT


def test_a_failed_status_shows_the_error_on_the_reply(
    client, sms_number, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, URL, sms("SM1", "hi"))
    reply = ticket_reply(ticket=Ticket.objects.get(), author=agent, body="您好")
    Message.objects.filter(pk=reply.pk).update(delivery_ref="SMout2")

    signed_post(
        client,
        STATUS_URL,
        {
            "MessageSid": "SMout2",
            "MessageStatus": "undelivered",
            "ErrorCode": "30005",
            "AccountSid": "AC123",
        },
    )

    reply.refresh_from_db()
    assert (reply.delivery_status, reply.delivery_error) == ("failed", "Twilio error 30005")


def test_a_webhook_without_message_sid_is_refused_400(client, sms_number):
    params = {"From": "+8613800138000", "To": "+8610690000", "Body": "x"}

    assert signed_post(client, URL, params).status_code == 400


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("{" * 80, 1),  # extension characters take two septets
        ("{" * 81, 2),
        ("您" * 70, 1),
        ("您" * 71, 2),
        ("您" * 134, 2),
        ("您" * 135, 3),
        ("a" * 69 + "您", 1),  # one Chinese character turns the whole text into UCS-2
        ("😀" * 35, 1),  # outside the BMP: two UCS-2 units each
        ("😀" * 36, 2),
    ],
)
def test_sms_segments_follow_gsm_and_ucs2_limits(text, segments):
    assert segment_count(text) == segments


def test_a_rotated_auth_token_takes_effect_at_once(client, sms_number, default_team):
    # Channels are cached per process behind a revision that every save moves.
    assert signed_post(client, URL, sms("SM1", "hi")).status_code == 200
    sms_number.auth_token = "rotated-token"
    sms_number.save()

    assert signed_post(client, URL, sms("SM2", "hi")).status_code == 403
    assert signed_post(client, URL, sms("SM3", "hi"), token="rotated-token").status_code == 200
