"""The audit log: who saw or changed which personal data, and when."""

import getpass
from collections.abc import Mapping, Sequence

from django.contrib.auth.models import User

from tickets.models import AuditEntry


def audit_record(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: str,
    data: Mapping[str, object],
) -> AuditEntry:
    """Add one entry to the audit log. `actor` None means Kefu itself (a nightly job, a
    command run on the server: `data` then says which). `data` must not repeat the personal
    data the entry is about: it names rows by id, never by a phone, an email or a name."""
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        data=dict(data),
    )


def audit_record_many(entries: Sequence[AuditEntry]) -> list[AuditEntry]:
    """Add many entries built by the caller (as `audit_record` would) in one INSERT: a
    batch of after-sales steps."""
    return AuditEntry.objects.bulk_create(entries)


def command_operator() -> str:
    """How an audit entry names a management command's run (it has no signed-in user): the
    server account that ran it."""
    try:
        return f"command:{getpass.getuser()}"
    except OSError:
        return "command"
