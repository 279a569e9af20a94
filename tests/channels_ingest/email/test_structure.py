"""MIME structure: alternatives, HTML-only mail, inline images, attachments, attached
messages, the size limit, and input too broken to be a mail."""

import base64
import hashlib
import os
from pathlib import Path

from channels_ingest.email import parse_message
from tests.channels_ingest.email.raw import base64_lines, mail

MESSAGES = Path(__file__).parent / "messages"


def multipart(kind: str, *parts: bytes, boundary: str = "BOUNDARY") -> bytes:
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return (
        f'Content-Type: multipart/{kind}; boundary="{boundary}"\r\n\r\n'.encode()
        + body
        + b"--"
        + boundary.encode()
        + b"--\r\n"
    )


def part(content_type: str, body: bytes, *headers: str) -> bytes:
    lines = [f"Content-Type: {content_type}", *headers]
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + body


def message_with(body_part: bytes) -> bytes:
    head, _, body = body_part.partition(b"\r\n\r\n")
    return mail("From: 客户 <customer@example.cn>", "MIME-Version: 1.0", head, body=body)


def test_text_and_html_alternatives_give_text_from_the_plain_part_and_sanitised_html():
    raw = message_with(
        multipart(
            "alternative",
            part("text/plain; charset=utf-8", "纯文本版本".encode()),
            part("text/html; charset=utf-8", "<p onclick='x()'>网页版本</p>".encode()),
        )
    )
    parsed = parse_message(raw)
    assert parsed.text == "纯文本版本"
    assert parsed.html == "<p>网页版本</p>"


def test_html_only_mail_becomes_readable_text_and_sanitised_html():
    parsed = parse_message((MESSAGES / "outlook_html_only.eml").read_bytes())
    assert parsed.text == (
        "您好：\n\n收到的榴莲有一半是坏的，见下图。\n\n[坏果照片]\n\n"
        "- 订单号 88123\n- 下单日期 11月20日\n\n"
        "请看 订单详情 (https://shop.example/orders/88123)。"
    )
    assert "<script" not in parsed.html
    assert "alert" not in parsed.html
    assert "onerror" not in parsed.html
    assert "color:red" not in parsed.html
    assert '<img src="cid:part1.photo@outlook.example" alt="坏果照片">' in parsed.html


def test_inline_cid_image_is_kept_with_the_message_as_an_inline_attachment():
    parsed = parse_message((MESSAGES / "outlook_html_only.eml").read_bytes())
    image = parsed.attachments[0]
    expected = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")
    expected += b"kefu-test-image"
    assert (image.filename, image.content_type, image.content_id, image.is_inline) == (
        "image001.png",
        "image/png",
        "part1.photo@outlook.example",
        True,
    )
    assert image.data == expected
    assert image.md5 == hashlib.md5(expected, usedforsecurity=False).hexdigest()
    assert image.sha256 == hashlib.sha256(expected).hexdigest()


def test_attachment_with_gbk_rfc2231_continued_filename_is_named_and_not_inline():
    parsed = parse_message((MESSAGES / "outlook_html_only.eml").read_bytes())
    attachment = parsed.attachments[1]
    assert (attachment.filename, attachment.is_inline, attachment.size) == (
        "退货照片.png",
        False,
        51,
    )


def test_attachment_records_filename_type_size_and_checksums():
    data = os.urandom(3000)
    raw = message_with(
        multipart(
            "mixed",
            part("text/plain; charset=utf-8", "见附件".encode()),
            part(
                "application/pdf",
                base64_lines(data),
                'Content-Disposition: attachment; filename="=?utf-8?B?5Y+R56WoLnBkZg==?="',
                "Content-Transfer-Encoding: base64",
            ),
        )
    )
    parsed = parse_message(raw)
    assert parsed.text == "见附件"
    [attachment] = parsed.attachments
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "发票.pdf",
        "application/pdf",
        3000,
    )
    assert attachment.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.data == data
    assert attachment.refused_reason == ""


def test_attachment_filename_loses_directories_and_unsafe_characters():
    raw = message_with(
        multipart(
            "mixed",
            part("text/plain", b"x"),
            part(
                "application/octet-stream",
                b"data",
                "Content-Disposition: attachment;"
                ' filename="..\\\\..\\\\C:\\\\Users\\\\a\\\\x<1>.txt"',
            ),
        )
    )
    assert [a.filename for a in parse_message(raw).attachments] == ["x_1_.txt"]


def test_attachment_without_a_name_gets_one_from_its_type():
    raw = message_with(
        multipart("mixed", part("text/plain", b"x"), part("application/pdf", b"%PDF-1.4"))
    )
    assert [a.filename for a in parse_message(raw).attachments] == ["attachment-1.pdf"]


