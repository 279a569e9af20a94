"""The ticket page's reply box, and a message's files as the pages show them."""

from typing import Any

from django import template
from django.conf import settings

from tickets.compose import attachment_link, reply_routes
from tickets.files import file_kind
from tickets.models import Attachment, Ticket

register = template.Library()


@register.inclusion_tag("agent/_reply_box.html", takes_context=True)
def reply_box(context: Any, ticket: Ticket, form: Any) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "reply_form": form,
        # The reply refused because newer messages arrived (tickets.services.reply_guard).
        "overtaken": context.get("overtaken"),
        "routes": reply_routes(ticket),
        "csrf_token": context.get("csrf_token"),
        "max_bytes": settings.KEFU_UPLOAD_MAX_BYTES,
        "max_files": settings.KEFU_UPLOAD_MAX_FILES,
    }


@register.filter(name="file_kind")
def file_kind_filter(attachment: Attachment) -> str:
    """How a page previews the file (tickets.files.file_kind)."""
    return file_kind(attachment)


@register.filter
def customer_link(attachment: Attachment) -> str:
    """The signed link a customer opens the file with (the status page)."""
    return attachment_link(attachment, absolute=False)
