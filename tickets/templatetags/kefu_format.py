from typing import Any

from django import template
from django.utils.translation import gettext as _

from kb.triage import URGENCY_LABELS

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
