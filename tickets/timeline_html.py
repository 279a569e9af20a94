"""The ticket page's timeline entries for messages and trail events, written in Python.

A page of the customer timeline is fifty entries. Drawn with the template language (an
include per entry, the message text, delivery badge and attachments as templates of their
own), they took about 20 ms of the ticket page's 100 on the 1,000,000-ticket database of
`bench/search.py`: some thirty template nodes per entry, each variable looked up through
the template engine's generic resolution. Here each entry is a few `format_html` calls
(docs/adr/0012-timeline-entries-in-python.md has the figures). Everything shown is escaped
by `format_html`/`escape`; texts are masked as before (`tickets.masking`).

Calls, the lines for other teams' tickets and the entries of apps above the core stay in
templates (`agent/_timeline_entry.html`); this module is the one place the message and event
entries are written, for the timeline and for a message's text elsewhere
(`{% message_text %}`).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from django.db.models import Field, Model
from django.template.defaultfilters import filesizeformat, linebreaksbr
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tickets import hooks
from tickets.files import file_kind
from tickets.masking import mask_text
from tickets.models import (
    Attachment,
    DeliveryStatus,
    Direction,
    EventKind,
    Message,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.selectors import TimelineEntry, message_cuts


def _when(at: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """As the template's `date` filter shows it: in the active time zone."""
    return timezone.localtime(at).strftime(pattern) if at is not None else ""


@cache
def _choice_labels(model: type[Model], field_name: str) -> dict[Any, Any]:
    """A field's choices as value → label; the labels stay lazy (translated when shown)."""
    field = model._meta.get_field(field_name)
    assert isinstance(field, Field), field_name
    return dict(field.flatchoices)


def choice_label(row: Model, field_name: str) -> str:
    """What `row.get_<field_name>_display()` shows, in the active language. Django's own
    builds and hashes every choice's label (a translation each) on every call; the timeline
    shows a few of them per entry, fifty entries a page."""
    value = getattr(row, field_name)
    shown = _choice_labels(type(row)._meta.concrete_model, field_name).get(value, value)
    return "" if shown is None else str(shown)


def _csrf_input(csrf_token: Any) -> SafeString:
    return format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', str(csrf_token or "")
    )


# --- a message's text ----------------------------------------------------------------------


def message_texts(message: Message, *, revealed: bool = False) -> dict[str, Any]:
    """A message's subject, body and quoted history for the agent's pages: masked, and cut
    after their beginning (with how much is left); `revealed`: all of it, unmasked. The
    timeline's messages come with only the beginning of their texts (`body_head`,
    `body_length`, see `tickets.selectors.customer_timeline`)."""
    if revealed:
        return {
            "subject": message.subject,
            "body": message.body,
            "quoted": message.quoted_text,
            "body_left": 0,
            "quoted_left": 0,
            "masked": False,
        }
    texts: dict[str, Any] = {}
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


def message_more_html(message: Message, field: str, left: int, piece: int = 1) -> SafeString:
    """The link that brings piece `piece` of a long text ("show more", htmx)."""
    url = f"{reverse('tickets:message_body', args=[message.pk])}?field={field}&piece={piece}"
    text = ngettext(
        "Show more (%(counter)s character left)", "Show more (%(counter)s characters left)", left
    ) % {"counter": left}
    return format_html(
        '<span class="show-more">… <a href="{}" hx-get="{}" hx-target="closest .show-more" '
        'hx-swap="outerHTML">{}</a></span>',
        url,
        url,
        text,
    )


