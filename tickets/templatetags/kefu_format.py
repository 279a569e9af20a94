from typing import Any

from django import template
from django.utils.translation import gettext as _

from kb.triage import URGENCY_LABELS
from tickets.masking import mask_text
from tickets.models import Message
from tickets.selectors import MESSAGE_HEAD_CHARS

register = template.Library()


@register.filter
def business_duration(seconds: int) -> str:
    """Business seconds as `2h 05m` (sign dropped: the template says overdue or left)."""
    total = abs(int(seconds))
    hours, rest = divmod(total, 3600)
    minutes = rest // 60
    if hours:
        return _("%(h)dh %(m)02dm") % {"h": hours, "m": minutes}
    return _("%(m)dm") % {"m": minutes}


@register.filter
def urgency_reason(reason: Any) -> str:
    """`{"rule": "food_safety", "words": ["过期"]}` → `Food safety: 过期` in the active language."""
    if not isinstance(reason, dict):
        return str(reason)
    label = URGENCY_LABELS.get(str(reason.get("rule")), reason.get("rule"))
    words = "、".join(str(word) for word in reason.get("words", []))
    return f"{label}: {words}" if words else str(label)


@register.filter
def talk_time(seconds: int | None) -> str:
    """A call's length as `m:ss` (`h:mm:ss` from an hour); empty when unknown."""
    if seconds is None:
        return ""
    minutes, secs = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


@register.filter
def masked(text: str | None) -> str:
    """Free text as agents see it: phone, ID and bank-card numbers masked (tickets.masking)."""
    return mask_text(text or "")


def _shown(text: str, length: int, *, full: bool, revealed: bool) -> tuple[str, bool]:
    """What to show of a text and whether it was cut. The cut comes after masking: a number
    that crosses it is masked whole before half of it is dropped."""
    shown = text if revealed else mask_text(text)
    if full or length <= MESSAGE_HEAD_CHARS:
        return shown, False
    return shown[:MESSAGE_HEAD_CHARS], True


@register.inclusion_tag("agent/_message_text.html", takes_context=True)
def message_text(
    context: template.Context, message: Message, full: bool = False, revealed: bool = False
) -> dict[str, object]:
    """A message's subject, body and quoted history for the agent's pages. The timeline's
    messages come with only the head of their text (`body_head`, `body_length`, see
    `tickets.selectors.customer_timeline`); `full` shows all of it, `revealed` unmasked."""
    head = getattr(message, "body_head", None)
    if full or head is None:
        body, body_length = message.body, len(message.body)
        quoted, quoted_length = message.quoted_text, len(message.quoted_text)
    else:
        body, body_length = head, message.body_length  # type: ignore[attr-defined]
        quoted, quoted_length = message.quoted_head, message.quoted_length  # type: ignore[attr-defined]
    shown_body, body_cut = _shown(body, body_length, full=full, revealed=revealed)
    shown_quoted, quoted_cut = _shown(quoted, quoted_length, full=full, revealed=revealed)
    subject = message.subject if revealed else mask_text(message.subject)
    masked_something = not revealed and (
        shown_body != body[: len(shown_body)]
        or shown_quoted != quoted[: len(shown_quoted)]
        or subject != message.subject
    )
    return {
        "message": message,
        "subject": subject,
        "body": shown_body,
        "body_cut": body_cut,
        "quoted": shown_quoted,
        "quoted_cut": quoted_cut,
        "length": body_length + quoted_length,
        "masked": masked_something,
        "csrf_token": context.get("csrf_token", ""),
    }