def test_attached_message_is_an_attachment_with_the_md5_of_its_bytes():
    attached = mail(
        "From: shop@example.cn", "Subject: =?utf-8?B?6K6i5Y2V56Gu6K6k?=", body="order confirmed"
    )
    raw = message_with(
        multipart(
            "mixed",
            part("text/plain", b"see the forwarded mail"),
            part("message/rfc822", attached),
        )
    )
    parsed = parse_message(raw)
    [attachment] = parsed.attachments
    assert (attachment.filename, attachment.content_type) == ("订单确认.eml", "message/rfc822")
    assert attachment.data == attached
    assert attachment.md5 == hashlib.md5(attached, usedforsecurity=False).hexdigest()


def test_base64_encoded_attached_message_is_decoded_before_it_is_stored():
    attached = mail("From: shop@example.cn", "Subject: inner", body="inner body")
    raw = message_with(
        multipart(
            "mixed",
            part("text/plain", b"outer"),
            part("message/rfc822", base64_lines(attached), "Content-Transfer-Encoding: base64"),
        )
    )
    [attachment] = parse_message(raw).attachments
    assert (attachment.filename, attachment.data) == ("inner.eml", attached)


def test_attachment_over_the_limit_is_refused_with_a_note_and_the_mail_still_parses():
    data = os.urandom(30 * 1024 * 1024)
    raw = message_with(
        multipart(
            "mixed",
            part("text/plain; charset=utf-8", "大文件".encode()),
            part(
                "application/zip",
                base64.encodebytes(data),
                'Content-Disposition: attachment; filename="photos.zip"',
                "Content-Transfer-Encoding: base64",
            ),
        )
    )
    parsed = parse_message(raw)
    assert parsed.text == "大文件"
    assert parsed.refusal_reason == ""
    [attachment] = parsed.attachments
    assert (attachment.filename, attachment.size, attachment.data) == (
        "photos.zip",
        31457280,
        None,
    )
    assert attachment.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert attachment.refused_reason == "31457280 bytes over the 26214400 limit"
    assert parsed.errors == (
        "attachment photos.zip refused: 31457280 bytes over the 26214400 limit",
    )


def test_attachment_limit_is_configurable():
    raw = message_with(
        multipart("mixed", part("text/plain", b"x"), part("application/pdf", b"12345678901"))
    )
    parsed = parse_message(raw, max_attachment_bytes=10)
    assert [(a.data, a.refused_reason) for a in parsed.attachments] == [
        (None, "11 bytes over the 10 limit")
    ]


def test_mail_with_no_text_part_keeps_its_attachment_and_says_it_has_no_body():
    raw = message_with(
        multipart("mixed", part("image/jpeg", b"\xff\xd8jpeg", "Content-Disposition: attachment"))
    )
    parsed = parse_message(raw)
    assert parsed.text == ""
    assert [a.content_type for a in parsed.attachments] == ["image/jpeg"]
    assert parsed.refusal_reason == ""
    assert parsed.errors == ("no text or HTML body",)


def test_empty_body_is_noted():
    parsed = parse_message(mail("From: a@example.cn", "Subject: 空", body=b"\r\n\r\n"))
    assert (parsed.subject, parsed.text, parsed.errors) == ("空", "", ("empty body",))


def test_inline_text_parts_with_filenames_become_the_body_when_there_is_no_other():
    raw = message_with(
        multipart(
            "mixed",
            part("text/plain", b"first", 'Content-Disposition: inline; filename="a.txt"'),
            part("text/plain", b"second", 'Content-Disposition: inline; filename="b.txt"'),
        )
    )
    parsed = parse_message(raw)
    assert parsed.text == "first\n\nsecond"
    assert [a.filename for a in parsed.attachments] == ["a.txt", "b.txt"]


def test_multipart_whose_declared_boundary_is_wrong_is_split_on_the_real_one():
    body = b"--real\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + "正文".encode()
    body += b"\r\n--real\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--real--\r\n"
    raw = mail(
        "From: a@example.cn",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="declared"',
        body=body,
    )
    parsed = parse_message(raw)
    assert parsed.text == "正文"
    assert [a.content_type for a in parsed.attachments] == ["application/pdf"]
    assert parsed.errors == (
        "StartBoundaryNotFoundDefect in part 1",
        "MultipartInvariantViolationDefect in part 1",
        "multipart/mixed part 1: declared boundary not found; split on the one the body uses",
    )


