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


def _sms_channels_changed(**_: Any) -> None:
    from kefu.revisions import revision_bump

    revision_bump(key="sms_channels")
