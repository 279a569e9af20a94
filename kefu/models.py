"""The one table of Kefu's shared pieces: the revision tokens of per-process caches
(`kefu.revisions`)."""

import uuid

from django.db import models


class Revision(models.Model):
    """A token that changes whenever what a cache holds changes ("kb" for the search index,
    "triage" for rules, settings and active models, "routing", "tokens", "sms_channels").
    Processes compare it every few seconds and rebuild their in-process cache when it moved.
    A random token, not a counter: a counter can come back to a value a cache has already
    seen (a rolled-back test, a restore)."""

    key = models.CharField(max_length=20, unique=True)
    token = models.CharField(max_length=32, default="")
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.key}:{self.token}"

    @staticmethod
    def new_token() -> str:
        return uuid.uuid4().hex
