"""Mail damaged the ways mail is damaged in the wild: the subject, the sender and the body are
still recovered, exactly, with a note saying what was repaired."""

import pytest

from channels_ingest.email import parse_message
from channels_ingest.email.charsets import decode_text
from tests.channels_ingest.email import damaged
from tests.channels_ingest.email.raw import mail


def recovered(raw: bytes) -> tuple[str, str, str, str]:
    parsed = parse_message(raw)
    return parsed.subject, parsed.from_.name, parsed.from_.email, parsed.text


def expected(case: damaged.Damaged) -> tuple[str, str, str, str]:
    return case.subject, case.sender_name, case.sender_email, case.body


def test_a_folded_header_line_that_lost_its_whitespace_does_not_end_the_headers():
    case = damaged.lost_fold()

    parsed = parse_message(case.raw)

    assert recovered(case.raw) == expected(case)
    assert parsed.errors == ("header line without leading whitespace read as part of Subject",)
    assert parsed.date is not None and parsed.date.isoformat() == "2026-11-23T10:00:00+08:00"


@pytest.mark.parametrize(
    ("prefix", "note"),
    [
        (
            b"Received from relay-3 queue 8812 accepted\r\n",
            "text before the first header skipped: 'Received from relay-3 queue 8812 accepted'",
        ),
        (b"\r\n", "blank lines before the first header skipped"),
    ],
)
def test_text_before_the_first_header_is_skipped(prefix, note):
    case = damaged.text_before_headers(prefix)

    parsed = parse_message(case.raw)

    assert recovered(case.raw) == expected(case)
    assert parsed.errors == (note,)


def test_a_body_without_the_blank_line_is_still_body_not_headers():
    raw = b"Subject: hi\r\nFrom: a@example.com\r\nHello team\r\nNote: the box was open\r\n"

    parsed = parse_message(raw)

    assert (parsed.subject, parsed.from_.email) == ("hi", "a@example.com")
    assert parsed.text == "Hello team\nNote: the box was open"


def test_a_mail_without_any_header_block_is_left_as_it_is():
    raw = b"This is a simple message not having headers.\r\nFrom: nobody, really\r\n"

    parsed = parse_message(raw)

    assert parsed.subject == ""
    assert parsed.text == "This is a simple message not having headers.\nFrom: nobody, really"


def test_iso_2022_jp_label_on_shift_jis_bytes_is_read_as_shift_jis():
    case = damaged.iso_2022_jp_holding_shift_jis()

    parsed = parse_message(case.raw)

    assert recovered(case.raw) == expected(case)
    assert parsed.errors == tuple(
        f"{where} declared charset iso-2022-jp does not fit its bytes; decoded as cp932"
        for where in ("From header", "Subject header", "text/plain part 1")
    )


@pytest.mark.parametrize(
    ("label", "codec"),
    [("iso-8859-1", "utf-8"), ("iso-8859-1", "gbk"), ("latin1", "gb2312"), ("us-ascii", "gbk")],
)
def test_a_single_byte_label_on_utf8_or_gbk_text_is_not_believed(label, codec):
    case = damaged.single_byte_label_holding(label=label, codec=codec)

    parsed = parse_message(case.raw)

    assert recovered(case.raw) == expected(case)
    shown = "utf-8" if codec == "utf-8" else "gb18030"
    assert parsed.errors == tuple(
        f"{where} declared charset {label} does not fit its bytes; decoded as {shown}"
        for where in ("From header", "Subject header", "text/plain part 1")
    )


@pytest.mark.parametrize(
    ("subject", "text", "codec"),
    [
        ("Pedido número 42", "El pedido llegó roto, ¿pueden enviar otro? Gracias.", "cp1252"),
        ("Grüße aus München", "Die Tüte war beschädigt.", "cp1252"),
        ("Где мой заказ", "Заказ не пришёл. Спасибо", "cp1251"),
        (damaged.JAPANESE_SUBJECT, damaged.JAPANESE_BODY, "cp932"),
        (damaged.JAPANESE_SUBJECT, damaged.JAPANESE_BODY, "euc_jp"),
    ],
)
def test_undeclared_8bit_text_is_detected(subject, text, codec):
    case = damaged.undeclared_8bit(subject=subject, text=text, codec=codec)

    assert recovered(case.raw) == expected(case)
    assert parse_message(case.raw).errors == ()  # undeclared 8-bit text is no defect


