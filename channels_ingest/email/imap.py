"""Email in by IMAP: poll a mailbox, store each new mail, take it in, then move or flag it.

Each mail goes through the same steps in the same order, and the order is what makes a crash
anywhere harmless (see docs/email.md, "IMAP poller"):

1. fetch it with ``BODY.PEEK[]`` (a poll that dies leaves ``\\Seen`` alone);
2. store the raw bytes in the inbound log, committed, unique on (channel, provider id), with
   the same provider id the webhook uses, so a mail fetched again is found, not stored twice;
3. process the stored record (intake is idempotent on the same key);
4. move it to the processed folder or flag it: the mailbox's equivalent of acknowledging;
5. advance ``last_uid``.

A crash before 4 leaves the mail where it was and ``last_uid`` behind, so the next poll
fetches it again and steps 2 and 3 find it done. A crash between 4 and 5 leaves a moved
mail out of reach of the search, or a flagged one that is fetched again and found done.
A new UIDVALIDITY means the server renumbered the folder: the poller starts again from the
first UID and lets step 2 skip what it already has.

Only UID commands are used: sequence numbers shift whenever another client expunges.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import logging
import re
import ssl
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from channels_ingest.email.api import max_body_bytes
from channels_ingest.email.ingest import provider_id_for
from channels_ingest.models import Mailbox, MailboxAction, MailboxSecurity
from channels_ingest.pipeline.receive import inbound_receive

logger = logging.getLogger("kefu.ingest.email.imap")

# Names of the processed folder are written with "/" between levels, whatever the server
# uses; the server's own delimiter (often "." on Dovecot/Courier maildir) replaces it.
FOLDER_SEPARATOR = "/"
# A poll holds its lock this long at most; every mail taken in renews it. The bounded batch,
# the poll's time budget and the socket timeout keep a poll well inside it.
LOCK_SECONDS = 300
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_LIST_DELIMITER = re.compile(rb'^\([^)]*\) (?:"((?:[^"\\]|\\.)*)"|NIL) ')


class ImapError(Exception):
    """The server refused a command or answered something we cannot read."""


class MailboxConnection(Protocol):
    """What the poller needs of an IMAP session. `ImapConnection` is the real one."""

    def select(self, folder: str) -> int:
        """Select the folder for reading and writing; return its UIDVALIDITY."""

    def uids_after(self, uid: int) -> list[int]:
        """UIDs above `uid` in the selected folder, ascending."""

    def sizes(self, uids: list[int]) -> dict[int, int]:
        """RFC822.SIZE of each UID that still exists."""

    def fetch(self, uid: int) -> bytes | None:
        """The whole message, without setting \\Seen; None if it is gone."""

    def fetch_header(self, uid: int) -> bytes | None:
        """The header block only; None if it is gone."""

    def folder_ensure(self, folder: str) -> None:
        """Create the folder if missing."""

    def move(self, uid: int, folder: str) -> None:
        """Move the mail to `folder` (levels separated by "/")."""

    def flag(self, uid: int, flag: str) -> None: ...

    def close(self) -> None: ...


@dataclass
class PollResult:
    mailbox: str
    fetched: int = 0  # mails fetched in this poll
    stored: int = 0  # of which new to the inbound log (the rest were fetched before)
    locked: bool = False  # another poll of this mailbox was running; nothing done
    error: str = ""  # why the poll stopped early, also kept in Mailbox.last_error


# --- the poll ------------------------------------------------------------------------------


def mailbox_poll(
    *,
    mailbox: Mailbox,
    connect: Callable[[Mailbox], MailboxConnection] | None = None,
) -> PollResult:
    """Take in the mails that arrived in `mailbox` since the last poll (at most
    IMAP_BATCH_SIZE, within IMAP_POLL_BUDGET_SECONDS; the next poll continues).

    Never raises for a server that is down, refuses the login or breaks off: the error is
    logged and kept in `last_error`, and the next poll starts from where this one stopped.
    Two polls of the same mailbox never overlap: the second one returns `locked=True`.
    """
    with _poll_lock(mailbox.pk) as acquired:
        if not acquired:
            logger.info("mailbox %s: a poll is already running, skipped", mailbox.name)
            return PollResult(mailbox=mailbox.name, locked=True)
        return _poll(mailbox=mailbox, connect=connect or imap_connect)


def _poll(*, mailbox: Mailbox, connect: Callable[[Mailbox], MailboxConnection]) -> PollResult:
    result = PollResult(mailbox=mailbox.name)
    connection: MailboxConnection | None = None
    try:
        connection = connect(mailbox)
        uidvalidity = connection.select(mailbox.folder)
        if mailbox.uidvalidity != uidvalidity:
            _uidvalidity_reset(mailbox, uidvalidity)
        if mailbox.action == MailboxAction.MOVE:
            connection.folder_ensure(mailbox.processed_folder)
        uids = connection.uids_after(mailbox.last_uid)[: settings.IMAP_BATCH_SIZE]
        sizes = connection.sizes(uids) if uids else {}
        deadline = time.monotonic() + settings.IMAP_POLL_BUDGET_SECONDS
        for uid in uids:
            if time.monotonic() > deadline:
                logger.info("mailbox %s: time budget spent, the next poll goes on", mailbox.name)
                break
            _take(mailbox=mailbox, connection=connection, uid=uid, size=sizes.get(uid), into=result)
            _lock_renew(mailbox.pk)
    except (ImapError, imaplib.IMAP4.error, OSError) as error:
        result.error = f"{type(error).__name__}: {error}"[:2000]
        logger.warning("mailbox %s: poll stopped: %s", mailbox.name, result.error)
    except Exception as error:
        result.error = f"{type(error).__name__}: {error}"[:2000]
        logger.exception("mailbox %s: poll failed", mailbox.name)
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_polled_at=timezone.now(), last_error=result.error
    )
    mailbox.last_error = result.error
    if result.fetched:
        logger.info("mailbox %s: %d fetched, %d new", mailbox.name, result.fetched, result.stored)
    return result


def _uidvalidity_reset(mailbox: Mailbox, uidvalidity: int) -> None:
    if mailbox.uidvalidity is not None:
        logger.warning(
            "mailbox %s: UIDVALIDITY changed from %s to %s; reading the folder from the start",
            mailbox.name,
            mailbox.uidvalidity,
            uidvalidity,
        )
    Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=uidvalidity, last_uid=0)
    mailbox.uidvalidity = uidvalidity
    mailbox.last_uid = 0


def _take(
    *,
    mailbox: Mailbox,
    connection: MailboxConnection,
    uid: int,
    size: int | None,
    into: PollResult,
) -> None:
    """One mail: store, process, acknowledge, advance — in that order (see the module's
    docstring for why)."""
    payload: dict[str, object] = {
        "mailbox": mailbox.name,
        "folder": mailbox.folder,
        "uidvalidity": mailbox.uidvalidity,
        "uid": uid,
    }
    if size is not None and size > max_body_bytes():
        # Too large to take in whole: keep its headers, so the customer still gets a ticket
        # that says what happened, and leave the mail itself on the server.
        raw = connection.fetch_header(uid)
        payload["over_limit_bytes"] = size
    else:
        raw = connection.fetch(uid)
    if raw is None:  # expunged by someone else since the search
        logger.info("mailbox %s: UID %d is gone", mailbox.name, uid)
        mailbox_advance(mailbox=mailbox, uid=uid)
        return
    payload["bytes"] = size if size is not None else len(raw)
    # Stored and committed, then processed; a processing failure leaves the record stored
    # and queued for a worker (or the sweep), as for the webhook.
    receipt = inbound_receive(
        channel="email",
        provider_id=provider_id_for(raw),
        payload=payload,
        source=f"imap:{mailbox.name}"[:100],
        raw=raw,
    )
    into.fetched += 1
    into.stored += receipt.created
    uid_acknowledge(mailbox=mailbox, connection=connection, uid=uid)
    mailbox_advance(mailbox=mailbox, uid=uid)


def uid_acknowledge(*, mailbox: Mailbox, connection: MailboxConnection, uid: int) -> None:
    """Move the mail to the processed folder or flag it, so people reading the mailbox see
    that Kefu has it."""
    if mailbox.action == MailboxAction.MOVE:
        connection.move(uid, mailbox.processed_folder)
    else:
        connection.flag(uid, mailbox.processed_flag)


def mailbox_advance(*, mailbox: Mailbox, uid: int) -> None:
    """Remember `uid` as taken. Only ever forwards, and only under the UIDVALIDITY the
    UID belongs to, so an overlapping or late poll cannot move the mark back."""
    Mailbox.objects.filter(pk=mailbox.pk, uidvalidity=mailbox.uidvalidity, last_uid__lt=uid).update(
        last_uid=uid
    )
    mailbox.last_uid = max(mailbox.last_uid, uid)


# --- the lock ------------------------------------------------------------------------------


def _lock_key(mailbox_id: int) -> str:
    return f"imap-poll:{mailbox_id}"


@contextlib.contextmanager
def _poll_lock(mailbox_id: int) -> Iterator[bool]:
    """A lock in the shared cache (Redis outside embedded mode): `add` is atomic, so of two
    workers or two beats only one gets it. It expires on its own if its holder dies."""
    key, token = _lock_key(mailbox_id), uuid.uuid4().hex
    acquired = cache.add(key, token, timeout=LOCK_SECONDS)
    try:
        yield acquired
    finally:
        # Released only by its holder; a lock that expired and was taken by another poll
        # stays with that poll.
        if acquired and cache.get(key) == token:
            cache.delete(key)


def _lock_renew(mailbox_id: int) -> None:
    cache.touch(_lock_key(mailbox_id), LOCK_SECONDS)


# --- IMAP over imaplib ---------------------------------------------------------------------


def imap_connect(mailbox: Mailbox) -> ImapConnection:
    """Open and log in to the mailbox's server, with its security setting."""
    timeout = settings.IMAP_TIMEOUT_SECONDS
    client: imaplib.IMAP4
    if mailbox.security == MailboxSecurity.SSL:
        client = imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=ssl.create_default_context(), timeout=timeout
        )
    else:
        client = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)
        if mailbox.security == MailboxSecurity.STARTTLS:
            client.starttls(ssl_context=ssl.create_default_context())
    try:
        client.login(mailbox.username, mailbox.secret)
    except Exception:
        with contextlib.suppress(Exception):
            client.shutdown()
        raise
    return ImapConnection(client)


