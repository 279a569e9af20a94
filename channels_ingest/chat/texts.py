"""What the widget says, translated on the server in the visitor's language (the widget
itself is a static file with no text of its own)."""

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from channels_ingest.chat.selectors import Availability


def widget_language(requested: str) -> str:
    """The visitor's language from the widget's `lang` (data-lang, the page's lang, or the
    browser's): Chinese and English are supported, anything else gets the default."""
    value = requested.strip().lower().replace("_", "-")
    if value.startswith("en"):
        return "en"
    if value.startswith("zh"):
        return "zh-hans"
    return settings.LANGUAGE_CODE


def widget_labels() -> dict[str, str]:
    return {
        "title": _("Customer service"),
        "open": _("Chat with us"),
        "close": _("Close"),
        "placeholder": _("Type your message…"),
        "send": _("Send"),
        "agent": _("Agent"),
        "bot": _("Assistant"),
        "you": _("You"),
        "typing": _("An agent is typing…"),
        "online": _("Online"),
        "offline": _("Offline"),
        "connecting": _("Connecting…"),
        "sending": _("Sending…"),
        "empty": _("Ask us anything: your conversation stays here when you come back."),
        "attach": _("Send a photo or a PDF"),
        "rate": _("Rate our service"),
        "rated": _("Thank you for your rating!"),
    }


def availability_notice(availability: Availability) -> str:
    """Empty when someone is there to answer; otherwise when and where the answer comes."""
    if availability.is_online:
        return ""
    where = _(
        "Leave your message: the conversation is kept, and our answer will be here on this "
        "page when you come back."
    )
    if not availability.in_hours:
        if availability.opens_at is None:
            return _("We are closed right now.") + " " + where
        # In the calendar's own time zone, which is the shop's.
        opens = availability.opens_at
        return (
            _("We are closed right now and open again at %(time)s; we will answer then.")
            % {"time": opens.strftime("%Y-%m-%d %H:%M")}
            + " "
            + where
        )
    if availability.first_response_minutes:
        minutes = availability.first_response_minutes
        return (
            ngettext(
                "No agent is free right now. We will answer within %(minutes)d minute.",
                "No agent is free right now. We will answer within %(minutes)d minutes.",
                minutes,
            )
            % {"minutes": minutes}
            + " "
            + where
        )
    return _("No agent is free right now. We will answer as soon as we can.") + " " + where


def error_text(code: str) -> str:
    texts = {
        "bad_frame": _("The message could not be read."),
        "bad_message": _("The message is empty or malformed."),
        "too_long": _("The message is too long."),
        "rate_limited": _("You are sending messages too fast; please wait a moment."),
        "busy": _("Many chats are starting right now; your message will be sent in a moment."),
        "refused": _("The message could not be accepted."),
        "unknown_type": _("Unknown request."),
        "server_error": _("Something went wrong; please try again."),
        "bad_signature": _("This chat session is not valid; please reload the page."),
        "expired": _("This chat session has expired; please reload the page."),
        "bad_user": _("This chat session is not valid; please reload the page."),
        "bad_visitor": _("This chat session is not valid; please reload the page."),
        "sign_in": _("Please sign in to chat with us."),
        "bad_file": _("Send a photo (JPEG, PNG, HEIC, WebP, GIF) or a PDF."),
        "forbidden_origin": _("This page may not send files to this chat."),
        "unknown_site": _("Unknown chat."),
        "survey_forged": _("This survey is not yours."),
        "survey_used": _("You have rated this already. Thank you!"),
        "survey_expired": _("This survey has closed."),
        "survey_score": _("Choose one of the stars."),
    }
    return texts.get(code, texts["server_error"])
