"""The IMAP poller: store → process → move/flag → advance, and a crash at any step neither
loses nor doubles a mail. Each behaviour runs against the in-memory server and, where
Dovecot is installed, against a real Dovecot (test_imap_dovecot.py has the rest)."""

import io
import socket
from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command

from channels_ingest.email import imap
from channels_ingest.models import InboundRecord, InboundState, Mailbox, MailboxAction
from channels_ingest.pipeline import receive
from channels_ingest.tasks import imap_poll
from tests.channels_ingest import dovecot
from tests.channels_ingest.imap_fake import FakeImapServer
from tickets.models import Direction, Message, Ticket

pytestmark = pytest.mark.django_db

# The private Dovecot server and a fresh account on it, for the tests that ask for them.
dovecot_server = dovecot.dovecot_server
imap_account = dovecot.imap_account

PROCESSED = "Kefu/Processed"


def customer_mail(number: int, *, message_id: bool = True, body: str = "") -> bytes:
    headers = [
        f"From: Customer {number} <customer{number}@example.cn>",
        "To: support@kefu.localhost",
        f"Subject: =?utf-8?b?6K6i5Y2V?= {number}",  # 订单 N
        "Date: Mon, 23 Nov 2026 10:00:00 +0800",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    if message_id:
        headers.append(f"Message-ID: <order-{number}@example.cn>")
    text = body or f"第{number}封邮件：我的订单还没有到。"
    return ("\r\n".join(headers) + "\r\n\r\n" + text + "\r\n").encode("utf-8")


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the poller catches it."""


@pytest.fixture(params=["memory", "dovecot"])
def mailroom(request, default_team):  # type: ignore[no-untyped-def]
    """A mailbox to deliver into and look at: in memory, or a fresh Dovecot user."""
    if request.param == "memory":
        return FakeImapServer()
    return request.getfixturevalue("imap_account")


def poll(mailroom, mailbox: Mailbox) -> imap.PollResult:  # type: ignore[no-untyped-def]
    mailbox.refresh_from_db()
    return imap.mailbox_poll(mailbox=mailbox, connect=mailroom.connect)


def inbound_messages() -> list[str]:
    return sorted(
        Message.objects.filter(channel="email", direction=Direction.IN).values_list(
            "provider_id", flat=True
        )
    )


def test_new_mail_becomes_tickets_and_is_moved_to_the_processed_folder(mailroom):
    mailbox = mailroom.mailbox()
    mailroom.deliver(customer_mail(1))
    mailroom.deliver(customer_mail(2, message_id=False))

    result = poll(mailroom, mailbox)

    assert (result.fetched, result.stored, result.error, result.locked) == (2, 2, "", False)
    assert Ticket.objects.count() == 2
    assert len(inbound_messages()) == 2
    assert "order-1@example.cn" in inbound_messages()
    records = InboundRecord.objects.order_by("pk")
    assert [r.state for r in records] == [InboundState.PROCESSED] * 2
    assert [r.source for r in records] == [f"imap:{mailbox.name}"] * 2
    assert records[1].provider_id.startswith("sha256:")  # no Message-ID: a digest of the bytes
    assert bytes(records[0].raw) == customer_mail(1)
    assert mailroom.uids("INBOX") == []
    assert len(mailroom.uids(PROCESSED)) == 2
    mailbox.refresh_from_db()
    assert (mailbox.last_uid, mailbox.last_error) == (2, "")
    assert mailbox.uidvalidity is not None and mailbox.last_polled_at is not None


def test_a_second_poll_is_a_no_op(mailroom):
    mailbox = mailroom.mailbox()
    mailroom.deliver(customer_mail(1))
    poll(mailroom, mailbox)

    again = poll(mailroom, mailbox)

    assert (again.fetched, again.stored, again.error) == (0, 0, "")
    assert Ticket.objects.count() == 1
    assert InboundRecord.objects.count() == 1


def test_flag_action_flags_the_mail_and_leaves_it_in_the_folder(mailroom):
    mailbox = mailroom.mailbox(action=MailboxAction.FLAG, processed_flag="\\Seen")
    mailroom.deliver(customer_mail(1))

    poll(mailroom, mailbox)
    again = poll(mailroom, mailbox)

    [uid] = mailroom.uids("INBOX")
    assert "\\Seen" in mailroom.flags(uid)
    assert again.fetched == 0
    assert Ticket.objects.count() == 1


def _crash_after_store(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real = receive.inbound_process

    def crash_on_the_second(*, record, answered):  # type: ignore[no-untyped-def]
        if record.provider_id.startswith("sha256:"):
            raise Crash
        return real(record=record, answered=answered)

    monkeypatch.setattr(receive, "inbound_process", crash_on_the_second)


def _crash_after_processing(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real = imap.uid_acknowledge

    def crash_on_the_second(*, mailbox, connection, uid):  # type: ignore[no-untyped-def]
        if Message.objects.filter(provider_id__startswith="sha256:").exists():
            raise Crash
        return real(mailbox=mailbox, connection=connection, uid=uid)

    monkeypatch.setattr(imap, "uid_acknowledge", crash_on_the_second)


def _crash_after_acknowledging(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real = imap.mailbox_advance

    def crash_on_the_second(*, mailbox, uid):  # type: ignore[no-untyped-def]
        if mailbox.last_uid >= 1:
            raise Crash
        return real(mailbox=mailbox, uid=uid)

    monkeypatch.setattr(imap, "mailbox_advance", crash_on_the_second)


CRASHES: dict[str, Callable] = {  # type: ignore[type-arg]
    "after storing, before processing": _crash_after_store,
    "after processing, before moving or flagging": _crash_after_processing,
    "after moving or flagging, before saving last_uid": _crash_after_acknowledging,
}


@pytest.mark.parametrize("action", [MailboxAction.MOVE, MailboxAction.FLAG])
@pytest.mark.parametrize("crash", list(CRASHES))
def test_a_crash_at_any_step_neither_loses_nor_doubles_a_mail(mailroom, monkeypatch, crash, action):
    # The second mail has no Message-ID: its key is a digest of its bytes, which must
    # come out the same when it is fetched again.
    mailbox = mailroom.mailbox(action=action, processed_flag="$KefuDone")
    for number, has_id in ((1, True), (2, False), (3, True)):
        mailroom.deliver(customer_mail(number, message_id=has_id))
    with monkeypatch.context() as patched:
        CRASHES[crash](patched)
        with pytest.raises(Crash):
            poll(mailroom, mailbox)

    # The crash happened where it says: the first mail is done, the second is stored.
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 1
    assert InboundRecord.objects.count() == 2
    crashed = InboundRecord.objects.get(provider_id__startswith="sha256:")
    stored_only = crash == "after storing, before processing"
    assert crashed.state == (InboundState.RECEIVED if stored_only else InboundState.PROCESSED)
    moved = crash == "after moving or flagging, before saving last_uid"
    if action == MailboxAction.MOVE:
        assert len(mailroom.uids("INBOX")) == (1 if moved else 2)

    poll(mailroom, mailbox)  # the next poll, after the restart

    assert len(inbound_messages()) == 3
    assert len(set(inbound_messages())) == 3
    assert Ticket.objects.count() == 3
    assert InboundRecord.objects.count() == 3
    assert set(InboundRecord.objects.values_list("state", flat=True)) == {InboundState.PROCESSED}
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 3
    if action == MailboxAction.MOVE:
        assert mailroom.uids("INBOX") == []
        assert len(mailroom.uids(PROCESSED)) == 3
    else:
        assert all("$KefuDone" in mailroom.flags(uid) for uid in mailroom.uids("INBOX"))


def test_a_new_uidvalidity_reads_the_folder_again_without_doubling(default_team):
    server = FakeImapServer()
    mailbox = server.mailbox(action=MailboxAction.FLAG)
    server.deliver(customer_mail(1))
    server.deliver(customer_mail(2, message_id=False))
    poll(server, mailbox)
    first_validity = Mailbox.objects.get().uidvalidity

    server.renumber()
    server.deliver(customer_mail(3))
    result = poll(server, mailbox)

    assert (result.fetched, result.stored) == (3, 1)
    assert Ticket.objects.count() == 3
    assert len(inbound_messages()) == 3
    mailbox.refresh_from_db()
    assert mailbox.uidvalidity != first_validity
    assert mailbox.last_uid == max(server.uids())


def test_a_batch_is_bounded_and_the_next_poll_continues(default_team, settings):
    settings.IMAP_BATCH_SIZE = 2
    server = FakeImapServer()
    mailbox = server.mailbox()
    for number in (1, 2, 3):
        server.deliver(customer_mail(number))

    first, second = poll(server, mailbox), poll(server, mailbox)

    assert (first.fetched, second.fetched) == (2, 1)
    assert Ticket.objects.count() == 3


def test_a_server_that_is_down_is_noted_on_the_mailbox_and_does_not_raise(default_team):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    mailbox = Mailbox.objects.create(
        name="down", host="127.0.0.1", port=port, security="none", username="u", secret="p"
    )

    result = imap.mailbox_poll(mailbox=mailbox)

    assert result.error.startswith("ConnectionRefusedError")
    mailbox.refresh_from_db()
    assert mailbox.last_error == result.error
    assert mailbox.last_polled_at is not None
    assert (mailbox.last_uid, mailbox.uidvalidity) == (0, None)


def test_the_beat_task_polls_each_active_mailbox_and_survives_errors(default_team, monkeypatch):
    server = FakeImapServer()
    server.deliver(customer_mail(1))
    server.mailbox(name="active")
    server.mailbox(name="paused", is_active=False)
    polled = []

    def connect(mailbox):  # type: ignore[no-untyped-def]
        polled.append(mailbox.name)
        return server.connect(mailbox)

    monkeypatch.setattr(imap, "imap_connect", connect)

    assert imap_poll() == 1
    assert polled == ["active"]
    assert Ticket.objects.count() == 1

    server.refuse = ConnectionResetError("reset by peer")
    assert imap_poll() == 1  # no exception
    assert Mailbox.objects.get(name="active").last_error == "ConnectionResetError: reset by peer"


def test_a_poll_while_another_polls_the_same_mailbox_does_nothing(default_team):
    server = FakeImapServer()
    mailbox = server.mailbox()
    server.deliver(customer_mail(1))
    inner: list[imap.PollResult] = []

    def connect_and_poll_again(box):  # type: ignore[no-untyped-def]
        # A second worker starts polling while the first holds the mailbox.
        inner.append(
            imap.mailbox_poll(mailbox=Mailbox.objects.get(pk=box.pk), connect=server.connect)
        )
        return server.connect(box)

    outer = imap.mailbox_poll(mailbox=mailbox, connect=connect_and_poll_again)

    assert inner[0].locked and inner[0].fetched == 0
    assert server.connections == 1
    assert (outer.locked, outer.fetched) == (False, 1)
    assert Ticket.objects.count() == 1
    # Released: the next poll runs.
    assert imap.mailbox_poll(mailbox=mailbox, connect=server.connect).locked is False


def test_a_processing_failure_is_queued_and_the_mail_still_acknowledged(default_team, monkeypatch):
    server = FakeImapServer()
    mailbox = server.mailbox()
    server.deliver(customer_mail(1))

    def broken(*, record, answered):  # type: ignore[no-untyped-def]
        raise RuntimeError("database went away")

    # Only the poller's own call breaks; the queued retry (run eagerly here) works.
    monkeypatch.setattr(receive, "inbound_process", broken)
    result = poll(server, mailbox)

    assert (result.fetched, result.error) == (1, "")
    assert InboundRecord.objects.get().state == InboundState.PROCESSED
    assert Ticket.objects.count() == 1
    assert server.uids("INBOX") == []


def test_a_mail_over_the_size_limit_becomes_a_ticket_from_its_headers(default_team, settings):
    settings.MAX_ATTACHMENT_BYTES = 1000  # the limit on a whole mail is then just over 5 MiB
    server = FakeImapServer()
    mailbox = server.mailbox()
    huge = customer_mail(1, body="很大的附件" * 400_000)  # 6 MB
    server.deliver(huge)

    result = poll(server, mailbox)

    assert result.fetched == 1
    record = InboundRecord.objects.get()
    assert record.payload["over_limit_bytes"] == len(huge)
    assert bytes(record.raw) == huge[: huge.index(b"\r\n\r\n") + 4]
    message = Message.objects.get(provider_id="order-1@example.cn")
    # The note is written in the site's language (zh-Hans by default); the size is in it.
    assert any(str(len(huge)) in defect for defect in message.defects)
    assert message.subject == "订单 1"
    assert server.uids(PROCESSED) == [1]


def test_the_command_reports_a_poll_that_failed(default_team):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    Mailbox.objects.create(
        name="down", host="127.0.0.1", port=port, security="none", username="u", secret="p"
    )
    out = io.StringIO()

    with pytest.raises(CommandError, match="down"):
        call_command("imap_poll", "--mailbox", "down", stdout=out)

    assert "down: 0 fetched, 0 new; stopped: ConnectionRefusedError" in out.getvalue()


def test_the_command_refuses_an_unknown_mailbox(db):
    with pytest.raises(CommandError, match="no mailbox named 'nope'"):
        call_command("imap_poll", "--mailbox", "nope")


@pytest.mark.parametrize(
    ("name", "encoded"),
    [("INBOX", "INBOX"), ("台北", "&U,BTFw-"), ("日本語", "&ZeVnLIqe-"), ("R&D", "R&-D")],
)
def test_folder_names_are_written_in_modified_utf7(name, encoded):
    assert imap.imap_utf7_encode(name) == encoded


def test_folder_levels_use_the_servers_delimiter():
    assert imap.server_folder_name("客服/已处理", ".") == "&W6JnDQ-.&XfJZBHQG-"


def test_the_admin_never_shows_the_mailbox_password_and_keeps_it_when_left_empty(admin_client):
    mailbox = Mailbox.objects.create(
        name="support", host="imap.example.cn", username="kefu", secret="s3cret-Pa55"
    )
    url = f"/admin/channels_ingest/mailbox/{mailbox.pk}/change/"

    listing = admin_client.get("/admin/channels_ingest/mailbox/")
    form = admin_client.get(url)

    assert listing.status_code == form.status_code == 200
    assert "imap.example.cn" in listing.content.decode()
    assert "s3cret-Pa55" not in listing.content.decode()
    assert "s3cret-Pa55" not in form.content.decode()

    fields = {
        "name": "support",
        "is_active": "on",
        "host": "imap.example.cn",
        "port": "993",
        "security": "ssl",
        "username": "kefu",
        "secret": "",
        "folder": "INBOX",
        "action": "move",
        "processed_folder": "Kefu/Processed",
        "processed_flag": "\\Seen",
    }
    kept = admin_client.post(url, fields)
    assert kept.status_code == 302
    assert Mailbox.objects.get().secret == "s3cret-Pa55"

    admin_client.post(url, {**fields, "secret": "new-Pa55"})
    assert Mailbox.objects.get().secret == "new-Pa55"


def test_beat_polls_the_mailboxes_at_the_configured_interval(settings):
    from kefu.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["imap-poll"]

    assert entry["task"] in app.tasks
    assert entry["schedule"] == settings.IMAP_POLL_SECONDS
