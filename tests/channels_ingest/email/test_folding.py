"""Quoted replies and forwarded history are kept, split off the new text to be shown folded."""

from pathlib import Path

from channels_ingest.email import parse_message
from channels_ingest.email.quoting import split_quoted

MESSAGES = Path(__file__).parent / "messages"


def test_qq_mail_reply_in_gbk_separates_the_answer_from_the_original_mail():
    parsed = parse_message((MESSAGES / "qq_reply_gbk.eml").read_bytes())
    assert parsed.new_text == "好的，我明天在家等快递。"
    assert parsed.quoted_text == (
        "------------------ 原始邮件 ------------------\n"
        '发件人: "鲜果客服"<kefu@xianguo.example>;\n'
        "发送时间: 2026年11月22日(星期六) 上午10:00\n"
        '收件人: "张三"<zhangsan@qq.example>;\n'
        "主题: [K#20261122-00071] 退款申请\n"
        "\n"
        "您好，补发的草莓明天送达。"
    )
    assert parsed.text == f"{parsed.new_text}\n\n{parsed.quoted_text}"


def test_netease_attribution_without_quote_marks_starts_the_history():
    split = split_quoted(
        '收到，谢谢。\n\n在 2026-11-22 10:00:00，"鲜果客服" <kefu@xianguo.example> 写道：\n'
        "您好，退款已处理。"
    )
    assert split.new_text == "收到，谢谢。"
    assert split.quoted_text == (
        '在 2026-11-22 10:00:00，"鲜果客服" <kefu@xianguo.example> 写道：\n您好，退款已处理。'
    )


def test_gmail_attribution_wrapped_over_two_lines_starts_the_history():
    split = split_quoted(
        "Thanks!\n\nOn Sun, Nov 22, 2026 at 10:00 AM Kefu <kefu@xianguo.example>\nwrote:\n"
        "> Your refund is on its way.\n"
    )
    assert split.new_text == "Thanks!"
    assert split.quoted_text == (
        "On Sun, Nov 22, 2026 at 10:00 AM Kefu <kefu@xianguo.example>\nwrote:\n"
        "> Your refund is on its way."
    )


def test_outlook_chinese_header_block_starts_the_history():
    split = split_quoted(
        "请再查一下。\n\n发件人: 鲜果客服 <kefu@xianguo.example>\n发送时间: 2026年11月22日 10:00\n"
        "收件人: 张三\n主题: 退款\n\n已处理。"
    )
    assert split.new_text == "请再查一下。"
    assert split.quoted_text.startswith("发件人: 鲜果客服")


def test_forwarded_message_banner_starts_the_history():
    split = split_quoted(
        "See below.\n\n---------- Forwarded message ---------\nFrom: Shop <s@example.cn>\n\nOld"
    )
    assert (split.new_text, split.quoted_text) == (
        "See below.",
        "---------- Forwarded message ---------\nFrom: Shop <s@example.cn>\n\nOld",
    )


def test_trailing_quote_block_is_folded_but_inline_answers_are_not():
    split = split_quoted("answer one\n> question two\nanswer two\n\n> old\n>\n> older\n")
    assert split.new_text == "answer one\n> question two\nanswer two"
    assert split.quoted_text == "> old\n>\n> older"


def test_wrote_inside_a_sentence_does_not_cut_the_mail():
    text = "My friend wrote:\nthat the apples were fine, but mine were not."
    assert split_quoted(text).new_text == text
    assert split_quoted(text).quoted_text == ""


def test_a_pure_forward_has_no_new_text_and_keeps_everything_as_history():
    split = split_quoted("-----Original Message-----\nFrom: a\nSent: b\n\nbody")
    assert split.new_text == ""
    assert split.quoted_text == "-----Original Message-----\nFrom: a\nSent: b\n\nbody"
