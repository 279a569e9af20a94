"""The redelivery key of a raw mail: its Message-ID as the header object reads it, or a
digest of the bytes when it has none."""

import hashlib
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

import pytest

from channels_ingest.email.ingest import provider_id_for
from tests.channels_ingest.email.raw import mail


def _as_header_object_reads_it(raw: bytes) -> str:
    head = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    headers = BytesHeaderParser(policy=default_policy).parsebytes(head)
    try:
        return str(headers.get("Message-ID", "") or "").strip().strip("<>").strip()
    except Exception:  # the standard library raises on some values ("<>")
        return ""


@pytest.mark.parametrize(
    "value",
    [
        "<abc.123@mail.example.cn>",
        "<abc.123@mail.example.cn>   ",
        "  <a+b=c?d@example.cn>",
        "<abc@example.cn> (a comment)",
        "<abc(not a comment)@example.cn>",
        '<"quoted local"@example.cn>',
        "<=?utf-8?q?abc?=@example.cn>",
        "abc@example.cn",
        "<abc@example.cn> <second@example.cn>",
        "<a@b@c>",
        "<..a..@b.>",
        "<>",
    ],
)
def test_the_key_is_the_message_id_as_the_parsed_header_reads_it(value: str) -> None:
    raw = mail("From: a@example.cn", f"Message-ID: {value}", body=b"hi")
    expected = _as_header_object_reads_it(raw)
    assert provider_id_for(raw) == (expected or "sha256:" + hashlib.sha256(raw).hexdigest())


def test_a_folded_or_8bit_message_id_reads_as_before() -> None:
    folded = mail("From: a@example.cn", "Message-ID:\r\n <folded@example.cn>", body=b"x")
    assert provider_id_for(folded) == "folded@example.cn"
    raw_8bit = mail("From: a@example.cn", "Message-ID: <订单@example.cn>", body=b"x")
    assert provider_id_for(raw_8bit) == _as_header_object_reads_it(raw_8bit)


def test_a_mail_without_message_id_is_keyed_by_its_bytes() -> None:
    raw = mail("From: a@example.cn", "Subject: hi", body=b"x")
    assert provider_id_for(raw) == "sha256:" + hashlib.sha256(raw).hexdigest()
