"""Forms of the complaint pages: the review, the taxonomy, flags and suggestions, filters."""

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import Q
from django.utils.translation import gettext_lazy

from feedback.models import ActionStatus, RootCause, SuggestionStatus
from kefu.roles import Role
from tickets.models import Department


def staff_users() -> Any:
    """Active staff accounts, the possible owners of a corrective action."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__name__in=Role.ALL) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


class StaffChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.get_username())


class ReviewForm(forms.Form):
    root_cause = forms.ModelChoiceField(
        label=gettext_lazy("Root cause"), queryset=RootCause.objects.none()
    )
    department = forms.CharField(
        label=gettext_lazy("Responsible department"),
        max_length=100,
        widget=forms.TextInput(attrs={"list": "departments"}),
    )
    summary = forms.CharField(
        label=gettext_lazy("What happened"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    action = forms.CharField(
        label=gettext_lazy("Corrective action"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    action_owner = StaffChoiceField(
        label=gettext_lazy("Action owner"), queryset=User.objects.none()
    )
    action_due = forms.DateField(
        label=gettext_lazy("Action due"), widget=forms.DateInput(attrs={"type": "date"})
    )
    action_status = forms.ChoiceField(
        label=gettext_lazy("Action status"), choices=ActionStatus.choices
    )

    def __init__(self, *args: Any, current_cause_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        causes = Q(is_active=True)
        if current_cause_id is not None:
            causes |= Q(pk=current_cause_id)
        self.fields["root_cause"].queryset = RootCause.objects.filter(causes)  # type: ignore[attr-defined]
        self.fields["action_owner"].queryset = staff_users()  # type: ignore[attr-defined]


DEPARTMENT_SUGGESTIONS = [str(label) for _value, label in Department.choices]


class RootCauseForm(forms.Form):
    code = forms.SlugField(label=gettext_lazy("Code"), max_length=40)
    name_zh = forms.CharField(label=gettext_lazy("Name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=gettext_lazy("Name (English)"), max_length=100, required=False)
    position = forms.IntegerField(label=gettext_lazy("Position"), min_value=0, max_value=32767)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


class SuggestionForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("Suggestion"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SuggestionStatusForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=SuggestionStatus.choices)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=500, required=False)


class ReviewFilterForm(forms.Form):
    since = forms.DateField(
        label=gettext_lazy("Received from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        label=gettext_lazy("to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    root_cause = forms.ModelChoiceField(
        label=gettext_lazy("Root cause"), queryset=RootCause.objects.all(), required=False
    )
    department = forms.CharField(label=gettext_lazy("Department"), max_length=100, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            raise forms.ValidationError(gettext_lazy("The period ends before it starts."))
        return data
