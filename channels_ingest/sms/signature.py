"""Twilio request signatures (X-Twilio-Signature).

The signature is base64(HMAC-SHA1(auth token, URL + every POST parameter's name and value,
sorted by name, concatenated)). The URL is the one Twilio called, query string included:
`KEFU_PUBLIC_URL` plus the request's path and query when that is set (a proxy on another
host passes requests on under an internal name), else the URL rebuilt from the Host and
scheme the proxy passes on (USE_X_FORWARDED_HOST / SECURE_PROXY_SSL_HEADER); see
channels_ingest/sms/twilio.py.
"""

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence


def twilio_signature(*, auth_token: str, url: str, params: Mapping[str, Sequence[str]]) -> str:
    payload = url
    for name in sorted(params):
        for value in params[name]:
            payload += name + value
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_valid(
    *, auth_token: str, url: str, params: Mapping[str, Sequence[str]], signature: str
) -> bool:
    if not auth_token or not signature:
        return False
    expected = twilio_signature(auth_token=auth_token, url=url, params=params)
    return hmac.compare_digest(expected, signature)
