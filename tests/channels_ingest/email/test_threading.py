"""Thread keys: reply prefixes, the ticket tag, the reply token, Message-ID chains."""

from pathlib import Path

import pytest

from channels_ingest.email import parse_message
from channels_ingest.email.threading import normalise_subject, reply_token, ticket_tag
from tests.channels_ingest.email.raw import mail

MESSAGES = Path(__file__).parent / "messages"


@pytest.mark.parametrize(
    "subject",
    [
        "Re: 退款申请",
        "RE: RE: 退款申请",
        "回复：退款申请",
        "回复: 答复：退款申请",
        "转发: 退款申请",
        "Fw: 退款申请",
        "FWD: Re: 退款申请",
        "AW: WG: 退款申请",
        "Re[2]: 退款申请",
        "  re :  退款申请 ",
        "[K#20261122-00071] 退款申请",
        "回复：[K#20261122-00071] Re: 退款申请",
        "[外部邮件] 回复: 退款申请",
        "轉寄: 回覆: 退款申请",
    ],
)
def test_reply_and_forward_prefixes_are_stripped_before_comparison(subject):
    assert normalise_subject(subject) == "退款申请"


def test_a_bracket_tag_without_a_prefix_is_the_customers_subject():
    assert normalise_subject("[急] 退款") == "[急] 退款"


def test_prefix_like_words_inside_the_subject_stay():
    assert normalise_subject("Recipe question: re-order") == "Recipe question: re-order"


def test_ticket_tag_is_found_also_with_full_width_brackets():
    assert ticket_tag("回复：[K#20261122-00071] 退款") == "20261122-00071"
    assert ticket_tag("Re: 【K#20261122-0007】 退款") == "20261122-0007"
    assert ticket_tag("退款 #20261122-0007") == ""


def test_reply_token_comes_from_a_reply_plus_address():
    assert reply_token(["kefu@shop.cn", "Reply+AbC_12-x@shop.cn"]) == "AbC_12-x"
    assert reply_token(["kefu@shop.cn"]) == ""


def test_parsed_reply_carries_every_thread_key():
    parsed = parse_message((MESSAGES / "qq_reply_gbk.eml").read_bytes())
    assert parsed.subject == "回复：[K#20261122-00071] 退款申请"
    assert parsed.subject_normalised == "退款申请"
    assert parsed.ticket_tag == "20261122-00071"
    assert parsed.reply_token == "t8Kx2mQ"
    assert parsed.in_reply_to == "k.20261122-00071.3@xianguo.example"
    assert parsed.references == (
        "k.20261122-00071.1@xianguo.example",
        "k.20261122-00071.3@xianguo.example",
    )
    assert parsed.thread_message_ids == (
        "k.20261122-00071.3@xianguo.example",
        "k.20261122-00071.1@xianguo.example",
    )


def test_reply_token_is_read_from_cc_and_delivered_to():
    in_cc = parse_message(mail("From: a@example.cn", "Cc: reply+cc1@shop.cn", body="x"))
    delivered = parse_message(
        mail("From: a@example.cn", "Delivered-To: reply+dt2@shop.cn", body="x")
    )
    assert (in_cc.reply_token, delivered.reply_token) == ("cc1", "dt2")
