from django import template
from django.utils.translation import gettext_lazy as _

from kb.triage import category_label as _category_label

register = template.Library()

# The channels the bot may speak on, named as the core names them (the same texts, so the
# same translations); kb keeps them as codes.
BOT_CHANNEL_LABELS = {
    "app": _("App"),
    "chat": _("Web chat"),
    "sms": _("SMS"),
    "email": _("Email"),
    "phone": _("Phone"),
    "web": _("Self-service"),
}


@register.filter
def category_label(code: str | None) -> str:
    """A triage category's code as its label in the active language."""
    return _category_label(code or "")


@register.filter
def bot_channel_label(code: str | None) -> str:
    return str(BOT_CHANNEL_LABELS.get(code or "", code or ""))
