"""Customers and the identities that find them (phone, email, app user, order), and
the record of merging two customers into one.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdentityKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    APP_USER = "app_user", _("App user")
    ORDER = "order", _("Order number")


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200, blank=True)
    is_vip = models.BooleanField(_("VIP"), default=False)
    # The customer's owner: their value-added tickets go to this agent while they can take
    # them (tickets.routing.adviser_for).
    adviser = models.ForeignKey(
        "tickets.Agent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="advised_customers",
        verbose_name=_("dedicated adviser"),
        help_text=_("Gets this customer's value-added tickets while available."),
    )
    # How the customer wants to hear from us when we write first (a notice of a step of
    # their after-sales case, of a change to their ticket): a `Channel` value, or "" for the
    # channel they last wrote on.
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, blank=True, default=""
    )
    # The language of what we write first ("zh-hans", "en"); "" for the site's default.
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Set while this record is merged into another customer (see CustomerMerge).
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_customers",
        verbose_name=_("merged into"),
    )
    # Set when the customer's personal data was erased (on request, or by retention): what
    # is left are anonymous statistics (tickets.services.privacy).
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"


class ContactIdentity(models.Model):
    """One way to recognise a customer. Values are normalised (E.164 phones, lower-case
    email) so that the same person writing from anywhere is one customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(_("kind"), max_length=20, choices=IdentityKind.choices)
    value = models.CharField(_("value"), max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact identity")
        verbose_name_plural = _("contact identities")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="tickets_identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class CustomerMerge(models.Model):
    """A supervisor merged one customer record (`source`) into another (`target`).

    `moved` lists the primary keys of what moved, per kind ("identities", "tickets",
    "calls"), and the source's own fields before the merge, so that undoing moves exactly
    those rows back, whatever was added to the target since."""

    source = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="merges_out",
        verbose_name=_("merged customer"),
    )
    target = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="merges_in", verbose_name=_("into")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    moved = models.JSONField(_("moved"), default=dict)
    created_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("undone by"),
    )

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.source_id} → {self.target_id}"
