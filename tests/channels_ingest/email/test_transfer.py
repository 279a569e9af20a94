"""Transfer encodings: quoted-printable, base64 (also damaged), 8bit, uuencode."""

import binascii
import hashlib

from channels_ingest.email import parse_message
from channels_ingest.email.transfer import decode_base64, decode_quoted_printable
from tests.channels_ingest.email.raw import base64_lines, mail


def body_mail(body: bytes, *, encoding: str, charset: str = "utf-8") -> bytes:
    return mail(
        "From: a@example.cn",
        "MIME-Version: 1.0",
        f"Content-Type: text/plain; charset={charset}",
        f"Content-Transfer-Encoding: {encoding}",
        body=body,
    )


def test_quoted_printable_body_is_decoded():
    text = "退款已到账，谢谢"
    quoted = "".join(f"={byte:02X}" for byte in text.encode())
    # A soft line break ("=" at the end of a line) joins the lines.
    body = f"{quoted[:30]}=\r\n{quoted[30:]}\r\n".encode("ascii")
    assert parse_message(body_mail(body, encoding="quoted-printable")).text == text


def test_quoted_printable_hard_line_breaks_decode_as_crlf():
    assert decode_quoted_printable(b"a=3Db  \r\nc=\r\nd\n") == b"a=b\r\ncd\r\n"


def test_base64_body_is_decoded():
    text = "我的快递三天没更新了"
    parsed = parse_message(
        body_mail(base64_lines(text.encode("gbk")), encoding="base64", charset="gbk")
    )
    assert parsed.text == text


def test_8bit_body_is_taken_as_is():
    parsed = parse_message(body_mail("八位正文".encode(), encoding="8bit"))
    assert parsed.text == "八位正文"


def test_transfer_encoding_with_stray_space_and_capitals_is_still_understood():
    parsed = parse_message(body_mail(base64_lines("好的".encode()), encoding="Base64 "))
    assert parsed.text == "好的"


def test_base64_with_junk_characters_and_no_padding_is_decoded():
    decoded = decode_base64(b"5aW9\r\n5*5q\x84E\r\naGk\r\n")
    assert (decoded.data, decoded.note) == ("好的hi".encode(), "")


def test_base64_stops_at_a_mangled_boundary_line():
    decoded = decode_base64(b"aGVsbG8=\r\nXXXX--boundary--\r\n")
    assert (decoded.data, decoded.note) == (
        b"hello",
        "text after the end of the base64 data ignored",
    )


def test_base64_chunks_glued_together_are_all_decoded():
    assert decode_base64(b"aGVs\r\nbG8=\r\nd29y\r\nbGQ=\r\n").data == b"helloworld"


def test_base64_ending_in_a_stray_character_notes_it():
    decoded = decode_base64(b"aGVsbG8hQ")
    assert (decoded.data, decoded.note) == (
        b"hello!",
        "base64 data ends in a stray character; dropped",
    )


def test_uuencoded_block_in_a_text_body_becomes_an_attachment():
    data = bytes(range(256)) * 3
    lines = [b"begin 644 invoice.pdf"]
    lines += [binascii.b2a_uu(data[i : i + 45]).rstrip(b"\n") for i in range(0, len(data), 45)]
    lines += [b"`", b"end"]
    body = b"Please see the invoice.\r\n\r\n" + b"\r\n".join(lines) + b"\r\n\r\nThanks\r\n"
    parsed = parse_message(body_mail(body, encoding="7bit", charset="us-ascii"))
    assert parsed.text == "Please see the invoice.\n\n\n\nThanks"
    assert len(parsed.attachments) == 1
    attachment = parsed.attachments[0]
    assert (attachment.filename, attachment.content_type, attachment.data) == (
        "invoice.pdf",
        "application/pdf",
        data,
    )
    assert attachment.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_x_uuencode_part_is_decoded():
    data = b"uuencoded part content"
    encoded = b"begin 600 notes.txt\r\n" + binascii.b2a_uu(data) + b"`\r\nend\r\n"
    parsed = parse_message(
        mail(
            "From: a@example.cn",
            "MIME-Version: 1.0",
            'Content-Type: multipart/mixed; boundary="b"',
            body=b"--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--b\r\n"
            b"Content-Type: application/octet-stream; name=notes.txt\r\n"
            b"Content-Transfer-Encoding: x-uuencode\r\n\r\n" + encoded + b"--b--\r\n",
        )
    )
    assert [(a.filename, a.data) for a in parsed.attachments] == [("notes.txt", data)]
