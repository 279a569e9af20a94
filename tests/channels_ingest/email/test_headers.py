"""Headers: RFC 2047 encoded words (also malformed), raw 8-bit headers, addresses, dates."""

import base64
from datetime import UTC, datetime, timedelta, timezone

from channels_ingest.email import Address, parse_message
from channels_ingest.email.headers import decode_words, parse_parameterised
from tests.channels_ingest.email.raw import encoded_word, mail


def subject_of(subject: str | bytes) -> tuple[str, tuple[str, ...]]:
    header = subject if isinstance(subject, bytes) else subject.encode("ascii")
    parsed = parse_message(mail("From: a@example.cn", b"Subject: " + header, body="hi"))
    return parsed.subject, parsed.errors


def test_base64_encoded_word_in_gbk_is_decoded():
    assert subject_of(encoded_word("退款申请", "gbk")) == ("退款申请", ())


def test_quoted_printable_encoded_word_in_gb2312_is_decoded_as_gb18030():
    word = encoded_word("朱镕基", "gbk", encoding="Q", label="gb2312")
    assert subject_of(word) == ("朱镕基", ())


def test_big5_and_iso_2022_jp_encoded_words_are_decoded():
    subject = f"{encoded_word('訂單', 'big5')} {encoded_word('注文', 'iso-2022-jp')}"
    # Whitespace between two encoded words is not part of the text (RFC 2047 6.2).
    assert subject_of(subject) == ("訂單注文", ())


def test_encoded_words_split_inside_a_character_are_joined_before_decoding():
    data = "订单".encode()  # six bytes; split after the fourth, inside the second character
    first = "=?UTF-8?B?" + base64.b64encode(data[:4]).decode() + "?="
    second = "=?UTF-8?B?" + base64.b64encode(data[4:]).decode() + "?="
    assert subject_of(f"{first} {second}") == ("订单", ())


def test_encoded_words_without_spaces_between_them_are_decoded():
    subject = encoded_word("你好", "utf-8") + encoded_word("世界", "gbk")
    assert subject_of(subject) == ("你好世界", ())


def test_text_around_encoded_words_keeps_its_spaces():
    assert subject_of(f"Re: {encoded_word('退款', 'utf-8')} #123") == ("Re: 退款 #123", ())


def test_encoded_word_with_unknown_charset_is_guessed_and_noted():
    subject = encoded_word("退款", "utf-8").replace("utf-8", "x-unknown")
    assert subject_of(subject) == (
        "退款",
        ("unknown charset x-unknown in Subject header; decoded as utf-8",),
    )


def test_encoded_word_with_broken_base64_is_kept_as_written_with_a_note():
    assert subject_of("help =?utf-8?B?5=?= now") == (
        "help =?utf-8?B?5=?= now",
        ("undecodable encoded word in Subject header: =?utf-8?B?5=?=",),
    )


def test_encoded_word_missing_its_padding_is_still_decoded():
    assert subject_of("=?utf-8?B?6YCA5qy+?=") == ("退款", ())


def test_encoded_word_cut_inside_a_utf8_character_keeps_the_rest():
    assert subject_of("=?utf-8?B?5Lit5p?=") == (
        "中\ufffd",
        ("truncated UTF-8 in Subject header; the last character is replaced",),
    )


def test_encoded_word_with_a_language_tag_is_decoded():
    assert subject_of("=?utf-8*zh?B?6YCA5qy+?=") == ("退款", ())


def test_raw_gbk_subject_without_encoding_is_decoded():
    assert subject_of("订单问题".encode("gbk")) == ("订单问题", ())


def test_raw_utf8_subject_without_encoding_is_decoded():
    assert subject_of("订单问题".encode()) == ("订单问题", ())


def test_decode_words_never_raises_on_garbage():
    decoded = decode_words("=?=?==?x?Q?=ZZ?= =?utf-8?X?abc?= \udcff", where="Subject header")
    assert decoded.text == "=?=?==ZZ =?utf-8?X?abc?= \ufffd"
    assert decoded.notes == (
        "unknown charset x in Subject header; decoded as utf-8",
        "undecodable bytes in Subject header; decoded as UTF-8 with replacement characters",
    )


def test_display_name_is_decoded_and_a_comma_inside_it_does_not_split_the_address():
    name = encoded_word("张三, 客服部", "utf-8")
    parsed = parse_message(
        mail(f"From: {name} <zhangsan@example.cn>", "To: kefu@shop.cn, 李四 <lisi@shop.cn>")
    )
    assert parsed.from_ == Address(name="张三, 客服部", email="zhangsan@example.cn")
    assert parsed.to == (
        Address(name="", email="kefu@shop.cn"),
        Address(name="李四", email="lisi@shop.cn"),
    )


