from functools import cache
from typing import Any

from django import template
from django.db.models import Field, Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from kb.triage import URGENCY_LABELS, category_label
from tickets import hooks
from tickets.masking import mask_text
from tickets.models import Channel, EventKind, IdentityKind, Message, Status, TicketEvent
from tickets.selectors import message_cuts

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


@cache
def _choice_labels(model: type[Model], field_name: str) -> dict[Any, Any]:
    """A field's choices as value → label; the labels stay lazy (translated when shown)."""
    field = model._meta.get_field(field_name)
    assert isinstance(field, Field), field_name
    return dict(field.flatchoices)


@register.filter
def label(row: Model, field_name: str) -> str:
    """`{{ message|label:"channel" }}`: what `get_channel_display` shows, in the active
    language. Django's own builds and hashes every choice's label (a translation each) on
    every call; the timeline shows a few of them per entry, fifty entries a page."""
    value = getattr(row, field_name)
    shown = _choice_labels(type(row)._meta.concrete_model, field_name).get(value, value)
    return "" if shown is None else str(shown)


@register.filter
def trail_to(event: TicketEvent) -> str:
    """What a trail entry moved to (`data.to`) in the active language: a status's label, an
    app's own label for its entries (tickets.hooks), else the stored text."""
    data = event.data if isinstance(event.data, dict) else {}
    to = str(data.get("to", ""))
    if event.kind == EventKind.STATUS:
        try:
            return str(Status(to).label)
        except ValueError:
            return to
    return hooks.trail_label(event.kind, data) or to


@register.filter
def identity_kind_label(kind: str | None) -> str:
    """A contact's kind (`app_user`) as its label (App user)."""
    try:
        return str(IdentityKind(kind or "").label)
    except ValueError:
        return kind or ""


# What the outbox records each send as (tickets.delivery.Outbound.kind).
OUTBOX_KIND_LABELS = {
    "reply": _lazy("Reply"),
    # Everything Kefu writes by itself on a ticket: acknowledgements and the bot's answers.
    "acknowledgement": _lazy("Automatic reply"),
    "notification": _lazy("Notice"),
    "code": _lazy("One-time code"),
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


@register.inclusion_tag("agent/_message_text.html", takes_context=True)
def message_text(
    context: template.Context, message: Message, revealed: bool = False
) -> dict[str, object]:
    """A message's subject, body and quoted history for the agent's pages: masked, and cut
    after their beginning with a link to the next piece; `revealed`: all of it, unmasked.
    The timeline's messages come with only the beginning of their texts (`body_head`,
    `body_length`, see `tickets.selectors.customer_timeline`)."""
    texts: dict[str, object] = {"message": message, "csrf_token": context.get("csrf_token", "")}
    if revealed:
        texts.update(subject=message.subject, body=message.body, quoted=message.quoted_text)
        texts.update(body_left=0, quoted_left=0, masked=False)
        return texts
    masked_something = False
    for field, head_name in (("body", "body"), ("quoted", "quoted_text")):
        head = getattr(message, f"{field}_head", None)
        if head is None:
            head = getattr(message, head_name)
            length = len(head)
        else:
            length = getattr(message, f"{field}_length")
        cut = message_cuts(head, 0)[1]
        shown = mask_text(head[:cut])
        masked_something = masked_something or shown != head[:cut]
        texts[field] = shown
        texts[f"{field}_left"] = length - cut
    subject = mask_text(message.subject)
    texts.update(subject=subject, masked=masked_something or subject != message.subject)
    return texts
