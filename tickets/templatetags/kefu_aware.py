"""Staying aware on every staff page: the header's notification bell, and SLA time as the
countdown in `kefu/static/kefu/aware.js` shows it (both use the phrases `aware_phrases`
lists, so the page reads the same before and after the script takes over)."""

from datetime import UTC, datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.selectors import agent_for, bell_for

register = template.Library()


def aware_phrases() -> dict[str, str]:
    """Every phrase the countdown and the alerts write, in the active language, with
    %(name)s placeholders; rendered as data- attributes of `#aware-phrases` for the script."""
    return {
        "days": _("%(d)s d %(h)s h"),
        "hours": _("%(h)s h %(m)s min"),
        "minutes": _("%(m)s min"),
        "seconds": _("%(s)s s"),
        "due-in": _("due in %(span)s"),
        "overdue-by": _("overdue by %(span)s"),
        "breached-ago": _("breached %(span)s ago"),
        "urgent-ticket": _("New urgent ticket %(number)s"),
        "assigned-ticket": _("%(number)s was assigned to you"),
        "viewing": _("Also viewing:"),
        "typing-one": _("%(names)s is typing a reply…"),
        "typing-many": _("%(names)s are typing replies…"),
        "unseen": _(
            "%(count)s new message(s) arrived after you opened this ticket. Read them before "
            "you reply, or send anyway."
        ),
        "notifications-denied": _("Desktop notifications are blocked in this browser."),
        "notifications-on": _("Desktop notifications are on."),
    }


def span(seconds: float, *, precision: str = "minutes") -> str:
    """A length of time as the countdown writes it: `2 d 3 h`, `1 h 05 min`, `7 min` (with
    precision "seconds": `1 h 05 min 09 s`, `7 min 09 s`, `9 s`)."""
    total = abs(int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        text = _("%(h)s h %(m)s min") % {"h": hours, "m": f"{minutes:02d}"}
    elif minutes or precision != "seconds":
        text = _("%(m)s min") % {"m": minutes}
    else:
        return _("%(s)s s") % {"s": secs}
    if precision == "seconds":
        text += " " + _("%(s)s s") % {"s": f"{secs:02d}"}
    return text


@register.filter
def iso_time(value: datetime | None) -> str:
    """An instant for the page's scripts and `<time datetime>`: ISO 8601 in UTC, to the
    second (every browser parses that alike)."""
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat(timespec="seconds")


@register.simple_tag
def sla_left(due_at: datetime, precision: str = "minutes") -> str:
    """`due in 1 h 05 min`, or `overdue by 3 min` once it passed."""
    seconds = (due_at - timezone.now()).total_seconds()
    if seconds >= 0:
        return _("due in %(span)s") % {"span": span(seconds, precision=precision)}
    return _("overdue by %(span)s") % {"span": span(seconds, precision=precision)}


@register.simple_tag
def sla_breached_ago(since: datetime) -> str:
    """`breached 12 min ago`: `since` is when the breached milestone was due."""
    return _("breached %(span)s ago") % {"span": span((timezone.now() - since).total_seconds())}


@register.inclusion_tag("agent/_bell.html", takes_context=True)
def notification_bell(context: template.Context) -> dict[str, Any]:
    """The header's bell for a staff user: the unread count and the newest unread."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        **bell_state(user),
        "agent": agent_for(user),
        "phrases": aware_phrases(),
        "server_now": timezone.now().isoformat(),
        "csrf_token": context.get("csrf_token", ""),
    }


def bell_state(user: Any) -> dict[str, Any]:
    """The bell's count, list and sound setting, as its templates name them."""
    bell = bell_for(user=user)
    return {
        "bell_notifications": bell.unread,
        "bell_count": bell.count,
        "play_sound": bell.play_sound,
    }
