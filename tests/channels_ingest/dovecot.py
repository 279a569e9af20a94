"""A private Dovecot IMAP server on loopback, for testing the IMAP poller against the real thing.

`dovecot_server` (session-scoped) starts one instance from its own configuration in a
temporary directory: plain-text login on 127.0.0.1 at a free port, users in a passwd-file,
maildirs in the same directory, the mail processes under an unprivileged uid (Dovecot refuses
root). `imap_account` adds a fresh user for each test, so tests never see each other's mail.
Without the `dovecot` binary the tests that use them are skipped, saying why.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from channels_ingest.email.imap import server_folder_name
from channels_ingest.models import Mailbox, MailboxSecurity

DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None
)
PASSWORD = "kefu-test-password"
USERS = 200  # one per test that asks for an account; more than the suite uses


@dataclass
class DovecotServer:
    root: Path
    port: int
    uid: int
    gid: int
    process: subprocess.Popen[bytes] | None = None
    free_users: list[str] = field(default_factory=list)

    def add_users(self, count: int) -> None:
        """Written before the server starts: Dovecot re-reads a changed passwd-file at most
        once a second, so users added while it runs may not log in at once."""
        with open(self.root / "passwd", "a") as users:
            for number in range(count):
                home = self.root / "home" / f"user{number}"
                home.mkdir(parents=True)
                os.chown(home, self.uid, self.gid)
                users.write(f"user{number}:{{PLAIN}}{PASSWORD}:{self.uid}:{self.gid}::{home}::\n")
        self.free_users.extend(f"user{number}" for number in range(count))

    def take_user(self) -> str:
        return self.free_users.pop(0)

    def client(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(user, PASSWORD)
        return client

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.root / "dovecot.log").read_text().splitlines()[-lines:])
        return ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _version() -> tuple[int, ...]:
    assert DOVECOT is not None
    out = subprocess.run(  # noqa: S603 (the installed dovecot, fixed arguments)
        [DOVECOT, "--version"], capture_output=True, text=True, timeout=10
    )
    return tuple(int(part) for part in out.stdout.split()[0].split(".")[:2])


def _config(root: Path, port: int, user: str, group: str) -> str:
    cleartext = (
        "auth_allow_cleartext = yes" if _version() >= (2, 4) else "disable_plaintext_auth = no"
    )
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
{cleartext}
auth_mechanisms = plain login
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
"""


def _wait_for_greeting(server: DovecotServer, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process is not None
        if server.process.poll() is not None:
            raise RuntimeError(f"dovecot exited early:\n{server.log_tail()}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", server.port), timeout=1) as sock,
        ):
            if sock.recv(100).startswith(b"* OK"):
                return
        time.sleep(0.1)
    raise TimeoutError(f"dovecot did not answer on {server.port}:\n{server.log_tail()}")


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[DovecotServer]:
    if DOVECOT is None:
        reason = "dovecot is not installed (apt-get install dovecot-imapd); IMAP tests skipped"
        print(reason)
        pytest.skip(reason)
    if os.geteuid() == 0:
        # Dovecot will not run mail processes as root.
        user, group = "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
    else:
        user, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    root = Path(tempfile.mkdtemp(prefix="kefu-dovecot-"))
    root.chmod(0o755)  # the unprivileged mail processes must reach their homes below it
    (root / "home").mkdir(mode=0o755)
    (root / "passwd").touch(mode=0o644)
    port = _free_port()
    config = root / "dovecot.conf"
    config.write_text(_config(root, port, user, group))
    server = DovecotServer(
        root=root, port=port, uid=pwd.getpwnam(user).pw_uid, gid=grp.getgrnam(group).gr_gid
    )
    server.add_users(USERS)
    with open(root / "stderr.log", "wb") as stderr:
        server.process = process = subprocess.Popen(  # noqa: S603 (our own config file)
            [DOVECOT, "-F", "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        _wait_for_greeting(server)
        yield server
    finally:
        process.terminate()  # the master stops its login and mail processes
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            # Its own process group (start_new_session): the master and what it started.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class ImapAccount:
    """A fresh user on the private server, with what a test does to its mail: deliver, look."""

    server: DovecotServer
    user: str
    connect: None = None  # the poller connects for real, with imap_connect

    @contextlib.contextmanager
    def session(self) -> Iterator[imaplib.IMAP4]:
        client = self.server.client(self.user)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        with self.session() as client:
            if folder != "INBOX":
                client.create(_name(folder))
            status, data = client.append(_name(folder), "", None, raw)
            assert status == "OK", data

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.session() as client:
            status, _data = client.select(_name(folder), readonly=True)
            if status != "OK":
                return []
            _status, found = client.uid("SEARCH", "ALL")
            return sorted(int(uid) for uid in found[0].split())

    def flags(self, uid: int, folder: str = "INBOX") -> set[str]:
        with self.session() as client:
            client.select(_name(folder), readonly=True)
            _status, data = client.uid("FETCH", str(uid), "(FLAGS)")
            line = data[0].decode() if isinstance(data[0], bytes) else ""
            inside = line[line.index("FLAGS (") + 7 :].split(")", 1)[0]
            return set(inside.split())

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.session() as client:
            _status, data = client.status(_name(folder), "(UIDVALIDITY)")
            return int(data[0].decode().rsplit("UIDVALIDITY ", 1)[1].rstrip(")"))

    def mailbox(self, **fields: object) -> Mailbox:
        values: dict[str, object] = {
            "name": f"support-{self.user}",
            "host": "127.0.0.1",
            "port": self.server.port,
            "security": MailboxSecurity.NONE,
            "username": self.user,
            "secret": PASSWORD,
        }
        values.update(fields)
        return Mailbox.objects.create(**values)


def _name(folder: str) -> str:
    """A folder named with "/" between levels, as the server spells it (its delimiter is ".")."""
    return '"' + server_folder_name(folder, ".") + '"'


@pytest.fixture
def imap_account(dovecot_server: DovecotServer) -> ImapAccount:
    return ImapAccount(server=dovecot_server, user=dovecot_server.take_user())
