from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsIngestConfig(AppConfig):
    name = "channels_ingest"
    verbose_name = _("Channels")

    def ready(self) -> None:
        # The SMS webhook's per-process cache of channels follows a revision (see
        # kefu.revisions); any save or delete of an SMS channel moves it.
        from django.db.models.signals import post_delete, post_save

        from channels_ingest.models import SmsChannel

        for signal in (post_save, post_delete):
            signal.connect(_sms_channels_changed, sender=SmsChannel, dispatch_uid="sms_channels")

        # What the edge holds about customers takes part in their export and erasure, and
        # in retention (tickets.personal_data).
        from channels_ingest import personal_data, retention
        from tickets.personal_data import personal_data_register, retention_register

        personal_data_register(personal_data.source)
        for kind in retention.KINDS:
            retention_register(kind)


def _sms_channels_changed(**_: Any) -> None:
    from kefu.revisions import revision_bump

    revision_bump(key="sms_channels")
