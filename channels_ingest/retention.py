"""How long the edge keeps raw inbound payloads and the outbox (`tickets.personal_data`
retention kinds, enforced with the core's by `manage.py retention` and the nightly task).

A raw payload is kept `RETENTION_INBOUND_PAYLOAD_DAYS` after arrival, once it has been taken
in (processed) or refused (failed); then it is scrubbed, and the row stays so a redelivery is
still recognised. A record still waiting is never touched: nothing inbound is lost. Outbox
entries (embedded mode's stand-in for providers) are deleted after `RETENTION_OUTBOX_DAYS`.
A period of 0 keeps the data for ever.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet

from channels_ingest.models import InboundRecord, InboundState, OutboxEntry
from channels_ingest.personal_data import SCRUBBED_KEY, payload_scrubbed
from tickets.personal_data import RetentionKind


def _payloads_due(now: datetime) -> QuerySet[InboundRecord]:
    days = settings.RETENTION_INBOUND_PAYLOAD_DAYS
    if not days:
        return InboundRecord.objects.none()
    return InboundRecord.objects.filter(
        ~Q(payload__has_key=SCRUBBED_KEY),
        state__in=[InboundState.PROCESSED, InboundState.FAILED],
        received_at__lt=now - timedelta(days=days),
    )


def _payloads_scrub(now: datetime) -> int:
    return _payloads_due(now).update(payload=payload_scrubbed(reason="retention"), raw=None)


def _outbox_due(now: datetime) -> QuerySet[OutboxEntry]:
    days = settings.RETENTION_OUTBOX_DAYS
    if not days:
        return OutboxEntry.objects.none()
    return OutboxEntry.objects.filter(created_at__lt=now - timedelta(days=days))


def _outbox_delete(now: datetime) -> int:
    count, _by_model = _outbox_due(now).delete()
    return count


KINDS = [
    RetentionKind(
        name="inbound_payloads",
        description="raw inbound payloads taken in or refused, scrubbed",
        due=lambda now: _payloads_due(now).count(),
        enforce=_payloads_scrub,
    ),
    RetentionKind(
        name="outbox_entries",
        description="outbox entries, deleted",
        due=lambda now: _outbox_due(now).count(),
        enforce=_outbox_delete,
    ),
]
