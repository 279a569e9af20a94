"""The report pages' period and filters."""

from datetime import timedelta
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from analytics.reports import Filters
from tickets.models import Channel, Team
from tickets.tiers import Tier

# The triage categories a report can be narrowed to, with their names ("" is none).
CATEGORY_CHOICES = [
    ("logistics", _("Logistics")),
    ("after_sales", _("After-sales")),
    ("tech", _("Tech support")),
    ("value_added", _("Value-added")),
]

# Longest period a report covers at once (a year and a day, for a leap year).
MAX_DAYS = 367


class ReportFilterForm(forms.Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"})
    )
    end = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput({"type": "date"})
    )
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label=_("All"),
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("All")), *Channel.choices], required=False
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    tier = forms.ChoiceField(
        label=_("Tier"), choices=[("", _("All")), *Tier.choices], required=False
    )
    # Set by a link from an agent's row (0: unassigned); kept across the form's submissions.
    agent = forms.IntegerField(
        min_value=0, max_value=2**63 - 1, required=False, widget=forms.HiddenInput
    )

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        # The default period shows in the date fields, as if it had been asked for.
        data = data.copy() if data is not None else QueryDict(mutable=True)
        today = timezone.localdate()
        if not data.get("end"):
            data["end"] = today.isoformat()
        if not data.get("start"):
            try:
                end = parse_date(str(data["end"])) or today
            except ValueError:  # a date that does not exist; the field says so
                end = today
            data["start"] = (end - timedelta(days=6)).isoformat()
        super().__init__(data, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = [("", _("All")), *CATEGORY_CHOICES]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=6)
        if start > end:
            raise forms.ValidationError(_("The period starts after it ends."))
        if (end - start).days + 1 > MAX_DAYS:
            raise forms.ValidationError(
                _("A report covers at most %(days)d days.") % {"days": MAX_DAYS}
            )
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> Filters:
        """The cleaned period and filters (call after is_valid)."""
        data = self.cleaned_data
        team = data.get("team")
        return Filters(
            start=data["start"],
            end=data["end"],
            team_id=team.pk if team is not None else None,
            channel=data.get("channel") or "",
            category=data.get("category") or "",
            tier=data.get("tier") or "",
            agent_id=data.get("agent"),
        )
