"""The loop guard: which mail must never get an automatic acknowledgement; bounces."""

from pathlib import Path

import pytest

from channels_ingest.email import parse_message
from tests.channels_ingest.email.raw import mail

MESSAGES = Path(__file__).parent / "messages"


def customer_mail(*headers: str, sender: str = "张三 <zhangsan@example.cn>") -> bytes:
    return mail(
        f"From: {sender}", "Subject: 退款", "Message-ID: <m1@example.cn>", *headers, body="请退款"
    )


def test_ordinary_customer_mail_may_be_acknowledged():
    parsed = parse_message(customer_mail())
    assert (parsed.is_auto_generated, parsed.auto_reason, parsed.is_bounce) == (False, "", False)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Auto-Submitted: auto-replied", "Auto-Submitted: auto-replied"),
        ("Auto-Submitted: auto-generated; owner-email=x@y", "Auto-Submitted: auto-generated"),
        ("Precedence: bulk", "Precedence: bulk"),
        ("Precedence: junk", "Precedence: junk"),
        ("Precedence: List", "Precedence: list"),
        ("X-Auto-Response-Suppress: All", "X-Auto-Response-Suppress: All"),
        ("X-Autoreply: yes", "x-autoreply header present"),
        ("Return-Path: <>", "null Return-Path"),
    ],
)
def test_machine_markers_suppress_the_acknowledgement(header, reason):
    parsed = parse_message(customer_mail(header))
    assert (parsed.is_auto_generated, parsed.auto_reason) == (True, reason)


@pytest.mark.parametrize(
    "header", ["Auto-Submitted: no", "Precedence: first-class", "X-Auto-Response-Suppress: None"]
)
def test_markers_saying_a_human_sent_it_do_not_suppress(header):
    assert parse_message(customer_mail(header)).is_auto_generated is False


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.cn", "postmaster@example.cn"])
def test_mail_from_a_mailer_daemon_is_never_acknowledged(sender):
    parsed = parse_message(customer_mail(sender=sender))
    assert parsed.is_auto_generated is True
    assert parsed.auto_reason == f"sent by {sender.split('@')[0].lower()}"


def test_our_own_address_is_recognised():
    parsed = parse_message(
        customer_mail(sender="Kefu <Kefu@XianGuo.example>"),
        own_addresses=["kefu@xianguo.example"],
    )
    assert (parsed.is_auto_generated, parsed.auto_reason) == (True, "our own mail")


def test_a_whole_own_domain_is_recognised():
    parsed = parse_message(
        customer_mail(sender="notify@xianguo.example"), own_addresses=["@xianguo.example"]
    )
    assert parsed.auto_reason == "our own mail"


def test_our_own_message_id_domain_is_recognised_whatever_the_sender():
    raw = mail("From: someone@example.cn", "Message-ID: <k.20261122-00071.4@mail.xianguo.example>")
    parsed = parse_message(raw, own_message_id_domains=["mail.xianguo.example"])
    assert parsed.auto_reason == "our own mail"


def test_dsn_failure_is_a_bounce_of_our_message():
    parsed = parse_message((MESSAGES / "dsn_failed.eml").read_bytes())
    assert parsed.is_bounce is True
    assert parsed.bounced_message_id == "k.20261122-00071.4@xianguo.example"
    assert parsed.bounce_reason == "wrong.address@example.cn: 5.1.1 smtp; 550 5.1.1 user unknown"
    assert parsed.is_auto_generated is True


def test_delayed_dsn_is_not_a_bounce_but_is_never_acknowledged():
    raw = (MESSAGES / "dsn_failed.eml").read_bytes().replace(b"Action: failed", b"Action: delayed")
    raw = raw.replace(b"Auto-Submitted: auto-replied\r\n", b"").replace(b"Return-Path: <>\r\n", b"")
    raw = raw.replace(b"MAILER-DAEMON@", b"mta@")
    parsed = parse_message(raw)
    assert (parsed.is_bounce, parsed.bounced_message_id) == (
        False,
        "k.20261122-00071.4@xianguo.example",
    )
    assert (parsed.is_auto_generated, parsed.auto_reason) == (True, "delivery status notification")


def test_chinese_free_text_bounce_from_postmaster_names_the_failed_message():
    parsed = parse_message((MESSAGES / "bounce_zh.eml").read_bytes())
    assert parsed.from_.name == "系统退信"
    assert (parsed.is_bounce, parsed.bounced_message_id, parsed.bounce_reason) == (
        True,
        "k.20261122-00071.5@xianguo.example",
        "系统退信",
    )
    assert parsed.auto_reason == "sent by postmaster"


def test_mail_from_postmaster_that_is_not_a_bounce_is_not_one():
    parsed = parse_message(customer_mail(sender="postmaster@example.cn"))
    assert parsed.is_bounce is False
