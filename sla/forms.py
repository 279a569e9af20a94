"""Forms for the supervisors' SLA pages, with the validation a policy needs."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import inlineformset_factory
from django.utils.translation import gettext_lazy as _

from sla.conditions import condition_choices
from sla.models import (
    BusinessCalendar,
    BusinessHours,
    CalendarDate,
    EscalationRule,
    Milestone,
    SlaPolicy,
)

# The conditions chosen from lists; each is stored as the list of values ticked.
LISTED_CONDITIONS = ("tier", "channel", "team", "category")
VIP_ANY, VIP_ONLY, VIP_NOT = "", "yes", "no"


class PolicyForm(forms.ModelForm):  # type: ignore[type-arg]
    """A policy, its conditions as one field each (stored as before, in `conditions`:
    `{"tier": ["urgent"], "vip": true}`; an unticked list or "any" leaves the key out)."""

    when_tier = forms.MultipleChoiceField(
        label=_("Tier"), required=False, widget=forms.CheckboxSelectMultiple
    )
    when_channel = forms.MultipleChoiceField(
        label=_("Channel"), required=False, widget=forms.CheckboxSelectMultiple
    )
    when_team = forms.MultipleChoiceField(
        label=_("Team"), required=False, widget=forms.CheckboxSelectMultiple
    )
    when_category = forms.MultipleChoiceField(
        label=_("Category"), required=False, widget=forms.CheckboxSelectMultiple
    )
    when_vip = forms.ChoiceField(
        label=_("VIP"),
        required=False,
        choices=[(VIP_ANY, _("Any customer")), (VIP_ONLY, _("VIP only")), (VIP_NOT, _("not VIP"))],
    )
    when_tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=500,
        help_text=_("Comma-separated; a ticket with any of them matches. Empty: any tags."),
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "name",
            "position",
            "is_active",
            "calendar",
            "first_response_minutes",
            "next_response_minutes",
            "plan_minutes",
            "resolution_minutes",
            "out_of_hours_minutes",
            "use_policy_calendar",
            "warning_percent",
            "warning_minutes_before",
            "milestone_warnings",
            "pause_states",
            "bot_counts_as_response",
        ]
        widgets = {
            "pause_states": forms.Textarea(attrs={"rows": 1}),
            "milestone_warnings": forms.Textarea(attrs={"rows": 2}),
            "out_of_hours_minutes": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "pause_states": _('JSON list of ticket states, e.g. ["pending_customer"].'),
        }
        labels = {"calendar": _("Calendar")}

    field_order = [
        "name",
        "position",
        "is_active",
        "when_tier",
        "when_channel",
        "when_team",
        "when_category",
        "when_vip",
        "when_tags",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        conditions = self.instance.conditions or {}
        for key in LISTED_CONDITIONS:
            stored = [str(value) for value in conditions.get(key) or []]
            choices = condition_choices(key)
            known = {value for value, _label in choices}
            # A value the core no longer offers (a deleted team) stays visible and ticked.
            choices += [(value, value) for value in stored if value not in known]
            field = self.fields[f"when_{key}"]
            field.choices = choices  # type: ignore[attr-defined]
            self.initial.setdefault(f"when_{key}", stored)
        if "vip" in conditions:
            self.initial.setdefault("when_vip", VIP_ONLY if conditions["vip"] else VIP_NOT)
        self.initial.setdefault("when_tags", ", ".join(conditions.get("tags") or []))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        conditions: dict[str, Any] = {}
        for key in LISTED_CONDITIONS:
            values = data.get(f"when_{key}") or []
            if values:
                # Teams are matched by id, as the core describes a ticket's team.
                conditions[key] = [int(v) if key == "team" else v for v in values]
        vip = data.get("when_vip") or VIP_ANY
        if vip != VIP_ANY:
            conditions["vip"] = vip == VIP_ONLY
        tags = [tag.strip() for tag in (data.get("when_tags") or "").split(",") if tag.strip()]
        if tags:
            conditions["tags"] = list(dict.fromkeys(tags))
        self.instance.conditions = conditions
        targets = [
            "first_response_minutes",
            "next_response_minutes",
            "plan_minutes",
            "resolution_minutes",
        ]
        if not any(data.get(name) for name in targets):
            raise ValidationError(_("Set at least one target."))
        for milestone in data.get("out_of_hours_minutes") or {}:
            if not data.get(f"{milestone}_minutes"):
                self.add_error(
                    "out_of_hours_minutes",
                    _("%(name)s has an out-of-hours target but no target in hours.")
                    % {"name": milestone},
                )
        return data

    def clean_milestone_warnings(self) -> dict[str, Any]:
        warnings = self.cleaned_data.get("milestone_warnings") or {}
        if not isinstance(warnings, dict):
            raise ValidationError(_("A JSON object keyed by milestone."))
        for milestone, rule in warnings.items():
            if milestone not in Milestone.values:
                raise ValidationError(_("Unknown milestone %(name)s."), params={"name": milestone})
            if not isinstance(rule, dict) or not set(rule) <= {"percent", "minutes_before"}:
                raise ValidationError(_('Use "percent" and/or "minutes_before".'))
            percent = rule.get("percent", 50)
            if not isinstance(percent, int) or not 1 <= percent <= 99:
                raise ValidationError(_("A warning percent is between 1 and 99."))
            before = rule.get("minutes_before", 1)
            if not isinstance(before, int) or before < 1:
                raise ValidationError(_("Minutes before due must be a positive number."))
        return warnings

    def clean_out_of_hours_minutes(self) -> dict[str, int]:
        targets = self.cleaned_data.get("out_of_hours_minutes") or {}
        if not isinstance(targets, dict):
            raise ValidationError(_("A JSON object keyed by milestone."))
        for milestone, minutes in targets.items():
            if milestone not in Milestone.values:
                raise ValidationError(_("Unknown milestone %(name)s."), params={"name": milestone})
            if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
                raise ValidationError(_("An out-of-hours target is a positive number of minutes."))
        return targets

    def clean_pause_states(self) -> list[str]:
        states = self.cleaned_data.get("pause_states") or []
        if not isinstance(states, list) or not all(isinstance(s, str) for s in states):
            raise ValidationError(_("A JSON list of state names."))
        return states

    def clean_warning_percent(self) -> int:
        percent: int = self.cleaned_data["warning_percent"]
        if not 1 <= percent <= 99:
            raise ValidationError(_("Between 1 and 99."))
        return percent


EscalationFormSet = inlineformset_factory(
    SlaPolicy,
    EscalationRule,
    fields=["milestone", "level", "action", "delay_minutes", "target", "hold_outside_hours"],
    extra=1,
    can_delete=True,
)


class CalendarForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = BusinessCalendar
        fields = ["name", "timezone", "use_cn_holidays", "holiday_country", "is_default"]

    def clean_timezone(self) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        name: str = self.cleaned_data["timezone"]
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValidationError(
                _("Unknown time zone %(name)s."), params={"name": name}
            ) from error
        return name

    def clean_holiday_country(self) -> str:
        code: str = self.cleaned_data.get("holiday_country", "").strip().upper()
        if code:
            import holidays

            if code not in holidays.list_supported_countries():
                raise ValidationError(_("No holiday data for %(code)s."), params={"code": code})
        return code


HoursFormSet = inlineformset_factory(
    BusinessCalendar, BusinessHours, fields=["weekday", "start", "end"], extra=1, can_delete=True
)
DatesFormSet = inlineformset_factory(
    BusinessCalendar, CalendarDate, fields=["date", "is_working", "name"], extra=1, can_delete=True
)
