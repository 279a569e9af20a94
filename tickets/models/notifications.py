"""Notifications to agents and supervisors."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.models.tickets import Ticket


class Notification(models.Model):
    """A message to one staff user (an escalation, a breach on their ticket). Held until
    `deliver_after` when it should wait for business hours."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kefu_notifications"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=30)
    text = models.CharField(_("text"), max_length=500)
    created_at = models.DateTimeField(_("created"))
    deliver_after = models.DateTimeField(_("deliver after"))
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["deliver_after"],
                condition=Q(delivered_at__isnull=True),
                name="tickets_notification_due",
            ),
            models.Index(fields=["user", "read_at"], name="tickets_notification_user"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id}"
