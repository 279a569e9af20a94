"""A model field for secrets Kefu must be able to read back (a mailbox password, an SMS
provider's auth token, webhook signing secrets): encrypted at rest with Fernet (AES-128-CBC
with an HMAC-SHA256), so a database dump or backup does not hand them out.

Keys come from `FIELD_ENCRYPTION_KEYS` (comma-separated Fernet keys; the first encrypts,
all decrypt, so a key can be rotated by putting a new one first) or, when that is empty,
one key derived from `SECRET_KEY`. A stored value that is not one of ours (written before
the field was encrypted) reads as it is and is encrypted the next time it is saved.
"""

import base64
import functools
import hashlib
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django import forms
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.validators import MaxLengthValidator
from django.db import models

PREFIX = "fernet:"


@functools.cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        derived = hashlib.sha256(b"kefu.fields:" + secret_key.encode()).digest()
        keys = (base64.urlsafe_b64encode(derived).decode(),)
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes)"
        ) from error


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored  # written before encryption; encrypted on its next save
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as error:
        raise ImproperlyConfigured(
            "An encrypted field cannot be read with the configured keys: was "
            "FIELD_ENCRYPTION_KEYS (or SECRET_KEY) changed without keeping the old key?"
        ) from error


class EncryptedCharField(models.TextField):  # type: ignore[type-arg]
    """A short secret, a plain string in Python and a Fernet token in the database.
    `max_length` limits the secret itself (forms and validation), not the stored token."""

    def __init__(self, *args: Any, max_length: int = 255, **kwargs: Any) -> None:
        self.plain_max_length = max_length
        super().__init__(*args, **kwargs)
        self.validators.append(MaxLengthValidator(max_length))

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["max_length"] = self.plain_max_length
        return name, path, args, kwargs

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return None if value is None else encrypt(str(value))

    def formfield(self, **kwargs: Any) -> Any:
        defaults: dict[str, Any] = {
            "form_class": forms.CharField,
            "max_length": self.plain_max_length,
        }
        defaults.update(kwargs)
        defaults.pop("widget", None)
        return models.Field.formfield(self, **defaults)
