"""A message's stored text is capped on every channel; the whole text is kept attached."""

import hashlib
from dataclasses import replace

import pytest

from tests.factories import app_message, intake
from tickets.models import Channel
from tickets.services.intake import inbound_capped

MARKER = "[消息过长，已截短：完整内容见附件 {}]"  # zh-Hans, the site's default language


def test_a_text_within_the_cap_is_left_as_it_is():
    inbound = app_message(text="短消息", user_id="u1")

    assert inbound_capped(inbound=inbound, max_chars=3) is inbound


def test_a_long_text_is_cut_at_the_last_paragraph_and_attached_whole():
    paragraphs = [f"第{n}段。" + "退款" * 40 for n in range(40)]
    text = "\n\n".join(paragraphs)

    capped = inbound_capped(inbound=app_message(text=text, user_id="u1"), max_chars=1000)

    kept, _, marker = capped.text.rpartition("\n\n")
    assert marker == MARKER.format("original.txt")
    assert len(capped.text) <= 1000
    assert text.startswith(kept + "\n\n")
    assert kept.split("\n\n")[-1] == paragraphs[len(kept.split("\n\n")) - 1]  # whole
    (attachment,) = capped.attachments
    data = text.encode()
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "original.txt",
        "text/plain",
        len(data),
    )
    assert attachment.data == data
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_chinese_without_line_breaks_is_cut_after_a_sentence():
    text = "我的订单还没有到，请帮我查一下物流。" * 100

    capped = inbound_capped(inbound=app_message(text=text, user_id="u1"), max_chars=500)

    kept = capped.text.removesuffix("\n\n" + MARKER.format("original.txt"))
    assert kept.endswith("。")
    assert text.startswith(kept)
    assert len(kept) > 400


def test_a_cut_never_separates_a_letter_from_its_accent():
    text = "e\u0301" * 300  # "é" written as e + combining acute, no breaks anywhere

    capped = inbound_capped(inbound=app_message(text=text, user_id="u1"), max_chars=200)

    kept = capped.text.removesuffix("\n\n" + MARKER.format("original.txt"))
    assert kept and not kept.endswith("e")
    assert text.startswith(kept)


def test_long_quoted_history_and_html_are_capped_and_attached_too():
    inbound = replace(
        app_message(text="见下", user_id="u1"),
        quoted_text="> 以前的邮件\n" * 200,
        html="<p>很长</p>" * 300,
    )

    capped = inbound_capped(inbound=inbound, max_chars=1000)

    assert capped.text == "见下"
    assert capped.quoted_text.endswith(MARKER.format("quoted.txt"))
    assert len(capped.quoted_text) <= 1000
    assert capped.html == ""
    assert [(a.filename, a.data) for a in capped.attachments] == [
        ("quoted.txt", inbound.quoted_text.encode()),
        ("original.html", inbound.html.encode()),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("channel", [Channel.APP, Channel.SMS])
def test_intake_caps_every_channel(default_team, settings, channel):
    settings.KEFU_MESSAGE_BODY_MAX_CHARS = 2000
    text = "请尽快处理。" * 1000

    result = intake(text=text, user_id="u1", phone="+8613800138000", channel=channel)

    message = result.message
    assert len(message.body) <= 2000
    assert message.body.endswith(MARKER.format("original.txt"))
    attachment = message.attachments.get()
    assert attachment.filename == "original.txt"
    assert attachment.file.read() == text.encode()
