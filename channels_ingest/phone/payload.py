"""The webhook's contract: read one call event from a PBX's JSON or form fields.

Pure: no database, so the webhook can refuse a bad event before storing anything and the
stored payload can be read again the same way later.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tickets.models import CallCause, CallDirection
from tickets.services.calls import CallEventKind

MAX_CALL_ID = 200
MAX_TEXT = 100
MAX_URL = 500
MAX_DURATION = 7 * 24 * 3600

_url = URLValidator(schemes=["http", "https"])


class PayloadError(ValueError):
    """The event breaks the contract; the message says how, for the PBX's operator."""


@dataclass(frozen=True)
class PhoneEvent:
    event: str  # a CallEventKind
    call_id: str
    direction: str | None  # "in" / "out", or None when the event did not say
    from_number: str
    to_number: str
    users: tuple[str, ...]
    queue: str
    answering_number: str
    cause: str
    duration: int | None
    recording_url: str
    voicemail_url: str
    timestamp: datetime | None


def _text(data: Mapping[str, Any], name: str, *, limit: int = MAX_TEXT) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(f"{name} must be a string")
    text = str(value).strip()
    if len(text) > limit:
        raise PayloadError(f"{name} is longer than {limit} characters")
    return text


def _users(data: Mapping[str, Any]) -> tuple[str, ...]:
    value = data.get("user")
    values = value if isinstance(value, list) else [] if value is None else [value]
    users = []
    for item in values:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise PayloadError("user must be a string or a list of strings")
        text = str(item).strip()[:MAX_TEXT]
        if text:
            users.append(text)
    return tuple(users)


def _duration(data: Mapping[str, Any]) -> int | None:
    value = data.get("duration")
    if value is None or value == "":
        return None
    try:
        seconds = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0 or seconds > MAX_DURATION:
        raise PayloadError(f"duration must be a number of seconds from 0 to {MAX_DURATION}")
    return round(seconds)


def _link(data: Mapping[str, Any], name: str) -> str:
    url = _text(data, name, limit=MAX_URL)
    if not url:
        return ""
    try:
        _url(url)
    except ValidationError as error:
        raise PayloadError(f"{name} must be an http(s) URL") from error
    return url


def _timestamp(data: Mapping[str, Any]) -> datetime | None:
    value = data.get("timestamp")
    if value is None or value == "":
        return None
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if numeric or (isinstance(value, str) and value.replace(".", "", 1).isdigit()):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError) as error:
            raise PayloadError("timestamp is out of range") from error
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise PayloadError("timestamp must be ISO 8601 or Unix seconds")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def parse_event(data: Mapping[str, Any]) -> PhoneEvent:
    """Read one event; raises PayloadError naming the first field that breaks the contract."""
    event = _text(data, "event")
    if not event:
        raise PayloadError("event is required")
    if event not in CallEventKind.ALL:
        raise PayloadError(f"unknown event {event!r}: expected newCall, answer or hangup")
    call_id = _text(data, "callId", limit=MAX_CALL_ID)
    if not call_id:
        raise PayloadError("callId is required")
    direction = _text(data, "direction") or None
    if direction is not None and direction not in CallDirection.values:
        raise PayloadError("direction must be in or out")
    from_number, to_number = _text(data, "from"), _text(data, "to")
    if event == CallEventKind.NEW_CALL:
        missing = [
            name
            for name, value in (("direction", direction), ("from", from_number), ("to", to_number))
            if not value
        ]
        if missing:
            raise PayloadError(f"newCall needs {', '.join(missing)}")
    cause = _text(data, "cause")
    if event == CallEventKind.HANGUP and not cause:
        raise PayloadError("hangup needs a cause")
    if cause and cause not in CallCause.values:
        raise PayloadError(
            f"unknown cause {cause!r}: expected one of {', '.join(CallCause.values)}"
        )
    return PhoneEvent(
        event=event,
        call_id=call_id,
        direction=direction,
        from_number=from_number,
        to_number=to_number,
        users=_users(data),
        queue=_text(data, "queue"),
        answering_number=_text(data, "answeringNumber"),
        cause=cause,
        duration=_duration(data),
        recording_url=_link(data, "recordingUrl"),
        voicemail_url=_link(data, "voicemailUrl"),
        timestamp=_timestamp(data),
    )
