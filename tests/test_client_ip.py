"""Rate limits count the client behind the trusted proxy, never the proxy, and never an
address a client wrote into X-Forwarded-For itself."""

import pytest
from django.test import RequestFactory

from kefu.client_ip import client_ip

PROXY = "127.0.0.1"


def address_of(remote: str, forwarded: str | None = None) -> str:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **extra))


def test_a_direct_client_is_its_own_address():
    assert address_of("203.0.113.5") == "203.0.113.5"


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored():
    assert address_of("203.0.113.5", "198.51.100.7") == "203.0.113.5"


def test_behind_the_trusted_proxy_the_client_is_the_address_the_proxy_appended():
    assert address_of(PROXY, "198.51.100.7") == "198.51.100.7"


def test_entries_a_client_wrote_left_of_the_proxys_own_are_ignored():
    assert address_of(PROXY, "6.6.6.6, 198.51.100.7") == "198.51.100.7"


def test_a_chain_of_trusted_proxies_is_skipped_from_the_right(settings):
    settings.KEFU_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]

    assert address_of(PROXY, "6.6.6.6, 198.51.100.7, 10.1.2.3") == "198.51.100.7"


def test_ipv6_and_ipv4_mapped_proxies_are_trusted():
    assert address_of("::1", "2001:db8::5") == "2001:db8::5"
    assert address_of("::ffff:127.0.0.1", "198.51.100.7") == "198.51.100.7"


def test_a_request_from_the_proxy_itself_is_the_proxy():
    assert address_of(PROXY) == PROXY
    assert address_of(PROXY, "127.0.0.1") == PROXY


def test_garbage_in_the_header_never_becomes_the_client(settings):
    settings.KEFU_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]

    assert address_of(PROXY, "198.51.100.7, not-an-address, 10.1.2.3") == "10.1.2.3"


def via_proxy(client_address: str) -> dict[str, str]:
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": client_address}


@pytest.mark.django_db
def test_the_status_page_limits_each_client_behind_the_proxy_on_its_own(
    client, default_team, settings
):
    settings.RATELIMIT_ENABLE = True
    settings.STATUS_RATE_LIMIT = "2/h"  # an hour: the window does not roll over mid-test
    form = {"number": "1", "contact": "13800138000"}

    first = [client.post("/status/", form, **via_proxy("198.51.100.7")).status_code for _ in "abc"]
    other = client.post("/status/", form, **via_proxy("198.51.100.8")).status_code

    assert first == [302, 302, 429]
    assert other == 302


@pytest.mark.django_db
def test_a_spoofed_x_forwarded_for_does_not_escape_the_limit(client, default_team, settings):
    settings.RATELIMIT_ENABLE = True
    settings.STATUS_RATE_LIMIT = "2/h"  # an hour: the window does not roll over mid-test
    form = {"number": "1", "contact": "13800138000"}

    codes = [
        client.post(
            "/status/", form, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
        ).status_code
        for n in range(3)
    ]

    assert codes == [302, 302, 429]


@pytest.mark.django_db
def test_the_help_centre_limits_each_client_behind_the_proxy_on_its_own(client, settings):
    settings.RATELIMIT_ENABLE = True
    settings.KB_PUBLIC_RATE_LIMIT = "2/h"  # an hour: the window does not roll over mid-test

    first = [client.get("/kb/", **via_proxy("198.51.100.7")).status_code for _ in "abc"]
    other = client.get("/kb/", **via_proxy("198.51.100.8")).status_code

    assert first == [200, 200, 429]
    assert other == 200


@pytest.mark.django_db
def test_a_refused_sms_webhook_is_logged_with_the_clients_address(client, caplog):
    with caplog.at_level("WARNING", logger="kefu.ingest.sms"):
        response = client.post(
            "/webhooks/sms/twilio/",
            {"MessageSid": "SM1", "From": "+8613800138000"},
            **via_proxy("198.51.100.7"),
        )

    assert response.status_code == 403
    assert "from 198.51.100.7:" in caplog.text


def test_a_websocket_behind_the_trusted_proxy_counts_as_its_client(settings):
    from channels_ingest.chat.limits import socket_client_address

    settings.KEFU_TRUSTED_PROXIES = ["127.0.0.1"]
    headers = [(b"host", b"kefu.example"), (b"x-forwarded-for", b"198.51.100.4")]

    via_trusted = socket_client_address({"client": ("127.0.0.1", 5000), "headers": headers})
    direct = socket_client_address({"client": ("203.0.113.8", 5000), "headers": headers})

    assert via_trusted == "198.51.100.4"
    assert direct == "203.0.113.8"  # a client's own X-Forwarded-For is not believed
    assert socket_client_address({"headers": []}) == ""
