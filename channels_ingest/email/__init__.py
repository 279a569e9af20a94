"""Inbound email: raw RFC 5322 bytes to a `ParsedEmail` (see docs/email.md).

`parse_message` is the entry point; the modules beside it each hold one concern: charsets,
headers (encoded words, parameters, addresses), transfer encodings, the MIME tree, HTML,
format=flowed,
quoted-history folding, threading keys, the loop guard and bounces.
"""

from channels_ingest.email.parse import DEFAULT_MAX_ATTACHMENT_BYTES, parse_message
from channels_ingest.email.parsed import Address, Attachment, ParsedEmail

__all__ = [
    "DEFAULT_MAX_ATTACHMENT_BYTES",
    "Address",
    "Attachment",
    "ParsedEmail",
    "parse_message",
]
