"""The forecast and staffing pages' forms: shop events, staffing settings, shifts."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from analytics.models import ShopEvent
from analytics.staffing import DEFAULT_REPLY_SECONDS
from sla.models import WEEKDAYS
from tickets.models import Agent, Channel

# Longest shop event (a season's campaign); a longer one is more likely a typo.
MAX_EVENT_DAYS = 92


class ShopEventForm(forms.ModelForm):
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("All channels")), *Channel.choices],
    )

    class Meta:
        model = ShopEvent
        fields = ["name", "start", "end", "uplift_percent", "channel"]
        widgets = {
            "start": forms.DateInput({"type": "date"}),
            "end": forms.DateInput({"type": "date"}),
        }

    def clean_uplift_percent(self) -> int:
        value: int = self.cleaned_data["uplift_percent"]
        if not -100 <= value <= 1000:
            raise forms.ValidationError(_("The uplift must be between -100% and 1000%."))
        return value

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The last day comes before the first."))
            if (end - start).days >= MAX_EVENT_DAYS:
                raise forms.ValidationError(
                    _("An event lasts at most %(days)d days.") % {"days": MAX_EVENT_DAYS}
                )
        return data


class StaffingSettingsForm(forms.Form):
    service_level_percent = forms.IntegerField(
        label=_("Service level (%)"), min_value=1, max_value=99
    )
    answer_seconds = forms.IntegerField(
        label=_("Target answer time, phone and chat (seconds)"), min_value=1, max_value=3600
    )
    max_occupancy_percent = forms.IntegerField(
        label=_("Maximum occupancy (%)"), min_value=1, max_value=100
    )
    shrinkage_percent = forms.IntegerField(label=_("Shrinkage (%)"), min_value=0, max_value=90)
    shift_hours = forms.IntegerField(label=_("Shift length (hours)"), min_value=1, max_value=12)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = dict(Channel.choices)
        for channel in DEFAULT_REPLY_SECONDS:
            self.fields[f"reply_{channel}"] = forms.IntegerField(
                label=_("Seconds per reply: %(channel)s") % {"channel": names[channel]},
                min_value=1,
                max_value=7200,
            )

    def reply_seconds(self) -> dict[str, int]:
        return {channel: self.cleaned_data[f"reply_{channel}"] for channel in DEFAULT_REPLY_SECONDS}


class ShiftForm(forms.Form):
    agent = forms.ModelChoiceField(
        label=_("Agent"),
        queryset=Agent.objects.filter(user__is_active=True)
        .select_related("user")
        .order_by("user__username"),
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    start = forms.TimeField(label=_("Start"), widget=forms.TimeInput({"type": "time"}))
    end = forms.TimeField(label=_("End"), widget=forms.TimeInput({"type": "time"}))

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None and end <= start:
            raise forms.ValidationError(
                _("A shift ends after it starts (enter a night shift as two, split at midnight).")
            )
        return data


class ShiftImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))
