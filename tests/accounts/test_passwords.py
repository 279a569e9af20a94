"""Staff passwords: all four of Django's validators, at least 10 characters."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "password",
    [
        "agent123",  # short and common
        "kefu-x7q2",  # nine characters
        "4815162342777",  # only digits
        "password1234",  # a common password
    ],
)
def test_weak_passwords_are_refused(password):
    user = UserFactory.build(username="wangfang", first_name="Fang", email="fang@shop.example")

    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_password_like_the_username_is_refused():
    user = UserFactory.build(username="zhangsan-agent", email="zhangsan@shop.example")

    with pytest.raises(ValidationError) as refused:
        validate_password("zhangsan-agent1", user)

    assert [error.code for error in refused.value.error_list] == ["password_too_similar"]


def test_a_long_uncommon_password_is_accepted():
    user = UserFactory.build(username="wangfang")

    assert validate_password("晚上十点 green-lantern 42", user) is None


def test_the_admin_refuses_to_set_a_weak_password_for_an_agent():
    agent = UserFactory(role="agent")

    form = AdminPasswordChangeForm(agent, {"password1": "agent123", "password2": "agent123"})

    assert not form.is_valid()
    agent.refresh_from_db()
    assert agent.check_password("pw-for-tests")


class _Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_createsuperuser_asks_again_for_a_weak_password(monkeypatch):
    answers = iter(["boss", "boss@shop.example", "N"])
    passwords = iter(["agent123", "agent123", "深夜值班 copper-kettle", "深夜值班 copper-kettle"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr(
        "django.contrib.auth.management.commands.createsuperuser.getpass.getpass",
        lambda prompt="": next(passwords),
    )
    errors = StringIO()

    call_command("createsuperuser", stdin=_Terminal(), stdout=StringIO(), stderr=errors)

    boss = get_user_model().objects.get(username="boss")
    assert boss.check_password("深夜值班 copper-kettle")
    assert "at least 10 characters" in errors.getvalue()
