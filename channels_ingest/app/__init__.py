"""The shop's app channel: JSON messages in, an outbound webhook (or the outbox) out."""
