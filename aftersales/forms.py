"""The agent's forms on the case page and the ticket panel. They check shapes only; the
services (aftersales.services) decide, and their refusals are shown on the page."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.steps import CaseType


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("reject", _("Reject"))]
    )
    reason = forms.CharField(
        label=_("Reason for a rejection (the customer sees it)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    return_address = forms.CharField(
        label=_("Return address or pickup arrangement"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ParcelForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=50)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=64)


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class InspectForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Inspection"), choices=[("pass", _("Passed")), ("fail", _("Failed"))]
    )
    note = forms.CharField(
        label=_("Note (required when failed)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )
    method = forms.ChoiceField(
        label=_("Method"),
        choices=[
            ("original", _("Original payment")),
            ("balance", _("Store balance")),
            ("bank_transfer", _("Bank transfer")),
        ],
    )
    reference = forms.CharField(label=_("Payment reference"), max_length=100)


class RepairedForm(forms.Form):
    report = forms.CharField(
        label=_("Repair report"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


# Each action of the case page: its form, or None for one without fields.
ACTION_FORMS: dict[str, type[forms.Form]] = {
    "review": ReviewForm,
    "return_tracking": ParcelForm,
    "received": NoteForm,
    "inspect": InspectForm,
    "refund": RefundForm,
    "replacement": ParcelForm,
    "repaired": RepairedForm,
    "complete": NoteForm,
    "cancel": NoteForm,
}


class CaseOpenForm(forms.Form):
    """Opening a case from the ticket page: the items come as `qty_<order item id>`."""

    order = forms.IntegerField(widget=forms.HiddenInput)
    type = forms.ChoiceField(label=_("Type"), choices=CaseType.choices)
    reason = forms.SlugField(label=_("Reason"), max_length=40)
    description = forms.CharField(
        label=_("Description"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    amount = forms.DecimalField(
        label=_("Amount to refund"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        help_text=_("Empty: the value of the chosen items (refund types only)."),
    )
