"""A server error leaves a traceback and a request id in the log, and the caller gets the id;
input that used to cause one (deep JSON, an absurd timestamp) is refused 400/403 instead."""

import hashlib
import hmac
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from channels_ingest.models import InboundRecord, SmsGateway
from channels_ingest.phone.services import pbx_issue
from tests.factories import issue_token

ROOT = Path(__file__).resolve().parent.parent
GATEWAY_SECRET = "gateway-secret"
DEEP = "[" * 100_000 + "]" * 100_000

pytestmark = pytest.mark.django_db


def test_deeply_nested_json_to_the_app_api_is_a_clear_400():
    token = issue_token()

    response = Client().post(
        "/api/v1/inbound/app",
        DEEP,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )

    assert response.status_code == 400
    assert "nested" in json.dumps(response.json())
    assert InboundRecord.objects.count() == 0


def test_deeply_nested_json_to_the_pbx_webhook_is_a_clear_400(default_team):
    _pbx, key = pbx_issue(name="office", default_team=None, actor=None)

    response = Client().post(
        "/webhooks/phone/office/",
        DEEP,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )

    assert response.status_code == 400
    assert "nested" in response.json()["error"]
    assert InboundRecord.objects.count() == 0


def _gateway_post(body: bytes, stamp: str):  # type: ignore[no-untyped-def]
    digest = hmac.new(GATEWAY_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    return Client().post(
        "/webhooks/sms/gateway/aliyun/",
        body,
        content_type="application/json",
        HTTP_X_KEFU_TIMESTAMP=stamp,
        HTTP_X_KEFU_SIGNATURE=f"sha256={digest.hexdigest()}",
    )


def test_deeply_nested_json_to_the_sms_gateway_is_a_clear_400(default_team):
    import time

    SmsGateway.objects.create(name="aliyun", secret=GATEWAY_SECRET)

    deep = "[" * 20_000 + "]" * 20_000  # under the gateway's 64 KB limit

    response = _gateway_post(deep.encode(), str(int(time.time())))

    assert response.status_code == 400
    assert "nested" in response.json()["error"]


def test_an_absurd_gateway_timestamp_is_refused_not_a_500(default_team):
    SmsGateway.objects.create(name="aliyun", secret=GATEWAY_SECRET)
    body = json.dumps({"type": "message", "id": "g1", "from": "13800138000", "text": "hi"})

    response = _gateway_post(body.encode(), "9" * 400)

    assert response.status_code == 403
    assert "replay window" in response.json()["error"]
    assert InboundRecord.objects.count() == 0


@pytest.fixture
def failing_queue(monkeypatch):  # type: ignore[no-untyped-def]
    from tickets.api import views

    def boom(self, request):  # type: ignore[no-untyped-def]
        raise RuntimeError("the queue exploded")

    monkeypatch.setattr(views.QueueView, "get", boom)


def test_an_api_500_is_logged_with_its_traceback_and_request_id_which_the_caller_gets(
    agent, failing_queue, caplog
):
    client = Client(raise_request_exception=False)
    client.force_login(agent.user)

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/api/v1/tickets/")

    assert response.status_code == 500
    request_id = response["X-Request-ID"]
    assert len(request_id) >= 32
    assert response.json() == {"detail": "Server error.", "request_id": request_id}
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is not None and "the queue exploded" in str(record.exc_info[1])
    assert record.correlation_id == request_id


def test_a_page_500_names_the_request_id_for_the_user_to_quote():
    from kefu.views import server_error

    page = server_error(_request_with_id("0123456789abcdef0123456789abcdef"))

    assert page.status_code == 500
    assert "0123456789abcdef0123456789abcdef" in page.content.decode()


def _request_with_id(request_id: str):  # type: ignore[no-untyped-def]
    from django.test import RequestFactory
    from django_guid import set_guid

    set_guid(request_id)
    return RequestFactory().get("/queue/")


def test_in_production_errors_go_to_stdout_as_json_lines_with_traceback_and_request_id():
    code = (
        "import django, logging; django.setup();"
        "from django_guid import set_guid; set_guid('feedfacefeedfacefeedfacefeedface');"
        "\ntry:\n    1/0\nexcept ZeroDivisionError:\n"
        "    logging.getLogger('django.request').exception('Internal Server Error: /x')"
    )
    environment = {
        k: v for k, v in os.environ.items() if k not in {"KEFU_EMBEDDED", "DEBUG", "LOG_FORMAT"}
    }
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "kefu.settings", "SECRET_KEY": "x" * 50},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stdout.splitlines() if line.startswith("{")]
    entry = json.loads(line)
    assert entry["message"] == "Internal Server Error: /x"
    assert entry["request_id"] == "feedfacefeedfacefeedfacefeedface"
    assert "ZeroDivisionError" in entry["exc_info"]
    assert entry["levelname"] == "ERROR"
