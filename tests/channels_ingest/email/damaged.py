"""A corpus of damaged mail, composed here byte by byte: each builder returns the raw bytes
of one kind of damage seen in the wild, and what a reader should still recover from it."""

import base64
from dataclasses import dataclass

from tests.channels_ingest.email.raw import encoded_word, mail


@dataclass(frozen=True)
class Damaged:
    raw: bytes
    subject: str
    sender_name: str
    sender_email: str
    body: str


SUBJECT_ZH = "关于订单 20261122 的退款申请，请尽快处理"
BODY_ZH = "您好，我买的榴莲到货时已经坏了，请尽快退款。谢谢！"


def lost_fold() -> Damaged:
    """A long subject folded into two encoded words, where a gateway stripped the leading
    space of the second line; From, Date and Content-Type come after it."""
    first, second = SUBJECT_ZH[:9], SUBJECT_ZH[9:]
    raw = mail(
        "Received: from mx.example.cn by mail.kefu.example; Mon, 23 Nov 2026 10:00:00 +0800",
        f"Subject: {encoded_word(first, 'utf-8')}",
        encoded_word(second, "utf-8"),  # was " =?utf-8?B?…?=" before the gateway
        "From: =?utf-8?B?5byg5Lyf?= <zhang.wei@example.cn>",
        "To: support@kefu.example",
        "Date: Mon, 23 Nov 2026 10:00:00 +0800",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=gbk",
        "Content-Transfer-Encoding: 8bit",
        body=BODY_ZH.encode("gbk"),
    )
    return Damaged(raw, SUBJECT_ZH, "张伟", "zhang.wei@example.cn", BODY_ZH)


def text_before_headers(prefix: bytes) -> Damaged:
    """A relay's log line (or a stray blank line) written before the first header."""
    raw = prefix + mail(
        "From: Li Na <li.na@example.cn>",
        "To: support@kefu.example",
        "Subject: =?gb2312?B?" + base64.b64encode("快递丢件".encode("gb2312")).decode() + "?=",
        "Date: Mon, 23 Nov 2026 10:00:00 +0800",
        "Content-Type: text/plain; charset=utf-8",
        body="快递显示已签收，但我没有收到。",
    )
    return Damaged(raw, "快递丢件", "Li Na", "li.na@example.cn", "快递显示已签收，但我没有收到。")


JAPANESE_SUBJECT = "ご注文の件"
JAPANESE_BODY = "ご注文の商品がまだ届きません。至急ご確認ください。"


def iso_2022_jp_holding_shift_jis() -> Damaged:
    """A Japanese supplier's mailer labels its Shift_JIS text (body and encoded words) with
    the 7-bit ISO-2022-JP it should have used."""
    subject = base64.b64encode(JAPANESE_SUBJECT.encode("cp932")).decode()
    name = base64.b64encode("山田太郎".encode("cp932")).decode()
    raw = mail(
        f"From: =?ISO-2022-JP?B?{name}?= <yamada@example.jp>",
        "To: support@kefu.example",
        f"Subject: =?ISO-2022-JP?B?{subject}?=",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=ISO-2022-JP",
        "Content-Transfer-Encoding: 7bit",
        body=JAPANESE_BODY.encode("cp932"),
    )
    return Damaged(raw, JAPANESE_SUBJECT, "山田太郎", "yamada@example.jp", JAPANESE_BODY)


def single_byte_label_holding(*, label: str, codec: str) -> Damaged:
    """A gateway stamps a Latin-1 (or US-ASCII) label on UTF-8 or GBK text, in the body and
    in the sender's encoded display name."""
    name = "王芳"
    raw = mail(
        f"From: {encoded_word(name, codec, encoding='Q', label=label)} <wang.fang@example.cn>",
        "To: support@kefu.example",
        f"Subject: {encoded_word('退货', codec, label=label)}",
        "MIME-Version: 1.0",
        f"Content-Type: text/plain; charset={label}",
        "Content-Transfer-Encoding: 8bit",
        body=BODY_ZH.encode(codec),
    )
    return Damaged(raw, "退货", name, "wang.fang@example.cn", BODY_ZH)


def undeclared_8bit(*, subject: str, text: str, codec: str) -> Damaged:
    """An 8-bit subject and body with no charset anywhere."""
    raw = mail(
        "From: customer@example.com",
        "To: support@kefu.example",
        b"Subject: " + subject.encode(codec),
        "Content-Transfer-Encoding: 8bit",
        body=text.encode(codec),
    )
    return Damaged(raw, subject, "", "customer@example.com", text)


def text_sent_as_attachment() -> Damaged:
    """The only text of the mail is a 7-bit text/plain part marked as an attachment (some
    web forms and phone mailers send what the customer typed that way)."""
    body = "Order 20261122-0042 arrived broken.\r\nPlease send a replacement.\r\n"
    raw = mail(
        "From: Chen Jie <chen.jie@example.com>",
        "To: support@kefu.example",
        "Subject: Broken cup",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="==b1=="',
        body=(
            "--==b1==\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n"
            "Content-Transfer-Encoding: 7bit\r\n"
            'Content-Disposition: attachment; filename="message.txt"\r\n'
            "\r\n" + body + "--==b1==--\r\n"
        ),
    )
    return Damaged(
        raw,
        "Broken cup",
        "Chen Jie",
        "chen.jie@example.com",
        "Order 20261122-0042 arrived broken.\nPlease send a replacement.",
    )


INNER_SUBJECT = "榴莲坏了"
INNER_BODY = "昨天收到的榴莲已经发霉，附上照片。"


def inner_message() -> bytes:
    return mail(
        "From: =?utf-8?B?5p2O5Zub?= <li.si@example.cn>",
        "To: shop@example.cn",
        f"Subject: {encoded_word(INNER_SUBJECT, 'utf-8')}",
        "Date: Sun, 22 Nov 2026 09:00:00 +0800",
        "Message-ID: <inner-1@example.cn>",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        body=INNER_BODY,
    )


def forwarded_without_a_word(*, with_empty_text_part: bool) -> Damaged:
    """A forward as attachment with nothing written around it: the outer body is an empty
    text part (or none at all) and a message/rfc822 part."""
    empty = "--outer\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\r\n"
    raw = mail(
        "From: Zhao Min <zhao.min@example.cn>",
        "To: support@kefu.example",
        f"Subject: {encoded_word('Fwd: ' + INNER_SUBJECT, 'utf-8')}",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="outer"',
        body=(
            (empty if with_empty_text_part else "").encode()
            + b"--outer\r\nContent-Type: message/rfc822\r\n"
            + b'Content-Disposition: attachment; filename="forwarded.eml"\r\n\r\n'
            + inner_message()
            + b"\r\n--outer--\r\n"
        ),
    )
    return Damaged(raw, "Fwd: " + INNER_SUBJECT, "Zhao Min", "zhao.min@example.cn", INNER_BODY)
