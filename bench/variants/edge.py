"""Plain-Django variants of the edge's hand-tuned code (channels_ingest)."""

from bench.variants import variant


@variant("app_serializer_fields", "DRF's own deep copy of the app serializer's fields")
def app_serializer_fields() -> None:
    from channels_ingest.app.api import AppMessageSerializer

    del AppMessageSerializer.get_fields
