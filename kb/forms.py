"""Forms of the knowledge-base and triage pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kb.models import (
    ArticleCategory,
    ArticleKind,
    Language,
    ModelTask,
    RuleKind,
)
from kb.services import ArticleContent, split_words

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    kind = forms.ChoiceField(label=_("Kind"), choices=ArticleKind.choices)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=ArticleCategory.objects.all(), required=False
    )
    questions = forms.CharField(
        label=_("Other ways customers ask (one per line)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    body = forms.CharField(
        label=_("Answer or article (Markdown)"), widget=forms.Textarea(attrs={"rows": 12})
    )
    tags = forms.CharField(
        label=_("Tags (comma separated; also added to the word dictionary)"),
        max_length=1000,
        required=False,
    )

    def content(self) -> ArticleContent:
        data = self.cleaned_data
        return ArticleContent(
            title=data["title"],
            body=data["body"],
            kind=data["kind"],
            language=data["language"],
            category=data["category"],
            questions=tuple(line.strip() for line in data["questions"].splitlines()),
            tags=tuple(split_words(data["tags"])),
        )


class ArticleCategoryForm(forms.Form):
    slug = forms.SlugField(label=_("Slug"), max_length=60, allow_unicode=True)
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), max_length=100, required=False)
    position = forms.IntegerField(label=_("Position"), min_value=0, initial=0)


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"))

    def clean_file(self):  # type: ignore[no-untyped-def]
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 50 MB."))
        return upload


class DictionaryForm(forms.Form):
    words = forms.CharField(
        label=_("Words (one per line or comma separated)"),
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
    )


class TriageRuleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=RuleKind.choices)
    code = forms.SlugField(label=_("Category or rule code"), max_length=40)
    words = forms.CharField(
        label=_("Keywords (one per line or comma separated)"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    position = forms.IntegerField(label=_("Position"), min_value=0, initial=0)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def keywords(self) -> list[str]:
        return split_words(self.cleaned_data["words"])


class TriageSettingsForm(forms.Form):
    category_threshold = forms.FloatField(
        label=_("Category confidence threshold"), min_value=0.0, max_value=1.0
    )
    negative_sentiment_is_urgent = forms.BooleanField(
        label=_("Very negative messages are urgent"), required=False
    )
    negative_sentiment_threshold = forms.FloatField(
        label=_("Negative sentiment threshold"), min_value=-1.0, max_value=1.0
    )
    vip_is_urgent = forms.BooleanField(label=_("VIP customers are urgent"), required=False)
    repeat_contacts_threshold = forms.IntegerField(
        label=_("Repeat contacts that make a ticket urgent (0: off)"), min_value=0
    )


class BotChannelForm(forms.Form):
    channel = forms.CharField(max_length=10, widget=forms.HiddenInput)
    is_enabled = forms.BooleanField(label=_("Bot answers"), required=False)
    threshold = forms.FloatField(label=_("Confidence threshold"), min_value=0.0, max_value=1.0)


class TrainForm(UploadForm):
    task = forms.ChoiceField(label=_("Task"), choices=ModelTask.choices)
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    text_column = forms.CharField(label=_("Text column"), max_length=100, initial="text")
    label_column = forms.CharField(label=_("Label column"), max_length=100, initial="label")