def message_text_html(message: Message, *, csrf_token: Any, revealed: bool = False) -> SafeString:
    """The subject, body and quoted history; a long text shows its beginning and a link to
    the next piece; "Show hidden numbers" swaps the whole text in place (htmx), unmasked."""
    texts = message_texts(message, revealed=revealed)
    parts: list[str] = []
    if texts["subject"]:
        parts.append(
            format_html('<div class="subject"><strong>{}</strong></div>\n', texts["subject"])
        )
    body = linebreaksbr(texts["body"], autoescape=True)
    if texts["body_left"] > 0:
        body += message_more_html(message, "body", texts["body_left"])
    parts.append(format_html('<div class="body">{}</div>\n', body))
    if texts["quoted"]:
        quoted = linebreaksbr(texts["quoted"], autoescape=True)
        if texts["quoted_left"] > 0:
            quoted += message_more_html(message, "quoted", texts["quoted_left"])
        parts.append(
            format_html(
                '<details class="quoted"><summary>{}</summary><div class="body">{}</div>'
                "</details>\n",
                _("Quoted and forwarded history"),
                quoted,
            )
        )
    if texts["masked"]:
        url = reverse("tickets:message_reveal", args=[message.pk])
        parts.append(
            format_html(
                '<form class="inline reveal-message" method="post" action="{}" hx-post="{}" '
                'hx-target="#message-{}" hx-swap="innerHTML">{}<button type="submit" '
                'class="secondary">{}</button></form>\n',
                url,
                url,
                message.pk,
                _csrf_input(csrf_token),
                _("Show hidden numbers (logged)"),
            )
        )
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped


# --- the parts of a message entry ------------------------------------------------------------


def _delivery(message: Message, ticket: Ticket, csrf_token: Any) -> SafeString:
    badge = format_html(
        '<span class="badge delivery delivery-{}" data-delivery="{}">{}</span>',
        message.delivery_status,
        message.pk,
        choice_label(message, "delivery_status"),
    )
    status = message.delivery_status
    if status == DeliveryStatus.FAILED:
        return format_html(
            '{}\n<form class="inline" method="post" action="{}">{}<button type="submit">{}'
            "</button></form>",
            badge,
            reverse("tickets:message_retry", args=[ticket.number, message.pk]),
            _csrf_input(csrf_token),
            _("Retry"),
        )
    if status == DeliveryStatus.QUEUED and message.delivery_attempts:
        attempts = message.delivery_attempts
        text = ngettext(
            "%(attempts)s attempt failed; trying again",
            "%(attempts)s attempts failed; trying again",
            attempts,
        ) % {"attempts": attempts}
        return format_html('{}\n<span class="muted">{}</span>', badge, text)
    due = message.delivery_due_at
    if (
        status == DeliveryStatus.QUEUED
        and message.notice
        and due is not None
        and due > message.created_at
    ):
        text = _("held until %(until)s (quiet hours)") % {"until": _when(due, "%m-%d %H:%M")}
        return format_html('{}\n<span class="muted notice-held">{}</span>', badge, text)
    return badge


def _attachments(files: tuple[Attachment, ...]) -> SafeString:
    items: list[str] = []
    for file in files:
        kind = file_kind(file)
        view = reverse("tickets:attachment_view", args=[file.pk]) if kind else ""
        preview: SafeString | str = ""
        if kind == "image":
            preview = format_html(
                '<a href="{}" target="_blank" rel="noopener"><img class="thumb" src="{}" '
                'alt="{}" loading="lazy"></a><br>',
                view,
                view,
                file.filename,
            )
        elif kind == "pdf":
            preview = format_html(
                '<span class="file-icon" aria-hidden="true">📄</span> '
                '<a href="{}" target="_blank" rel="noopener">{}</a>',
                view,
                file.filename,
            )
        name: SafeString | str = ""
        if kind != "pdf":
            name = (
                format_html(
                    '<a href="{}">{}</a>',
                    reverse("tickets:attachment", args=[file.pk]),
                    file.filename,
                )
                if file.file
                else escape(file.filename)
            )
        refused = (
            format_html(' <span class="error">{}: {}</span>', _("not kept"), file.refused_reason)
            if file.refused_reason
            else ""
        )
        items.append(
            format_html(
                '\n  <li class="attachment">{}\n    {}\n    <span class="muted">{} · {}</span>'
                "{}</li>\n",
                preview,
                name,
                file.content_type,
                filesizeformat(file.size),
                refused,
            )
        )
    return format_html('<ul class="attachments plain">{}</ul>', mark_safe("".join(items)))  # noqa: S308


def _author(message: Message, ticket: Ticket) -> str:
    if message.direction == Direction.IN:
        return str(ticket.customer)
    if message.author_id is not None and message.author is not None:
        return str(message.author)
    if message.is_bot:
        return _("Answer bot")
    if message.is_automatic:
        return _("Automatic")
    return _("System")


