"""Optional two-step sign-in (TOTP, django-otp) for supervisors and admins."""

import re
import time

import pytest
from django.conf import settings
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests"


def _code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """What the authenticator app shows now (or that many 30-second steps later: django-otp
    refuses a code twice, and accepts the next step's as clock drift)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def _signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    return "_auth_user_id" in client.session


@pytest.fixture
def supervisor_with_device(db):  # type: ignore[no-untyped-def]
    user = UserFactory(role="supervisor")
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return user, device


def test_a_supervisor_turns_it_on_and_then_signs_in_with_a_code(client):
    supervisor = UserFactory(role="supervisor")
    client.force_login(supervisor)

    page = client.get(reverse("two-factor"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "<script" not in body.split("<main>")[1]
    device = TOTPDevice.objects.get(user=supervisor)
    assert device.confirmed is False
    shown_secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', body)
    assert shown_secret is not None
    assert device.config_url.split("secret=")[1].split("&")[0] == shown_secret.group(1).replace(
        " ", ""
    )

    confirmed = client.post(reverse("two-factor"), {"code": _code(device)})
    assert confirmed.status_code == 302
    device.refresh_from_db()
    assert device.confirmed is True

    client.logout()
    password_step = client.post(
        reverse("login"), {"username": supervisor.username, "password": PASSWORD, "next": "/board/"}
    )
    assert password_step.status_code == 302
    assert password_step["Location"] == reverse("login-verify")
    assert not _signed_in(client)
    assert client.get("/board/").status_code == 302

    code_step = client.post(reverse("login-verify"), {"code": _code(device, steps_ahead=1)})

    assert code_step.status_code == 302
    assert code_step["Location"] == "/board/"
    assert _signed_in(client)
    assert client.get("/board/").status_code == 200


def test_a_wrong_code_does_not_sign_in(client, supervisor_with_device):
    supervisor, device = supervisor_with_device
    client.post(reverse("login"), {"username": supervisor.username, "password": PASSWORD})
    right = _code(device)
    wrong = f"{(int(right) + 1) % 10**6:06d}"

    response = client.post(reverse("login-verify"), {"code": wrong})

    assert response.status_code == 200
    assert "验证码不对" in response.content.decode()
    assert not _signed_in(client)


def test_the_code_page_without_a_password_step_goes_back_to_sign_in(client, supervisor_with_device):
    _supervisor, device = supervisor_with_device

    response = client.post(reverse("login-verify"), {"code": _code(device)})

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert not _signed_in(client)


def test_wrong_codes_count_towards_the_lockout(client, supervisor_with_device, settings):
    supervisor, device = supervisor_with_device
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    right = _code(device)
    wrong = f"{(int(right) + 1) % 10**6:06d}"

    client.post(reverse("login"), {"username": supervisor.username, "password": PASSWORD})
    statuses = [client.post(reverse("login-verify"), {"code": wrong}).status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 200, 429]
    again = client.post(reverse("login"), {"username": supervisor.username, "password": PASSWORD})
    assert again.status_code == 429
    assert not _signed_in(client)


def test_the_admin_login_asks_for_the_code_too(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=True)

    password_step = client.post(
        "/admin/login/?next=/admin/", {"username": admin.username, "password": PASSWORD}
    )
    assert password_step.status_code == 302
    assert password_step["Location"] == reverse("login-verify")
    assert not _signed_in(client)

    code_step = client.post(reverse("login-verify"), {"code": _code(device)})

    assert code_step["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_admin_refuses_a_session_that_skipped_the_code(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=True)
    client.force_login(admin)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_admin_without_a_device_signs_in_with_the_password_alone(client):
    admin = UserFactory(is_staff=True, is_superuser=True)

    response = client.post(
        "/admin/login/?next=/admin/", {"username": admin.username, "password": PASSWORD}
    )

    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_an_unconfirmed_device_does_not_ask_for_a_code(client):
    supervisor = UserFactory(role="supervisor")
    TOTPDevice.objects.create(user=supervisor, name="authenticator", confirmed=False)

    response = client.post(
        reverse("login"), {"username": supervisor.username, "password": PASSWORD}
    )

    assert response["Location"] == settings.LOGIN_REDIRECT_URL or response["Location"] == "/"
    assert _signed_in(client)


def test_a_supervisor_turns_it_off_with_a_code(client, supervisor_with_device):
    supervisor, device = supervisor_with_device
    client.post(reverse("login"), {"username": supervisor.username, "password": PASSWORD})
    client.post(reverse("login-verify"), {"code": _code(device)})

    response = client.post(reverse("two-factor"), {"code": _code(device, steps_ahead=1)})

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=supervisor).exists()


def test_agents_neither_see_nor_reach_the_setup_page(client):
    agent = UserFactory(role="agent")
    client.force_login(agent)

    assert client.get(reverse("two-factor")).status_code == 403
    assert reverse("two-factor") not in client.get("/").content.decode()
    assert not TOTPDevice.objects.exists()


def test_supervisors_find_the_setup_page_in_the_header(client):
    client.force_login(UserFactory(role="supervisor"))

    assert f'href="{reverse("two-factor")}"' in client.get("/board/").content.decode()


def test_the_setup_page_sends_the_strict_policy_and_no_inline_style(client):
    client.force_login(UserFactory(role="admin"))

    response = client.get(reverse("two-factor"))

    policy = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy
    svg = response.content.decode().split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "style" not in svg


def test_a_right_code_straight_after_a_wrong_one_waits_for_the_throttle(
    client, supervisor_with_device
):
    supervisor, device = supervisor_with_device
    client.post(reverse("login"), {"username": supervisor.username, "password": PASSWORD})
    right = _code(device)
    client.post(reverse("login-verify"), {"code": f"{(int(right) + 1) % 10**6:06d}"})

    response = client.post(reverse("login-verify"), {"code": right})

    assert response.status_code == 200
    assert "验证码错误次数过多" in response.content.decode()
    assert not _signed_in(client)
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
