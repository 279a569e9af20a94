"""Who may do what from outside, and the record of who did: the audit log, integration
tokens and the self-service page's one-time codes.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models.customers import Customer
from tickets.models.tickets import Ticket


class AuditEntry(models.Model):
    """Who changed or revealed what outside a ticket's own trail (customers, tokens)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    action = models.CharField(max_length=50)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=50)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class TokenScope(models.TextChoices):
    """What an integration token may do: one scope per family of endpoints. The values are
    stable strings that integrators write in their configuration; never rename one."""

    INBOUND_APP = "inbound:app", _("Send customer messages from the shop's app")
    INBOUND_EMAIL = "inbound:email", _("Send raw inbound email")
    APP_CONVERSATIONS = "app:conversations", _("Read app users' conversations")
    APP_PUSH = "app:push", _("Register app users' devices for push")
    ORDERS = "orders", _("Push orders and logistics events")
    AFTERSALES = "aftersales", _("Read and update after-sales cases")
    REPORTS = "reports", _("Read reports and exports")


class IntegrationToken(models.Model):
    """A secret an integration (shop system, PBX, gateway) sends as `Token <key>`.

    Only a SHA-256 of the key is stored; the key itself is shown once when issued. The token
    opens only the endpoints of its scopes (`TokenScope` values).
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(
        _("scopes"),
        default=list,
        blank=True,
        help_text=_("What the token may do; each endpoint names the scope it needs."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("integration token")
        verbose_name_plural = _("integration tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class StatusAccessCode(models.Model):
    """A one-time code that proves a customer on the self-service page: sent to one of
    their phones or emails after they named one of their tickets or orders. `ticket` is the
    ticket they named, if they named one."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, null=True, blank=True)
    destination = models.CharField(max_length=254)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["ticket", "expires_at"], name="tickets_status_code"),
            models.Index(fields=["customer", "created_at"], name="tickets_status_code_cust"),
        ]

    def __str__(self) -> str:
        return f"code for customer {self.customer_id}"
