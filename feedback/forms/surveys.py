"""The survey pages' forms: the customer's answer and the supervisors' settings."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from feedback.models import SURVEY_CHANNELS
from feedback.services.surveys import MAX_COMMENT_CHARS


class AnswerForm(forms.Form):
    """The one-click page: a score on the survey's scale, tags from the settings' list, and
    a comment. Built for one survey (its scale and tags)."""

    score = forms.TypedChoiceField(label=gettext_lazy("Your rating"), coerce=int, choices=())
    tags = forms.MultipleChoiceField(
        label=gettext_lazy("What stood out?"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=(),
    )
    comment = forms.CharField(
        label=gettext_lazy("Anything else? (optional)"),
        required=False,
        max_length=MAX_COMMENT_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, scale: tuple[int, int], tags: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        low, high = scale
        score = self.fields["score"]
        assert isinstance(score, forms.TypedChoiceField)
        score.choices = [(value, str(value)) for value in range(high, low - 1, -1)]
        score.widget = forms.RadioSelect(choices=score.choices)
        tag_field = self.fields["tags"]
        assert isinstance(tag_field, forms.MultipleChoiceField)
        tag_field.choices = [(tag, tag) for tag in tags]
        if not tags:
            del self.fields["tags"]


class SurveySettingsForm(forms.Form):
    delay_minutes = forms.IntegerField(
        label=gettext_lazy("Invite this many minutes after the resolution"),
        min_value=0,
        max_value=7 * 24 * 60,
    )
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Invite on these channels"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(str(channel.value), channel.label) for channel in SURVEY_CHANNELS],
    )
    fatigue_days = forms.IntegerField(
        label=gettext_lazy("At most one survey per customer in (days; 0: no limit)"),
        min_value=0,
        max_value=365,
    )
    expiry_days = forms.IntegerField(
        label=gettext_lazy("An invitation may be answered for (days)"), min_value=1, max_value=90
    )
    tags = forms.CharField(
        label=gettext_lazy("Tags a customer may pick, one a line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    nps_is_active = forms.BooleanField(label=gettext_lazy("Send NPS surveys"), required=False)
    nps_order_days = forms.IntegerField(
        label=gettext_lazy("NPS: ask this many days after an order ticket is resolved"),
        min_value=0,
        max_value=90,
    )
    nps_order_percent = forms.IntegerField(
        label=gettext_lazy("NPS: share of order tickets asked (%)"), min_value=0, max_value=100
    )
    nps_quarter_sample = forms.IntegerField(
        label=gettext_lazy("NPS: customers asked each quarter"), min_value=0, max_value=100_000
    )
    callback_due_minutes = forms.IntegerField(
        label=gettext_lazy("A call-back is due within (business minutes)"),
        min_value=1,
        max_value=10_000,
    )
    angry_sentiment = forms.FloatField(
        label=gettext_lazy("A comment is angry below (sentiment, −1…1)"),
        min_value=-1.0,
        max_value=1.0,
    )

    def clean_tags(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["tags"].splitlines()]
        tags = [line[:40] for line in dict.fromkeys(lines) if line]
        if len(tags) > 20:
            raise forms.ValidationError(gettext_lazy("At most 20 tags."))
        return tags
