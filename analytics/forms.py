"""The report pages' period and filters."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.reports import Filters
from tickets.models import Channel, Team
from tickets.tiers import Tier

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
        label=_("Team"), queryset=Team.objects.order_by("name"), required=False
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("All")), *Channel.choices], required=False
    )
    category = forms.CharField(label=_("Category"), max_length=50, required=False)
    tier = forms.ChoiceField(
        label=_("Tier"), choices=[("", _("All")), *Tier.choices], required=False
    )

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
        )
