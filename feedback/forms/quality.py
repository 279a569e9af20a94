"""The quality pages' forms: a scorecard's items, the pre-check settings, a team's sampling
rule, and reading a scoring from the posted ratings."""

from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from feedback.models import ItemGroup, Rating, Scorecard, ScorecardVersion
from feedback.services.reviews import ItemRating
from feedback.services.scorecards import ItemSpec


class ItemForm(forms.Form):
    group = forms.ChoiceField(label=gettext_lazy("Group"), choices=ItemGroup.choices)
    name_zh = forms.CharField(label=gettext_lazy("Name (Chinese)"), max_length=200, required=False)
    name_en = forms.CharField(label=gettext_lazy("Name (English)"), max_length=200, required=False)
    description = forms.CharField(
        label=pgettext_lazy("scorecard item", "Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    weight = forms.IntegerField(
        label=gettext_lazy("Weight"), min_value=0, max_value=100, initial=10
    )
    is_critical = forms.BooleanField(label=gettext_lazy("Critical"), required=False)

    def spec(self) -> ItemSpec | None:
        data = self.cleaned_data
        if not data or not (data.get("name_zh") or data.get("name_en")):
            return None
        return ItemSpec(
            group=data["group"],
            name_zh=data["name_zh"],
            name_en=data["name_en"],
            weight=data["weight"] or 0,
            description=data["description"],
            is_critical=data["is_critical"],
        )


ItemFormSet = forms.formset_factory(ItemForm, extra=2, can_delete=True, max_num=60)


class ScorecardNameForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if Scorecard.objects.filter(name=name).exists():
            raise ValidationError(_("A scorecard of this name exists already."))
        return name


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class SettingsForm(forms.Form):
    greetings_zh = forms.CharField(
        label=gettext_lazy("Greetings (Chinese), one a line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    greetings_en = forms.CharField(
        label=gettext_lazy("Greetings (English), one a line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    forbidden_phrases = forms.CharField(
        label=gettext_lazy("Forbidden phrases, one a line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    silence_minutes = forms.IntegerField(
        label=gettext_lazy("A long silence is over (business minutes)"),
        min_value=1,
        max_value=10_000,
    )
    sentiment_drop = forms.FloatField(
        label=gettext_lazy("A mood drop is at least (sentiment, 0–2)"),
        min_value=0.1,
        max_value=2.0,
    )

    def lists(self) -> dict[str, list[str]]:
        return {
            name: _lines(self.cleaned_data[name])
            for name in ("greetings_zh", "greetings_en", "forbidden_phrases")
        }


class RuleForm(forms.Form):
    scorecard = forms.ModelChoiceField(
        label=gettext_lazy("Scorecard"), queryset=Scorecard.objects.filter(is_active=True)
    )
    random_percent = forms.IntegerField(
        label=gettext_lazy("Random share per agent and week (%)"), min_value=0, max_value=100
    )
    complaints = forms.BooleanField(label=gettext_lazy("Every complaint"), required=False)
    low_csat = forms.BooleanField(label=gettext_lazy("Every CSAT of 1 or 2"), required=False)
    sla_breached = forms.BooleanField(label=gettext_lazy("Every breached SLA"), required=False)
    keywords = forms.CharField(
        label=gettext_lazy("Keywords, one a line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False)

    def keyword_list(self) -> list[str]:
        return _lines(self.cleaned_data["keywords"])


class AppealForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why you appeal"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=pgettext_lazy("appeal", "Decision"),
        choices=[("upheld", gettext_lazy("Uphold")), ("rejected", gettext_lazy("Reject"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def ratings_from(data: Mapping[str, str], version: ScorecardVersion) -> dict[int, ItemRating]:
    """The posted `rating_<item id>` and `comment_<item id>` of the version's items; an item
    without a rating is left out (the service refuses an incomplete scoring)."""
    ratings: dict[int, ItemRating] = {}
    for item in version.items.all():
        rating = data.get(f"rating_{item.pk}", "")
        if rating in Rating.values:
            comment = data.get(f"comment_{item.pk}", "").strip()[:1000]
            ratings[item.pk] = ItemRating(rating=rating, comment=comment)
    return ratings


def changed_ratings(data: Mapping[str, str], item_ids: list[int]) -> dict[int, str]:
    """The ratings a supervisor's decision sets (`rating_<item id>`)."""
    return {
        item_id: data[f"rating_{item_id}"]
        for item_id in item_ids
        if data.get(f"rating_{item_id}") in Rating.values
    }
