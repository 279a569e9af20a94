"""Phone calls as the PBX reports them."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.models.customers import Customer
from tickets.models.teams import Agent, Team
from tickets.models.tickets import Ticket


class CallDirection(models.TextChoices):
    IN = "in", _("Inbound")
    OUT = "out", _("Outbound")


class CallState(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    ENDED = "ended", _("Ended")


class CallCause(models.TextChoices):
    """Why a call ended, as the PBX reports it."""

    NORMAL_CLEARING = "normalClearing", _("Ended normally")
    BUSY = "busy", _("Busy")
    CANCEL = "cancel", _("Caller hung up")
    NO_ANSWER = "noAnswer", _("No answer")
    CONGESTION = "congestion", _("Network congestion")
    NOT_FOUND = "notFound", _("Number not found")
    FORWARDED = "forwarded", _("Forwarded")


class Call(models.Model):
    """A phone call as the PBX reported it, built up from its events (which may arrive late,
    twice or out of order). `customer` is empty while the number belongs to nobody known."""

    call_id = models.CharField(_("call id"), max_length=200, unique=True)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("customer"),
    )
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("ticket"),
    )
    direction = models.CharField(
        _("direction"), max_length=3, choices=CallDirection.choices, default=CallDirection.IN
    )
    # E.164 when the number is one; otherwise as the PBX sent it ("anonymous", an extension).
    from_number = models.CharField(_("from"), max_length=40, blank=True)
    to_number = models.CharField(_("to"), max_length=40, blank=True)
    queue = models.CharField(_("queue"), max_length=100, blank=True)
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("team")
    )
    state = models.CharField(
        _("state"), max_length=10, choices=CallState.choices, default=CallState.RINGING
    )
    cause = models.CharField(_("cause"), max_length=20, choices=CallCause.choices, blank=True)
    answered_by = models.ForeignKey(
        Agent,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("answered by"),
    )
    answering_number = models.CharField(_("answering number"), max_length=40, blank=True)
    started_at = models.DateTimeField(_("started"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    duration = models.PositiveIntegerField(_("talk time (seconds)"), null=True, blank=True)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    voicemail_url = models.URLField(_("voicemail"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "started_at"], name="tickets_call_customer"),
            # Calls of a number nobody is known by yet, attached when an agent creates them.
            models.Index(
                fields=["from_number"],
                condition=Q(customer__isnull=True, direction="in"),
                name="tickets_call_unknown_from",
            ),
            models.Index(
                fields=["to_number"],
                condition=Q(customer__isnull=True, direction="out"),
                name="tickets_call_unknown_to",
            ),
        ]

    def __str__(self) -> str:
        return self.call_id

    @property
    def customer_number(self) -> str:
        """The customer's side of the call: the caller inbound, the callee outbound."""
        return self.from_number if self.direction == CallDirection.IN else self.to_number
