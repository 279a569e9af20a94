"""Notices to customers: the texts supervisors edit, and the notices sent.

A notice itself is an outbound automatic `tickets.Message` (the outbox delivers, retries
and shows it); `Notice` records which event of which ticket it announced, so the same
event never gives a second one.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.steps import Step
from tickets.models import Channel, Message, Ticket


class NoticeEvent(models.TextChoices):
    """What a notice announces: every step of a case, the ticket changes a customer should
    know of, and a delay of their parcel."""

    CASE_SUBMITTED = "case.submitted", _("Case: submitted")
    CASE_APPROVED = "case.approved", _("Case: approved")
    CASE_REJECTED = "case.rejected", _("Case: rejected")
    CASE_WAITING_FOR_RETURN = "case.waiting_for_return", _("Case: waiting for the return")
    CASE_RETURN_SHIPPED = "case.return_shipped", _("Case: return sent back")
    CASE_RECEIVED = "case.received", _("Case: goods received")
    CASE_INSPECTED = "case.inspected", _("Case: inspection passed")
    CASE_INSPECTION_FAILED = "case.inspection_failed", _("Case: inspection failed")
    CASE_REFUNDED = "case.refunded", _("Case: refunded")
    CASE_REPLACEMENT_SHIPPED = "case.replacement_shipped", _("Case: replacement shipped")
    CASE_REPAIRED = "case.repaired", _("Case: repaired")
    CASE_COMPLETED = "case.completed", _("Case: completed")
    CASE_CANCELLED = "case.cancelled", _("Case: cancelled")
    TICKET_PENDING_CUSTOMER = "ticket.pending_customer", _("Ticket: we need something from you")
    TICKET_RESOLVED = "ticket.resolved", _("Ticket: resolved")
    TICKET_REPLIED = "ticket.replied", _("Ticket: we answered")
    LOGISTICS_ANOMALY = "logistics_anomaly", _("Parcel delayed (apology)")

    @classmethod
    def for_step(cls, step: str) -> "NoticeEvent":
        return cls(f"case.{Step(step).value}")


class NoticeLanguage(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


# The channels a notice can go out on (the self-service page and the phone cannot carry one).
NOTICE_CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.APP, Channel.CHAT)


class NoticeTemplate(models.Model):
    """The text of one event's notice on one channel ("" for any channel without its own)
    in one language. `{placeholders}` are filled in when it is sent
    (aftersales.services.notices.PLACEHOLDERS)."""

    event = models.CharField(_("event"), max_length=40, choices=NoticeEvent.choices)
    channel = models.CharField(
        _("channel"),
        max_length=10,
        blank=True,
        default="",
        choices=[("", _("Any channel")), *[(c.value, c.label) for c in NOTICE_CHANNELS]],
    )
    language = models.CharField(_("language"), max_length=10, choices=NoticeLanguage.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True, help_text=_("Email only."))
    body = models.TextField(_("text"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("notice template")
        verbose_name_plural = _("notice templates")
        ordering = ["event", "channel", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "channel", "language"], name="aftersales_notice_template_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.channel or '*'} {self.language}"


class Notice(models.Model):
    """One notice sent (or held) for one event of a ticket. `key` names the event (a case's
    step row, a trail entry, a parcel's delay) and is unique per ticket: the same event
    announced again is refused."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("key"), max_length=100)
    event = models.CharField(_("event"), max_length=40, choices=NoticeEvent.choices)
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="+")
    # A notice goes out on a channel that can carry it: never "in store".
    channel = models.CharField(
        _("channel"),
        max_length=10,
        choices=[(value, label) for value, label in Channel.choices if value != Channel.STORE],
    )
    language = models.CharField(_("language"), max_length=10)
    held_until = models.DateTimeField(_("held until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "key"], name="aftersales_notice_once")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.event}"
