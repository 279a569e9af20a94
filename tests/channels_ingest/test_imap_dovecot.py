"""The IMAP poller against a real Dovecot on loopback: Chinese mail in legacy charsets,
attachments, a processed folder with a Chinese name, UIDVALIDITY changes, a refused login,
and the operator's command. Skipped, with the reason, where Dovecot is not installed."""

import base64
import hashlib
import io

import pytest
from django.core.management import call_command

from channels_ingest.email import imap
from channels_ingest.models import InboundRecord, Mailbox, MailboxAction
from tests.channels_ingest import dovecot
from tests.channels_ingest.dovecot import ImapAccount
from tickets.models import Attachment, Direction, Message, Ticket

pytestmark = pytest.mark.django_db

# The private Dovecot server and a fresh account on it, for the tests that ask for them.
dovecot_server = dovecot.dovecot_server
imap_account = dovecot.imap_account


def gb2312_mail() -> bytes:
    subject = base64.b64encode("退货申请：草莓压坏了".encode("gb2312")).decode()
    body = "您好，收到的草莓有一半压坏了，请尽快处理退款。订单号 88123。\r\n".encode("gb2312")
    head = (
        "From: =?gb2312?B?" + base64.b64encode("李娜".encode("gb2312")).decode() + "?= "
        "<li.na@example.cn>\r\n"
        "To: support@kefu.localhost\r\n"
        f"Subject: =?gb2312?B?{subject}?=\r\n"
        "Message-ID: <gb-1@example.cn>\r\n"
        "Date: Mon, 23 Nov 2026 09:30:00 +0800\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=gb2312\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head.encode("ascii") + body


PHOTO = bytes(range(256)) * 300  # 76.8 KB


def mail_with_attachment() -> bytes:
    return (
        b"From: Wang Fang <wang.fang@example.com>\r\n"
        b"To: support@kefu.localhost\r\n"
        b"Subject: Damaged parcel\r\n"
        b"Message-ID: <photo-1@example.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b"--b1\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        b"The box was crushed, photo attached.\r\n"
        b"--b1\r\n"
        b'Content-Type: image/jpeg; name="box.jpg"\r\n'
        b'Content-Disposition: attachment; filename="box.jpg"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(PHOTO).replace(b"\n", b"\r\n")
        + b"--b1--\r\n"
    )


def plain_mail(number: int) -> bytes:
    return (
        f"From: c{number}@example.com\r\nTo: support@kefu.localhost\r\n"
        f"Subject: question {number}\r\nMessage-ID: <q-{number}@example.com>\r\n\r\n"
        f"Where is my order {number}?\r\n"
    ).encode()


def test_chinese_and_attached_mail_from_dovecot_become_tickets(imap_account, default_team):
    mailbox = imap_account.mailbox(processed_folder="客服/已处理")
    imap_account.deliver(gb2312_mail())
    imap_account.deliver(mail_with_attachment())

    result = imap.mailbox_poll(mailbox=mailbox)

    assert (result.fetched, result.stored, result.error) == (2, 2, "")
    chinese = Message.objects.get(provider_id="gb-1@example.cn")
    assert chinese.subject == "退货申请：草莓压坏了"
    assert chinese.body == "您好，收到的草莓有一半压坏了，请尽快处理退款。订单号 88123。"
    assert chinese.ticket.customer.name == "李娜"
    attached = Attachment.objects.get(message__provider_id="photo-1@example.com")
    assert (attached.filename, attached.size) == ("box.jpg", len(PHOTO))
    assert attached.sha256 == hashlib.sha256(PHOTO).hexdigest()
    assert attached.file.read() == PHOTO
    # Moved into the Chinese-named folder, created on the server under its own delimiter.
    assert imap_account.uids("INBOX") == []
    assert imap_account.uids("客服/已处理") == [1, 2]
    with imap_account.session() as client:
        _status, listed = client.list('""', '"&W6JnDQ-.*"')
    assert listed == [b'(\\HasNoChildren) "." &W6JnDQ-.&XfJZBHQG-']

    again = imap.mailbox_poll(mailbox=Mailbox.objects.get(pk=mailbox.pk))

    assert (again.fetched, again.stored, again.error) == (0, 0, "")
    assert Ticket.objects.count() == 2
    assert Message.objects.filter(direction=Direction.IN).count() == 2


def test_a_recreated_folder_with_a_new_uidvalidity_doubles_nothing(imap_account, default_team):
    # A folder rebuilt on the server (restored from backup, moved between servers) comes back
    # with a new UIDVALIDITY and new UIDs for the same mails.
    mailbox = imap_account.mailbox(folder="Support", action=MailboxAction.FLAG)
    imap_account.deliver(plain_mail(1), folder="Support")
    imap_account.deliver(plain_mail(2), folder="Support")
    imap.mailbox_poll(mailbox=mailbox)
    before = imap_account.uidvalidity("Support")
    with imap_account.session() as client:
        assert client.delete('"Support"')[0] == "OK"
    for number in (1, 2, 3):
        imap_account.deliver(plain_mail(number), folder="Support")
    assert imap_account.uidvalidity("Support") != before

    result = imap.mailbox_poll(mailbox=Mailbox.objects.get(pk=mailbox.pk))

    assert (result.fetched, result.stored, result.error) == (3, 1, "")
    assert Ticket.objects.count() == 3
    assert InboundRecord.objects.count() == 3
    assert Message.objects.filter(direction=Direction.IN).count() == 3
    mailbox.refresh_from_db()
    assert mailbox.uidvalidity == imap_account.uidvalidity("Support")
    assert all(
        "\\Seen" in imap_account.flags(uid, "Support") for uid in imap_account.uids("Support")
    )


def test_a_refused_login_is_noted_on_the_mailbox(imap_account: ImapAccount, default_team):
    mailbox = imap_account.mailbox(secret="wrong")
    imap_account.deliver(plain_mail(1))

    result = imap.mailbox_poll(mailbox=mailbox)

    assert "AUTHENTICATIONFAILED" in result.error
    assert Mailbox.objects.get(pk=mailbox.pk).last_error == result.error
    assert InboundRecord.objects.count() == 0
    assert imap_account.uids("INBOX") == [1]


def test_the_command_polls_the_named_mailbox(imap_account, default_team):
    mailbox = imap_account.mailbox(is_active=False)
    imap_account.deliver(plain_mail(1))
    out = io.StringIO()

    call_command("imap_poll", "--mailbox", mailbox.name, stdout=out)

    assert out.getvalue() == f"{mailbox.name}: 1 fetched, 1 new\n"
    assert Ticket.objects.count() == 1
