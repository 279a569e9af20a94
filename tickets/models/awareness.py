"""What a staff user chose about being alerted (the header's notification bell)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertSettings(models.Model):
    """One row per staff user who changed a setting; no row means the defaults (silent)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kefu_alert_settings"
    )
    # A short tone when an urgent ticket arrives or a ticket is assigned to the user.
    play_sound = models.BooleanField(_("play a sound"), default=False)

    class Meta:
        verbose_name = _("alert settings")
        verbose_name_plural = _("alert settings")

    def __str__(self) -> str:
        return f"alerts of {self.user_id}"
