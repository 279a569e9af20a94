"""Retention: each kind of personal data is kept for a period set in the settings, then
deleted or anonymised by the nightly task (`tickets.tasks.retention_enforce`) or
`manage.py retention` (which can report first with `--dry-run`).

The core's kinds: closed tickets (`RETENTION_CLOSED_TICKET_DAYS` after closing, their
content anonymised as on erasure, the statistics kept), customers left with nothing but
anonymised tickets and no contact within the same period (erased, as on request), and the
self-service one-time codes (`RETENTION_ACCESS_CODE_DAYS` after they expired). Apps above the
core add theirs through `tickets.personal_data.retention_register`. A period of 0 keeps the
data for ever. The audit log is never cut.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from tickets.models import Call, Customer, Status, StatusAccessCode, Ticket
from tickets.personal_data import RetentionKind, retention_kinds, retention_register
from tickets.services.audit import audit_record
from tickets.services.privacy import PrivacyRefused, customer_erase, tickets_anonymise

# Tickets anonymised per transaction: a night's backlog does not hold one long lock.
BATCH = 500


def _closed_cutoff(now: datetime) -> datetime | None:
    days = settings.RETENTION_CLOSED_TICKET_DAYS
    return now - timedelta(days=days) if days else None


def _tickets_due(now: datetime) -> QuerySet[Ticket]:
    cutoff = _closed_cutoff(now)
    if cutoff is None:
        return Ticket.objects.none()
    return Ticket.objects.filter(
        status=Status.CLOSED, closed_at__lt=cutoff, anonymised_at__isnull=True
    )


def _tickets_anonymise(now: datetime) -> int:
    done = 0
    while True:
        with transaction.atomic():
            ids = list(
                _tickets_due(now)
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:BATCH]
            )
            if not ids:
                return done
            tickets_anonymise(ticket_ids=ids, now=now)
        done += len(ids)


def _customers_due(now: datetime) -> QuerySet[Customer]:
    """Customers whose every ticket is anonymised and who have not been in touch (a new
    record, a call) within the period."""
    cutoff = _closed_cutoff(now)
    if cutoff is None:
        return Customer.objects.none()
    kept_ticket = Ticket.objects.filter(customer=OuterRef("pk"), anonymised_at__isnull=True)
    recent_call = Call.objects.filter(customer=OuterRef("pk"), started_at__gte=cutoff)
    return Customer.objects.filter(
        erased_at__isnull=True, merged_into__isnull=True, created_at__lt=cutoff
    ).filter(~Exists(kept_ticket), ~Exists(recent_call))


def _customers_erase(now: datetime) -> int:
    done = 0
    for customer in _customers_due(now).order_by("pk").iterator():
        try:
            customer_erase(customer=customer, actor=None, via="retention")
        except PrivacyRefused:
            # A ticket opened since the query: the customer is back, and kept.
            continue
        done += 1
    return done


def _codes_due(now: datetime) -> QuerySet[StatusAccessCode]:
    days = settings.RETENTION_ACCESS_CODE_DAYS
    if not days:
        return StatusAccessCode.objects.none()
    return StatusAccessCode.objects.filter(expires_at__lt=now - timedelta(days=days))


def _codes_delete(now: datetime) -> int:
    count, _by_model = _codes_due(now).delete()
    return count


KINDS = [
    RetentionKind(
        name="closed_tickets",
        description="closed tickets, content anonymised",
        due=lambda now: _tickets_due(now).count(),
        enforce=_tickets_anonymise,
        order=10,
    ),
    RetentionKind(
        name="inactive_customers",
        description="customers with only anonymised tickets, erased",
        # After the tickets: tonight's anonymised tickets let their customers go tonight.
        due=lambda now: _customers_due(now).count(),
        enforce=_customers_erase,
        order=20,
    ),
    RetentionKind(
        name="access_codes",
        description="expired self-service codes, deleted",
        due=lambda now: _codes_due(now).count(),
        enforce=_codes_delete,
    ),
]


def retention_register_core() -> None:
    for kind in KINDS:
        retention_register(kind)


def retention_run(*, now: datetime, dry_run: bool) -> dict[str, int]:
    """Per kind, how many rows are past their period (`dry_run`: counted, nothing changes)
    or were deleted or anonymised. A run that changed something is in the audit log."""
    if dry_run:
        return {kind.name: kind.due(now) for kind in retention_kinds()}
    counts = {kind.name: kind.enforce(now) for kind in retention_kinds()}
    if any(counts.values()):
        audit_record(
            actor=None,
            action="retention_enforced",
            object_type="retention",
            object_id="",
            data=counts,
        )
    return counts
