"""What the widget tells the visitor about availability, in their language."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from channels_ingest.chat.events import widget_message
from channels_ingest.chat.selectors import Availability
from channels_ingest.chat.texts import availability_notice, widget_language
from tickets.models import Channel, Direction, Message

SHANGHAI = ZoneInfo("Asia/Shanghai")


def availability(**overrides: object) -> Availability:
    fields: dict[str, object] = {
        "in_hours": True,
        "agents_available": True,
        "opens_at": None,
        "first_response_minutes": 1,
    }
    fields.update(overrides)
    return Availability(**fields)  # type: ignore[arg-type]


def test_no_notice_while_someone_is_there():
    assert availability_notice(availability()) == ""


def test_out_of_hours_the_notice_names_the_next_opening_in_the_shops_time():
    opens = datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI)

    with translation.override("en"):
        text = availability_notice(availability(in_hours=False, opens_at=opens))

    assert text.startswith(
        "We are closed right now and open again at 2026-11-24 09:00; we will answer then."
    )
    assert text.endswith("our answer will be here on this page when you come back.")


def test_with_nobody_free_the_notice_gives_the_chat_response_target():
    with translation.override("en"):
        text = availability_notice(availability(agents_available=False, first_response_minutes=5))

    assert text.startswith("No agent is free right now. We will answer within 5 minutes.")


@pytest.mark.parametrize(
    ("requested", "language"),
    [
        ("en-GB", "en"),
        ("EN", "en"),
        ("zh-CN", "zh-hans"),
        ("zh_Hans", "zh-hans"),
        ("fr", "zh-hans"),
        ("", "zh-hans"),
    ],
)
def test_the_widget_language_is_english_or_chinese(requested, language):  # type: ignore[no-untyped-def]
    assert widget_language(requested) == language


def test_a_note_is_never_built_into_a_widget_message():
    with pytest.raises(ValueError):
        widget_message(Message(direction=Direction.NOTE, channel=Channel.CHAT, body="internal"))


def test_a_visitor_message_carries_its_widget_id_back_for_the_history():
    message = Message(
        pk=7,
        direction=Direction.IN,
        channel=Channel.CHAT,
        body="在吗",
        provider_id="shop/u1001/c0123456789abcdef",
        created_at=datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI),
    )

    assert widget_message(message)["client_id"] == "c0123456789abcdef"
