"""Plain-Django variants of the edge's hand-tuned code (channels_ingest)."""

from bench.variants import variant


@variant("app_serializer_fields", "DRF's own deep copy of the app serializer's fields")
def app_serializer_fields() -> None:
    from channels_ingest.app.api import AppMessageSerializer

    del AppMessageSerializer.get_fields


def _inbound_insert(*, fields):  # type: ignore[no-untyped-def]
    from django.db import IntegrityError, transaction

    from channels_ingest.models import InboundRecord

    try:
        # A savepoint inside a transaction, its own transaction in autocommit.
        with transaction.atomic():
            return InboundRecord.objects.create(**fields).pk
    except IntegrityError:
        return None


@variant("inbound_insert", "the inbound record stored with the ORM's create in a savepoint")
def inbound_insert() -> None:
    from channels_ingest.pipeline import store

    store.inbound_insert = _inbound_insert  # type: ignore[assignment]