@lru_cache(maxsize=4096)
def _ticket_url(_prefix: str, number: str) -> str:
    return reverse("tickets:ticket", args=[number])


def _other_link(other: Ticket | None, ticket: Ticket) -> SafeString | str:
    """A link to the entry's ticket when it is another than the page's (a page's entries
    come from a few tickets: their addresses are remembered, per script prefix)."""
    if other is None or other.pk == ticket.pk:
        return ""
    return format_html(
        '<a class="muted" href="{}">{}</a>',
        _ticket_url(get_script_prefix(), other.number),
        other.number,
    )


def message_entry_html(entry: TimelineEntry, *, ticket: Ticket, csrf_token: Any) -> SafeString:
    """A message on the timeline of `ticket`'s page."""
    message = entry.message
    assert message is not None
    other = entry.ticket
    is_other = other is not None and other.pk != ticket.pk
    delivery = (
        _delivery(message, other or ticket, csrf_token)
        if message.direction == Direction.OUT
        else ""
    )
    defects = (
        format_html(
            '<ul class="defects plain">{}</ul>',
            mark_safe(  # noqa: S308 - each item is escaped
                "".join(
                    format_html('<li class="error">⚠ {}</li>', note) for note in message.defects
                )
            ),
        )
        if message.defects
        else ""
    )
    error = (
        format_html('<p class="error">{}</p>', message.delivery_error)
        if message.delivery_error
        else ""
    )
    return format_html(
        '\n  <article class="msg dir-{}{}" data-message="{}">\n    <header>\n'
        "      <strong>{}</strong>\n"
        '      <span class="muted">{} · {} · {}</span>\n'
        "      {}\n      {}\n    </header>\n"
        '    <div class="message-text" id="message-{}">{}</div>\n'
        "    {}\n    {}\n    {}\n  </article>\n",
        message.direction,
        " other-ticket" if is_other else "",
        message.pk,
        _author(message, ticket),
        choice_label(message, "direction"),
        choice_label(message, "channel"),
        _when(entry.at),
        _other_link(other, ticket),
        delivery,
        message.pk,
        message_text_html(message, csrf_token=csrf_token),
        _attachments(entry.files) if entry.files else "",
        defects,
        error,
    )


def _trail_to(event: TicketEvent, data: dict[str, Any]) -> str:
    to = str(data.get("to", ""))
    if event.kind == EventKind.STATUS:
        try:
            return str(Status(to).label)
        except ValueError:
            return to
    return hooks.trail_label(event.kind, data) or to


def trail_to(event: TicketEvent) -> str:
    """What a trail entry moved to (`data.to`) in the active language: a status's label, an
    app's own label for its entries (tickets.hooks), else the stored text."""
    return _trail_to(event, event.data if isinstance(event.data, dict) else {})


def event_entry_html(entry: TimelineEntry, *, ticket: Ticket) -> SafeString:
    """A line of the trail (status changes, assignments, transfers, notices, …)."""
    event = entry.event
    assert event is not None
    other = entry.ticket
    data = event.data if isinstance(event.data, dict) else {}
    parts: list[str] = [
        escape(_when(entry.at)),
        escape(other.number if other is not None else ""),
        escape(choice_label(event, "kind")),
    ]
    if event.actor_id is not None and event.actor is not None:
        parts.append(escape(str(event.actor)))
    if data.get("milestone"):
        parts.append(escape(str(data["milestone"])))
    if data.get("to"):
        parts.append("→ " + escape(_trail_to(event, data)))
    if data.get("from") and event.kind in (EventKind.MERGE_RECEIVED, EventKind.SPLIT_FROM):
        parts.append("← " + escape(str(data["from"])))
    for key in ("note", "reason"):
        if data.get(key):
            parts.append(escape(mask_text(str(data[key]))))
    is_other = other is not None and other.pk != ticket.pk
    return format_html(
        '\n  <p class="event muted{}">{}</p>\n',
        " other-ticket" if is_other else "",
        mark_safe(" · ".join(parts)),  # noqa: S308 - each part is escaped
    )
