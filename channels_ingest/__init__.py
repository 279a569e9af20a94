"""The edge: one adapter per channel for both directions, the raw inbound log, delivery.

Receive → store the raw payload (unique per channel and provider id) → normalise into an
`InboundMessage` → hand it to `tickets.services.intake_message`: every edge goes through the
same door, `pipeline/receive.py` (see `pipeline/__init__.py` for the map).
"""
