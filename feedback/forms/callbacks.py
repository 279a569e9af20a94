"""The call-back pages' forms: a task added by hand, an attempt, and giving a task to an
agent."""

from django import forms
from django.utils.translation import gettext_lazy

from feedback.models import CallbackOutcome
from feedback.services.callbacks import MAX_NOTE_CHARS
from tickets.models import Agent


class CallbackForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Why call back?"),
        max_length=MAX_NOTE_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    due_at = forms.DateTimeField(
        label=gettext_lazy("Due (empty: by the usual business-hours target)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    take = forms.BooleanField(label=gettext_lazy("I will call"), required=False, initial=True)


class AttemptForm(forms.Form):
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"), choices=CallbackOutcome.choices)
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=MAX_NOTE_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"),
        queryset=Agent.objects.filter(user__is_active=True).select_related("user"),
        required=False,
        empty_label=gettext_lazy("Nobody (supervisors' queue)"),
    )
