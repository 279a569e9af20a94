from typing import Any

from django import template
from django.db.models import Model
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kb.triage import URGENCY_LABELS, category_label
from tickets.masking import mask_text
from tickets.models import Channel, IdentityKind, Message, TicketEvent
from tickets.selectors import TimelineEntry
from tickets.timeline_html import (
    choice_label,
    event_entry_html,
    message_entry_html,
    message_more_html,
    message_text_html,
    trail_to,
)

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


@register.filter(name="category_label")
def category_label_filter(code: str | None) -> str:
    """A triage category's code (`logistics`) as its label in the active language."""
    return category_label(code or "")


@register.filter
def channel_label(code: str | None) -> str:
    """A channel's code (`sms`) as its label; a code Kefu does not know, as it is."""
    try:
        return str(Channel(code or "").label)
    except ValueError:
        return code or ""


@register.filter
def label(row: Model, field_name: str) -> str:
    """`{{ message|label:"channel" }}`: what `get_channel_display` shows (quicker)."""
    return choice_label(row, field_name)


@register.filter(name="trail_to")
def trail_to_filter(event: TicketEvent) -> str:
    """What a trail entry moved to, in the active language (tickets.timeline_html)."""
    return trail_to(event)


@register.filter
def identity_kind_label(kind: str | None) -> str:
    """A contact's kind (`app_user`) as its label (App user)."""
    try:
        return str(IdentityKind(kind or "").label)
    except ValueError:
        return kind or ""


# What the outbox records each send as (tickets.delivery.Outbound.kind).
OUTBOX_KIND_LABELS = {
    "reply": gettext_lazy("Reply"),
    # Everything Kefu writes by itself on a ticket: acknowledgements and the bot's answers.
    "acknowledgement": gettext_lazy("Automatic reply"),
    "notification": gettext_lazy("Notice"),
    "code": gettext_lazy("One-time code"),
}


@register.filter
def outbox_kind_label(kind: str | None) -> str:
    return str(OUTBOX_KIND_LABELS.get(kind or "", kind or ""))


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


@register.simple_tag(takes_context=True)
def message_text(context: template.Context, message: Message, revealed: bool = False) -> str:
    """A message's subject, body and quoted history for the agent's pages: masked, and cut
    after their beginning with a link to the next piece; `revealed`: all of it, unmasked
    (tickets.timeline_html)."""
    return message_text_html(message, csrf_token=context.get("csrf_token", ""), revealed=revealed)


@register.simple_tag
def message_more(message: Message, field: str, left: int, piece: int) -> str:
    """The "show more" link of a long text's next piece."""
    return message_more_html(message, field, left, piece)


@register.simple_tag(takes_context=True)
def timeline_entries(context: template.Context, entries: list[TimelineEntry]) -> SafeString:
    """The entries of the ticket page's timeline: messages and the trail written by
    tickets.timeline_html, calls and the lines for other teams' tickets by
    `agent/_timeline_entry.html`, apps' entries as the apps drew them."""
    ticket = context["ticket"]
    csrf_token = context.get("csrf_token", "")
    assert context.template is not None
    other_kinds = context.template.engine.get_template("agent/_timeline_entry.html")
    parts: list[str] = []
    for entry in entries:
        if entry.extra is not None:
            parts.append(f"{conditional_escape(entry.extra.html)}\n")
        elif entry.message is not None:
            parts.append(message_entry_html(entry, ticket=ticket, csrf_token=csrf_token))
        elif entry.call is not None or entry.restricted:
            with context.push(entry=entry):
                parts.append(other_kinds.render(context))
        else:
            parts.append(event_entry_html(entry, ticket=ticket))
    return mark_safe("".join(parts))  # noqa: S308 - each part is escaped where it is made
