"""Failed sign-ins lock out the username from the client's address (django-axes), on the
staff sign-in page and the admin's alike."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests"


def _signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    return "_auth_user_id" in client.session


def _fail(client, url: str, username: str, times: int, **extra: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(times):
        client.post(url, {"username": username, "password": "not-the-password"}, **extra)


def test_the_right_password_after_thirty_wrong_ones_does_not_sign_in_on_the_staff_page(client):
    user = UserFactory(role="agent")

    _fail(client, reverse("login"), user.username, 30)
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})

    assert response.status_code == 429
    assert not _signed_in(client)


def test_the_right_password_after_thirty_wrong_ones_does_not_sign_in_on_the_admin(client):
    admin = UserFactory(is_staff=True, is_superuser=True)

    _fail(client, "/admin/login/", admin.username, 30)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": admin.username, "password": PASSWORD}
    )

    assert response.status_code == 429
    assert not _signed_in(client)
    assert client.get("/admin/").status_code == 302


def test_the_lockout_starts_at_the_failure_limit(client):
    user = UserFactory(role="agent")
    assert settings.AXES_FAILURE_LIMIT == 5

    _fail(client, reverse("login"), user.username, 4)
    still_open = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})

    assert still_open.status_code == 302
    assert _signed_in(client)
    # A sign-in that worked clears the count: four more mistakes do not lock the user out.
    client.logout()
    _fail(client, reverse("login"), user.username, 4)
    assert (
        client.post(reverse("login"), {"username": user.username, "password": PASSWORD}).status_code
        == 302
    )


def test_the_fifth_failure_shows_the_lockout_page_in_chinese(client):
    user = UserFactory(role="agent")

    _fail(client, reverse("login"), user.username, 4)
    response = client.post(reverse("login"), {"username": user.username, "password": "wrong-again"})

    assert response.status_code == 429
    page = response.content.decode()
    assert "登录已暂停" in page
    assert "15 分钟后再试" in page
    assert "<html" in page


def test_the_lockout_page_is_in_english_for_an_english_speaker(client):
    user = UserFactory(role="agent")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    _fail(client, reverse("login"), user.username, 5)
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})

    assert response.status_code == 429
    page = response.content.decode()
    assert "Sign-in paused" in page
    assert "Try again in 15 minutes." in page


def test_the_same_username_from_another_address_can_still_sign_in(client):
    user = UserFactory(role="agent")

    _fail(client, reverse("login"), user.username, 5, REMOTE_ADDR="203.0.113.7")
    locked = client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD},
        REMOTE_ADDR="203.0.113.7",
    )
    elsewhere = client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD},
        REMOTE_ADDR="198.51.100.2",
    )

    assert locked.status_code == 429
    assert elsewhere.status_code == 302


def test_another_username_from_the_same_address_can_still_sign_in(client):
    attacked = UserFactory(role="agent")
    colleague = UserFactory(role="agent")

    _fail(client, reverse("login"), attacked.username, 5)
    response = client.post(reverse("login"), {"username": colleague.username, "password": PASSWORD})

    assert response.status_code == 302


def test_the_lockout_ends_after_the_cool_off(client):
    user = UserFactory(role="agent")
    _fail(client, reverse("login"), user.username, 5)
    assert (
        client.post(reverse("login"), {"username": user.username, "password": PASSWORD}).status_code
        == 429
    )

    AccessAttempt.objects.filter(username=user.username).update(
        attempt_time=timezone.now() - timedelta(minutes=16)
    )
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})

    assert response.status_code == 302
    assert _signed_in(client)


def test_the_client_address_comes_from_one_function(client, monkeypatch):
    """Both requests come from different REMOTE_ADDRs, but kefu.accounts.client_address says
    they share one address: the lockout follows what it says."""
    user = UserFactory(role="agent")
    monkeypatch.setattr("kefu.accounts.client_address", lambda request: "192.0.2.50")

    _fail(client, reverse("login"), user.username, 5, REMOTE_ADDR="203.0.113.7")
    response = client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD},
        REMOTE_ADDR="198.51.100.2",
    )

    assert response.status_code == 429
    assert AccessAttempt.objects.get(username=user.username).ip_address == "192.0.2.50"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_the_lockout_page_is_served_under_asgi_too(async_client):
    """Embedded mode serves pages with daphne: django-axes' middleware then runs its async
    path, which calls the lockout page differently."""
    from asgiref.sync import sync_to_async

    user = await sync_to_async(UserFactory)(role="agent")
    url = reverse("login")

    for _ in range(5):
        await async_client.post(url, {"username": user.username, "password": "nope-nope"})
    response = await async_client.post(url, {"username": user.username, "password": PASSWORD})

    assert response.status_code == 429
    assert "登录已暂停" in response.content.decode()
    session = await sync_to_async(lambda: "_auth_user_id" in async_client.session)()
    assert not session


def test_behind_the_trusted_proxy_each_client_is_locked_out_on_its_own(client, settings):
    settings.KEFU_TRUSTED_PROXIES = ["127.0.0.1"]
    user = UserFactory(role="agent")
    proxy = {"REMOTE_ADDR": "127.0.0.1"}

    _fail(client, reverse("login"), user.username, 5, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    response = client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.2",
        **proxy,
    )

    assert response.status_code == 302  # the other client behind the same proxy signs in
    assert AccessAttempt.objects.get(username=user.username).ip_address == "203.0.113.7"