def test_raw_gbk_display_name_is_decoded():
    parsed = parse_message(mail('From: "王五" <wangwu@example.cn>'.encode("gbk")))
    assert parsed.from_ == Address(name="王五", email="wangwu@example.cn")


def test_cc_and_reply_to_are_parsed():
    parsed = parse_message(
        mail(
            "From: a@example.cn",
            "Cc: B <b@example.cn>, c@example.cn",
            "Reply-To: Service <service@example.cn>",
        )
    )
    assert parsed.cc == (Address(name="B", email="b@example.cn"), Address("", "c@example.cn"))
    assert parsed.reply_to == (Address(name="Service", email="service@example.cn"),)


def test_sender_header_stands_in_for_a_missing_from():
    parsed = parse_message(mail("Sender: Shop <shop@example.cn>", "Subject: x", body="hi"))
    assert parsed.from_ == Address(name="Shop", email="shop@example.cn")
    assert parsed.refusal_reason == ""
    assert parsed.errors == ("no usable From header; sender taken from Sender",)


def test_date_becomes_an_aware_datetime():
    parsed = parse_message(mail("From: a@example.cn", "Date: Sun, 22 Nov 2026 10:05:00 +0800"))
    assert parsed.date == datetime(2026, 11, 22, 10, 5, tzinfo=timezone(timedelta(hours=8)))


def test_date_without_zone_is_taken_as_utc():
    parsed = parse_message(mail("From: a@example.cn", "Date: Sun, 22 Nov 2026 10:05:00 -0000"))
    assert parsed.date == datetime(2026, 11, 22, 10, 5, tzinfo=UTC)


def test_unparseable_date_is_none_with_a_note():
    parsed = parse_message(mail("From: a@example.cn", "Date: 下周一", body="hi"))
    assert parsed.date is None
    assert parsed.errors == ("unparseable Date header: 下周一",)


def test_rfc2231_utf8_filename_is_decoded():
    value = parse_parameterised(
        "attachment; filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf", where="Content-Disposition"
    )
    assert (value.value, value.params) == ("attachment", {"filename": "发票.pdf"})


def test_rfc2231_continuations_are_joined_in_order():
    value = parse_parameterised(
        "attachment;\r\n filename*1*=%E7%A5%A8.pdf;\r\n filename*0*=UTF-8'zh'%E5%8F%91",
        where="Content-Disposition",
    )
    assert value.params == {"filename": "发票.pdf"}


def test_rfc2231_gbk_filename_is_decoded_as_gb18030():
    encoded = "".join(f"%{byte:02X}" for byte in "退货单.xlsx".encode("gbk"))
    value = parse_parameterised(f"attachment; filename*=GBK''{encoded}", where="x")
    assert value.params == {"filename": "退货单.xlsx"}


def test_rfc2231_value_wins_over_the_plain_fallback():
    value = parse_parameterised(
        "attachment; filename=\"fa piao.pdf\"; filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf",
        where="x",
    )
    assert value.params == {"filename": "发票.pdf"}


def test_encoded_word_inside_a_quoted_filename_is_decoded():
    # Foxmail and older Outlook write this; RFC 2047 forbids it, every client accepts it.
    value = parse_parameterised(
        f'attachment; filename="{encoded_word("照片.jpg", "gbk")}"', where="x"
    )
    assert value.params == {"filename": "照片.jpg"}


def test_raw_8bit_gbk_filename_is_decoded():
    raw = 'attachment; filename="售后.docx"'.encode("gbk").decode("ascii", "surrogateescape")
    value = parse_parameterised(raw, where="x")
    assert value.params == {"filename": "售后.docx"}


def test_message_ids_lose_their_angle_brackets_and_references_keep_their_order():
    parsed = parse_message(
        mail(
            "From: a@example.cn",
            "Message-ID: <new@example.cn>",
            "In-Reply-To: <b@kefu.example> (sent by Kefu)",
            "References: <first@kefu.example>\r\n <a@example.cn>\r\n\t<b@kefu.example>",
        )
    )
    assert parsed.message_id == "new@example.cn"
    assert parsed.in_reply_to == "b@kefu.example"
    assert parsed.references == ("first@kefu.example", "a@example.cn", "b@kefu.example")
