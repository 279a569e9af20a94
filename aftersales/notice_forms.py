"""The supervisors' form for a notice's text."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.notice_models import NoticeTemplate
from aftersales.services.notices import PLACEHOLDERS, placeholders_unknown


def _known() -> str:
    return " ".join(f"{{{name}}}" for name in PLACEHOLDERS)


class NoticeTemplateForm(forms.ModelForm):  # type: ignore[type-arg]
    """Event, channel and language are chosen once, when a text is added; afterwards only
    the subject and the text change. A `{placeholder}` a notice cannot fill in is refused."""

    class Meta:
        model = NoticeTemplate
        fields = ["event", "channel", "language", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6, "cols": 80})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = _("Placeholders: %(names)s") % {"names": _known()}
        # The preview follows the text as it is typed (htmx).
        self.fields["body"].widget.attrs.update(
            {
                "hx-post": reverse("notices:preview"),
                "hx-trigger": "input changed delay:600ms",
                "hx-target": "#notice-preview",
                "hx-include": "closest form",
            }
        )
        if self.instance.pk:
            for name in ("event", "channel", "language"):
                self.fields[name].disabled = True

    def _placeholders_check(self, name: str) -> str:
        value: str = self.cleaned_data.get(name, "")
        unknown = placeholders_unknown(value)
        if unknown:
            raise ValidationError(
                _("Unknown placeholder(s): %(unknown)s. A notice can fill in: %(known)s")
                % {"unknown": ", ".join(f"{{{u}}}" for u in unknown), "known": _known()},
                code="placeholder",
            )
        return value

    def clean_subject(self) -> str:
        return self._placeholders_check("subject")

    def clean_body(self) -> str:
        return self._placeholders_check("body").strip()
