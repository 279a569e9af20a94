"""The edge's statements written in SQL do what the ORM's would."""

from typing import Any

import pytest
from django.utils import timezone

from channels_ingest.models import InboundRecord, InboundState
from channels_ingest.raw_sql import inbound_insert

pytestmark = pytest.mark.django_db


def fields(provider_id: str, raw: bytes | None = None) -> dict[str, Any]:
    return {
        "channel": "sms",
        "provider_id": provider_id,
        "source": "gw",
        "payload": {"Body": "你好"},
        "raw": raw,
        "ticket_number": "",
        "state": InboundState.RECEIVED,
        "attempts": 0,
        "error": "",
        "received_at": timezone.now(),
    }


def test_an_insert_returns_the_new_id_and_a_second_of_the_same_key_is_skipped():
    first = inbound_insert(fields=fields("gw:1"))
    again = inbound_insert(fields=fields("gw:1"))

    record = InboundRecord.objects.get()
    assert (first, again) == (record.pk, None)
    assert (record.payload, record.state) == ({"Body": "你好"}, InboundState.RECEIVED)


def test_raw_bytes_are_stored_exactly_as_received():
    raw = bytes(range(256)) * 4

    record_id = inbound_insert(fields=fields("gw:2", raw=raw))

    assert bytes(InboundRecord.objects.get(pk=record_id).raw) == raw