class ImapConnection:
    """One logged-in IMAP session, spoken in UID commands only."""

    def __init__(self, client: imaplib.IMAP4) -> None:
        self.client = client
        # Servers announce more after login (MOVE, UIDPLUS) than in their greeting.
        _status, data = client.capability()
        self.capabilities = {
            word.upper()
            for item in data
            if isinstance(item, bytes)
            for word in item.decode().split()
        }
        self._delimiter: str | None = None

    def _check(self, answer: tuple[str, Sequence[object]], what: str) -> Sequence[object]:
        status, data = answer
        if status != "OK":
            raise ImapError(f"{what}: {status} {_text(data)}")
        return data

    def select(self, folder: str) -> int:
        self._check(
            self.client.select(_quote(server_folder_name(folder, self.delimiter()))), "SELECT"
        )
        _name, data = self.client.response("UIDVALIDITY")
        try:
            return int(data[0])  # type: ignore[arg-type]
        except (TypeError, ValueError, IndexError) as error:
            raise ImapError(f"SELECT {folder}: no UIDVALIDITY in the answer") from error

    def uids_after(self, uid: int) -> list[int]:
        data = self._check(self.client.uid("SEARCH", f"UID {uid + 1}:*"), "UID SEARCH")
        found = {int(item) for line in data if isinstance(line, bytes) for item in line.split()}
        # "n:*" always matches the highest UID, even when it is below n.
        return sorted(item for item in found if item > uid)

    def sizes(self, uids: list[int]) -> dict[int, int]:
        data = self._check(
            self.client.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)"), "UID FETCH"
        )
        sizes = {}
        for line in data:
            head = line[0] if isinstance(line, tuple) else line
            if not isinstance(head, bytes):
                continue
            uid, size = _UID.search(head), _SIZE.search(head)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    def fetch(self, uid: int) -> bytes | None:
        return self._literal(uid, "BODY.PEEK[]")

    def fetch_header(self, uid: int) -> bytes | None:
        return self._literal(uid, "BODY.PEEK[HEADER]")

    def _literal(self, uid: int, item: str) -> bytes | None:
        data = self._check(self.client.uid("FETCH", str(uid), f"({item})"), "UID FETCH")
        # The answer may carry unsolicited FETCH responses (flag changes of other mails):
        # take the literal of the one that names this UID.
        for line in data:
            if isinstance(line, tuple) and len(line) == 2:
                match = _UID.search(line[0])
                if match and int(match.group(1)) == uid:
                    return bytes(line[1])
        return None

    def delimiter(self) -> str:
        if self._delimiter is None:
            data = self._check(self.client.list('""', '""'), "LIST")
            match = _LIST_DELIMITER.match(data[0]) if isinstance(data[0], bytes) else None
            self._delimiter = (match.group(1) or b"").decode() if match else ""
            self._delimiter = self._delimiter.replace("\\\\", "\\") or FOLDER_SEPARATOR
        return self._delimiter

    def folder_ensure(self, folder: str) -> None:
        name = _quote(server_folder_name(folder, self.delimiter()))
        listed = self._check(self.client.list('""', name), "LIST")
        if not any(listed):
            status, data = self.client.create(name)
            # Another poller may have created it a moment ago.
            if status != "OK" and b"ALREADYEXISTS" not in b" ".join(
                item for item in data if isinstance(item, bytes)
            ):
                raise ImapError(f"CREATE {folder}: {status} {_text(data)}")
            with contextlib.suppress(imaplib.IMAP4.error):
                self.client.subscribe(name)

    def move(self, uid: int, folder: str) -> None:
        name = _quote(server_folder_name(folder, self.delimiter()))
        if "MOVE" in self.capabilities:
            self._check(self.client.uid("MOVE", str(uid), name), "UID MOVE")
            return
        # Without MOVE (RFC 6851): copy, mark deleted, expunge. A crash between copy and
        # expunge leaves a second copy in the processed folder, never a second ticket.
        self._check(self.client.uid("COPY", str(uid), name), "UID COPY")
        self._check(self.client.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
        if "UIDPLUS" in self.capabilities:
            self._check(self.client.uid("EXPUNGE", str(uid)), "UID EXPUNGE")
        else:
            self._check(self.client.expunge(), "EXPUNGE")

    def flag(self, uid: int, flag: str) -> None:
        self._check(self.client.uid("STORE", str(uid), "+FLAGS.SILENT", f"({flag})"), "STORE")

    def close(self) -> None:
        try:
            self.client.logout()
        finally:
            with contextlib.suppress(Exception):
                self.client.shutdown()


def server_folder_name(folder: str, delimiter: str = FOLDER_SEPARATOR) -> str:
    """A folder name as the server spells it: its hierarchy delimiter between levels, and
    modified UTF-7 (RFC 3501 §5.1.3) for anything outside printable ASCII."""
    levels = folder.strip(FOLDER_SEPARATOR).split(FOLDER_SEPARATOR)
    return delimiter.join(imap_utf7_encode(level) for level in levels)


def imap_utf7_encode(name: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).rstrip(b"=")
            out.append("&" + encoded.replace(b"/", b",").decode("ascii") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: Sequence[object]) -> str:
    return " ".join(
        item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item) for item in data
    )[:500]