def test_multipart_without_any_boundary_is_shown_as_text_with_a_note():
    raw = mail(
        "From: a@example.cn",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed",
        body="没有分隔线的正文".encode(),
    )
    parsed = parse_message(raw)
    assert parsed.text == "没有分隔线的正文"
    assert parsed.errors[-1] == (
        "multipart/mixed part 1: no boundary found; its content is shown as plain text"
    )


def test_unclosed_multipart_keeps_its_parts_and_notes_the_defect():
    raw = mail(
        "From: a@example.cn",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b"',
        body=b"--b\r\nContent-Type: text/plain\r\n\r\ntruncated mail\r\n",
    )
    parsed = parse_message(raw)
    assert parsed.text == "truncated mail"
    assert parsed.errors == ("CloseBoundaryNotFoundDefect in part 1",)


def test_empty_input_is_refused():
    parsed = parse_message(b"")
    assert (parsed.refusal_reason, parsed.errors) == ("empty input", ("empty input",))


def test_whitespace_only_input_is_refused():
    assert parse_message(b" \r\n\r\n\t").refusal_reason == "empty input"


def test_garbage_input_is_refused_for_want_of_a_sender_and_says_why():
    garbage = bytes(range(256)) * 40 + os.urandom(2048)
    parsed = parse_message(garbage)
    assert parsed.refusal_reason == "no sender address"
    assert parsed.errors[0] == "no mail headers found"


def nested_multiparts(depth: int) -> bytes:
    body = b"".join(
        f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n'.encode()
        for i in range(depth)
    )
    return mail(
        "From: a@example.cn",
        "Subject: deep",
        'Content-Type: multipart/mixed; boundary="b0"',
        body=body + b"x",
    )


def test_parts_nested_beyond_forty_levels_are_left_out_with_a_note():
    parsed = parse_message(nested_multiparts(300))
    assert (parsed.from_.email, parsed.subject) == ("a@example.cn", "deep")
    assert parsed.errors[-2:] == (
        f"part {'.'.join(['1'] * 42)} nested over 40 levels deep; not shown",
        "no text or HTML body",
    )


def test_nesting_that_defeats_the_stdlib_parser_still_yields_headers_and_raw_text():
    parsed = parse_message(nested_multiparts(2000))
    assert (parsed.from_.email, parsed.subject) == ("a@example.cn", "deep")
    assert parsed.text.startswith('--b0\nContent-Type: multipart/mixed; boundary="b1"')
    assert parsed.errors[0].startswith("could not parse the MIME structure (RecursionError")
    assert parsed.errors[0].endswith("; the body is shown as raw text")


def test_nul_bytes_never_reach_the_text():
    parsed = parse_message(mail("From: a@example.cn", "Subject: a\x00b", body=b"c\x00d"))
    assert (parsed.subject, parsed.text) == ("ab", "cd")


def test_content_type_that_crashes_the_stdlib_header_parser_is_parsed_leniently():
    # "name*0*" without a value raises IndexError inside email._header_value_parser.
    raw = mail(
        "From: a@example.cn",
        "Content-Type: text/plain; charset=utf-8; name*0*",
        body="正文".encode(),
    )
    parsed = parse_message(raw)
    assert parsed.text == "正文"
    assert parsed.errors == (
        "headers too malformed for the default email policy; parsed with compat32",
    )


def test_blank_text_alternative_beside_html_gives_text_from_the_html():
    raw = message_with(
        multipart(
            "alternative",
            part("text/plain; charset=utf-8", b"\r\n"),
            part("text/html; charset=utf-8", "<p>只有网页版有内容</p>".encode()),
        )
    )
    assert parse_message(raw).text == "只有网页版有内容"


def test_html_charset_is_taken_from_its_meta_tag_when_the_header_has_none():
    html = '<html><head><meta charset="gbk"></head><body>退款</body></html>'.encode("gbk")
    parsed = parse_message(message_with(part("text/html", html)))
    assert parsed.text == "退款"


def test_format_flowed_lines_are_joined_into_paragraphs():
    body = b"This line is wrapped \r\nby the mailer.\r\n> quoted and \r\n> wrapped\r\n-- \r\nsig"
    parsed = parse_message(message_with(part("text/plain; charset=utf-8; format=flowed", body)))
    assert parsed.text == "This line is wrapped by the mailer.\n> quoted and wrapped\n-- \nsig"


def test_format_flowed_with_delsp_removes_the_wrapping_space():
    body = "您好，这是一段很长的 \r\n中文段落。".encode()
    content_type = "text/plain; charset=utf-8; format=flowed; delsp=yes"
    assert (
        parse_message(message_with(part(content_type, body))).text
        == "您好，这是一段很长的中文段落。"
    )
