"""Secrets Kefu reads back (mailbox passwords, provider tokens, signing secrets) are encrypted
in the database and plain in Python."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection

from channels_ingest.models import ChatSite, Mailbox, SmsChannel, SmsGateway
from kefu.fields import PREFIX

pytestmark = pytest.mark.django_db


def stored(model, pk: int, column: str) -> str:  # type: ignore[no-untyped-def]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def mailbox(**values: object) -> Mailbox:
    return Mailbox.objects.create(
        name="support", host="imap.example.com", username="support", **values
    )


@pytest.mark.parametrize(
    ("make", "column"),
    [
        (lambda: mailbox(secret="邮箱密码 hunter2"), "secret"),
        (
            lambda: SmsChannel.objects.create(
                name="main", number="+8613800138000", account_sid="AC1", auth_token="tok-123"
            ),
            "auth_token",
        ),
        (lambda: SmsGateway.objects.create(name="gw"), "secret"),
        (lambda: ChatSite.objects.create(name="shop"), "secret"),
    ],
)
def test_every_secret_is_a_fernet_token_in_the_database_and_plain_when_read(make, column):  # type: ignore[no-untyped-def]
    row = make()
    plain = getattr(row, column)

    raw = stored(type(row), row.pk, column)

    assert raw.startswith(PREFIX) and plain not in raw
    assert getattr(type(row).objects.get(pk=row.pk), column) == plain


def test_a_rotated_key_still_reads_what_the_old_key_wrote(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    row = mailbox(secret="s3cret")
    written_with_old = stored(Mailbox, row.pk, "secret")

    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert Mailbox.objects.get(pk=row.pk).secret == "s3cret"
    row.save()
    assert stored(Mailbox, row.pk, "secret") != written_with_old

    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key dropped after re-saving
    assert Mailbox.objects.get(pk=row.pk).secret == "s3cret"


def test_a_lost_key_is_a_clear_configuration_error_not_garbage(settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    row = mailbox(secret="s3cret")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        Mailbox.objects.get(pk=row.pk)


def test_a_value_written_before_encryption_reads_as_is_and_is_encrypted_on_save():
    row = mailbox(secret="x")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE channels_ingest_mailbox SET secret = %s WHERE id = %s", ["legacy", row.pk]
        )

    legacy = Mailbox.objects.get(pk=row.pk)
    assert legacy.secret == "legacy"
    legacy.save()
    assert stored(Mailbox, row.pk, "secret").startswith(PREFIX)


def test_the_length_limit_applies_to_the_secret_itself():
    row = Mailbox(name="m", host="h", username="u", secret="x" * 256)

    with pytest.raises(ValidationError) as raised:
        row.full_clean()

    assert "secret" in raised.value.message_dict
    row.secret = "x" * 255
    row.full_clean()
