"""Body text in every charset a Chinese retailer's mailbox meets, and the fallbacks."""

import pytest

from channels_ingest.email import parse_message
from channels_ingest.email.charsets import decode_text
from tests.channels_ingest.email.raw import mail

SIMPLIFIED = "您好，订单还没收到，请尽快处理退款。谢谢！"
TRADITIONAL = "請問我的訂單什麼時候發貨？退貨流程是怎樣的"


def plain_mail(body: bytes, charset: str | None) -> bytes:
    content_type = f"text/plain; charset={charset}" if charset else "text/plain"
    return mail(
        "From: 张三 <zhangsan@example.cn>",
        "Subject: test",
        "MIME-Version: 1.0",
        f"Content-Type: {content_type}",
        "Content-Transfer-Encoding: 8bit",
        body=body,
    )


def test_gb2312_is_decoded_as_gb18030_so_characters_outside_gb2312_survive():
    # 镕 is GBK, not GB2312; Chinese mailers label such text gb2312 all the same.
    text = "朱镕基的订单"
    parsed = parse_message(plain_mail(text.encode("gbk"), "gb2312"))
    assert parsed.text == text
    assert parsed.errors == ()


@pytest.mark.parametrize("label", ["gbk", "GBK", "x-gbk", "cp936", "gb18030", '"gb2312"'])
def test_every_gbk_label_decodes_chinese_text(label):
    parsed = parse_message(plain_mail(SIMPLIFIED.encode("gb18030"), label))
    assert parsed.text == SIMPLIFIED
    assert parsed.errors == ()


def test_gb18030_four_byte_characters_decode():
    text = "生僻字𠀀"
    parsed = parse_message(plain_mail(text.encode("gb18030"), "gb2312"))
    assert parsed.text == text


def test_big5_decodes_traditional_chinese():
    parsed = parse_message(plain_mail(TRADITIONAL.encode("big5"), "big5"))
    assert parsed.text == TRADITIONAL
    assert parsed.errors == ()


def test_big5_label_accepts_hong_kong_characters():
    text = "呢個嘅價錢"  # 嘅 exists only in Big5-HKSCS
    parsed = parse_message(plain_mail(text.encode("big5hkscs"), "big5"))
    assert parsed.text == text


def test_iso_2022_jp_decodes_japanese():
    text = "ご注文ありがとうございます"
    parsed = parse_message(
        mail(
            "From: supplier@example.jp",
            "Content-Type: text/plain; charset=ISO-2022-JP",
            "Content-Transfer-Encoding: 7bit",
            body=text.encode("iso2022_jp"),
        )
    )
    assert parsed.text == text


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("windows-1252", "“Café” costs €5"),
        ("windows-1251", "Привет, заказ"),
        ("windows-1250", "Žluťoučký kůň"),
    ],
)
def test_windows_code_pages_decode(label, text):
    parsed = parse_message(plain_mail(text.encode(label), label))
    assert parsed.text == text


def test_latin1_label_is_read_as_windows_1252_like_browsers_do():
    parsed = parse_message(plain_mail("“quoted” €".encode("cp1252"), "iso-8859-1"))
    assert parsed.text == "“quoted” €"


def test_unknown_charset_with_utf8_bytes_is_decoded_as_utf8_with_a_note():
    parsed = parse_message(plain_mail(SIMPLIFIED.encode("utf-8"), "x-foo"))
    assert parsed.text == SIMPLIFIED
    assert parsed.errors == ("unknown charset x-foo in text/plain part 1; decoded as utf-8",)


def test_unknown_charset_with_gbk_bytes_is_guessed_as_gb18030():
    parsed = parse_message(plain_mail(SIMPLIFIED.encode("gbk"), "x-foo"))
    assert parsed.text == SIMPLIFIED
    assert parsed.errors == ("unknown charset x-foo in text/plain part 1; decoded as gb18030",)


def test_utf8_label_on_gbk_bytes_falls_back_to_gb18030_with_a_note():
    parsed = parse_message(plain_mail(SIMPLIFIED.encode("gbk"), "utf-8"))
    assert parsed.text == SIMPLIFIED
    assert parsed.errors == (
        "text/plain part 1 declared charset utf-8 does not fit its bytes; decoded as gb18030",
    )


def test_undeclared_big5_bytes_are_recognised_as_big5():
    parsed = parse_message(plain_mail(TRADITIONAL.encode("big5"), None))
    assert parsed.text == TRADITIONAL
    assert parsed.errors == ()


def test_undeclared_gbk_bytes_are_recognised_as_gb18030():
    parsed = parse_message(plain_mail(SIMPLIFIED.encode("gbk"), None))
    assert parsed.text == SIMPLIFIED


def test_utf8_under_an_ascii_label_is_decoded_without_a_note():
    parsed = parse_message(plain_mail("Grüße".encode(), "us-ascii"))
    assert parsed.text == "Grüße"
    assert parsed.errors == ()


def test_bytes_no_charset_can_read_become_replacement_characters_with_a_note():
    parsed = parse_message(plain_mail(b"ok \xff\xfe\xff end", "utf-8"))
    assert parsed.text == "ok \ufffd\ufffd\ufffd end"
    assert parsed.errors == (
        "undecodable bytes in text/plain part 1; decoded as UTF-8 with replacement characters",
    )


def test_unknown_charset_that_nothing_decodes_says_so():
    decoded = decode_text(b"\xff\xff", declared="x-foo", where="Subject header")
    assert decoded.text == "\ufffd\ufffd"
    assert decoded.note == (
        "unknown charset x-foo in Subject header; decoded as UTF-8 with replacement characters"
    )


def test_decode_text_reports_the_codec_it_used():
    decoded = decode_text("退款".encode("gbk"), declared="gb2312")
    assert (decoded.text, decoded.charset, decoded.note) == ("退款", "gb18030", "")
