"""An in-memory IMAP mail store behind the poller's `MailboxConnection` interface.

For the poller's unit tests: it keeps UIDs, UIDVALIDITY, flags and folders the way an IMAP
server does (UIDs only grow; "n:*" matches the highest UID even below n), so the tests can
also renumber a folder or drop the connection at will. The same tests run against a real
Dovecot in test_imap_dovecot.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from channels_ingest.models import Mailbox

_validities = count(1000)


@dataclass
class FakeFolder:
    uidvalidity: int = field(default_factory=lambda: next(_validities))
    next_uid: int = 1
    messages: dict[int, tuple[bytes, set[str]]] = field(default_factory=dict)

    def add(self, raw: bytes, flags: set[str] | None = None) -> int:
        uid = self.next_uid
        self.next_uid += 1
        self.messages[uid] = (raw, set(flags or ()))
        return uid


class FakeImapServer:
    def __init__(self) -> None:
        self.folders: dict[str, FakeFolder] = {"INBOX": FakeFolder()}
        self.connections = 0
        self.refuse: Exception | None = None  # raised by connect, e.g. ConnectionRefusedError

    # --- what a test does to the mailbox, as a mail server or a person would

    def deliver(self, raw: bytes, folder: str = "INBOX") -> int:
        return self.folders.setdefault(folder, FakeFolder()).add(raw)

    def renumber(self, folder: str = "INBOX") -> None:
        """What a server does when it rebuilds a folder's index: new UIDVALIDITY, new UIDs."""
        old = self.folders[folder]
        new = FakeFolder(next_uid=7)
        for raw, flags in old.messages.values():
            new.add(raw, flags)
        self.folders[folder] = new

    def uids(self, folder: str = "INBOX") -> list[int]:
        return sorted(self.folders[folder].messages) if folder in self.folders else []

    def flags(self, uid: int, folder: str = "INBOX") -> set[str]:
        return set(self.folders[folder].messages[uid][1])

    def mailbox(self, **fields: object) -> Mailbox:
        values: dict[str, object] = {
            "name": "support",
            "host": "imap.fake.invalid",
            "username": "support",
            "secret": "x",
        }
        values.update(fields)
        return Mailbox.objects.create(**values)

    def connect(self, mailbox: Mailbox) -> FakeConnection:
        if self.refuse is not None:
            raise self.refuse
        self.connections += 1
        return FakeConnection(self)


class FakeConnection:
    def __init__(self, server: FakeImapServer) -> None:
        self.server = server
        self.selected: FakeFolder | None = None
        self.closed = False

    def _folder(self) -> FakeFolder:
        assert self.selected is not None, "no folder selected"
        return self.selected

    def select(self, folder: str) -> int:
        self.selected = self.server.folders[folder]
        return self.selected.uidvalidity

    def uids_after(self, uid: int) -> list[int]:
        found = [item for item in self._folder().messages if item > uid]
        return sorted(found)

    def sizes(self, uids: list[int]) -> dict[int, int]:
        messages = self._folder().messages
        return {uid: len(messages[uid][0]) for uid in uids if uid in messages}

    def fetch(self, uid: int) -> bytes | None:
        entry = self._folder().messages.get(uid)
        return entry[0] if entry else None

    def fetch_header(self, uid: int) -> bytes | None:
        raw = self.fetch(uid)
        if raw is None:
            return None
        end = raw.find(b"\r\n\r\n")
        return raw[: end + 4] if end >= 0 else raw

    def folder_ensure(self, folder: str) -> None:
        self.server.folders.setdefault(folder, FakeFolder())

    def move(self, uid: int, folder: str) -> None:
        raw, flags = self._folder().messages.pop(uid)
        self.server.folders[folder].add(raw, flags)

    def flag(self, uid: int, flag: str) -> None:
        self._folder().messages[uid][1].add(flag)

    def close(self) -> None:
        self.closed = True