def test_the_only_text_sent_as_a_7bit_attachment_is_the_body_and_stays_attached():
    case = damaged.text_sent_as_attachment()

    parsed = parse_message(case.raw)

    assert recovered(case.raw) == expected(case)
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("message.txt", "text/plain")
    ]
    assert parsed.errors == (
        "the only text of the mail was sent as an attachment (text/plain attachment message.txt)",
    )


def test_a_base64_text_file_beside_an_empty_body_stays_a_file():
    raw = mail(
        "From: a@example.com",
        "Subject: invoice",
        'Content-Type: multipart/mixed; boundary="b"',
        body=(
            b"--b\r\nContent-Type: text/plain\r\n\r\n\r\n"
            b"--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n"
            b'Content-Disposition: attachment; filename="invoice.csv"\r\n\r\n'
            b"YSxiLGMK\r\n--b--\r\n"
        ),
    )

    parsed = parse_message(raw)

    assert parsed.text == ""
    assert [a.filename for a in parsed.attachments] == ["invoice.csv"]


@pytest.mark.parametrize("with_empty_text_part", [True, False])
def test_a_forward_as_attachment_without_a_word_shows_the_forwarded_text(with_empty_text_part):
    case = damaged.forwarded_without_a_word(with_empty_text_part=with_empty_text_part)

    parsed = parse_message(case.raw)

    assert recovered(case.raw) == expected(case)
    # The forwarded mail itself stays attached whole: its sender and subject are there.
    (attachment,) = parsed.attachments
    assert (attachment.filename, attachment.content_type) == ("forwarded.eml", "message/rfc822")
    inner = parse_message(attachment.data or b"")
    assert (inner.subject, inner.from_.name, inner.from_.email, inner.text) == (
        damaged.INNER_SUBJECT,
        "李四",
        "li.si@example.cn",
        damaged.INNER_BODY,
    )
    assert parsed.errors == (
        "empty body; the text of the attached message 'forwarded.eml' is shown",
    )


def test_a_forward_with_a_comment_keeps_the_comment_as_the_body():
    empty_part = b"Content-Type: text/plain; charset=utf-8\r\n\r\n\r\n"
    raw = damaged.forwarded_without_a_word(with_empty_text_part=True).raw.replace(
        empty_part, empty_part[:-2] + "请看下面这封邮件\r\n".encode()
    )

    parsed = parse_message(raw)

    assert parsed.text == "请看下面这封邮件"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Grüße, Herr Müller. Café au lait, s'il vous plaît.", "iso-8859-1"),
        ("ÀÉÎÕÜ ÇÑ", "latin1"),
    ],
)
def test_real_latin1_under_a_latin1_label_stays_latin1(text, label):
    decoded = decode_text(text.encode("latin-1"), declared=label)

    assert (decoded.text, decoded.note) == (text, "")


@pytest.mark.parametrize(
    ("text", "label", "codec"),
    [
        ("朱镕基的订单", "gb2312", "gbk"),
        ("您好，订单还没收到", "gbk", "gbk"),
        ("生僻字𠀀", "gb18030", "gb18030"),
        ("請問我的訂單什麼時候發貨", "big5", "big5"),
    ],
)
def test_chinese_labels_keep_decoding_without_a_note(text, label, codec):
    decoded = decode_text(text.encode(codec), declared=label)

    assert (decoded.text, decoded.note) == (text, "")


@pytest.mark.parametrize(
    ("text", "label", "codec"),
    [
        ("Список.doc", "koi8-r", "koi8_r"),
        ("Заказ не пришёл, верните деньги", "windows-1251", "cp1251"),
        ("Žluťoučký kůň úpěl", "iso-8859-2", "iso8859_2"),
    ],
)
def test_text_under_its_own_non_western_label_is_not_taken_for_chinese(text, label, codec):
    # All-8-bit alphabets pair up into valid (often common) GBK; only UTF-8 is believed there.
    decoded = decode_text(text.encode(codec), declared=label)

    assert (decoded.text, decoded.note) == (text, "")
