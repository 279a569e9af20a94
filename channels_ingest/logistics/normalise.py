"""Carrier event formats, turned into `TrackingUpdate`s that after-sales applies.

- The generic format (docs/aftersales.md): a JSON object with a list of events, each with
  `carrier`, `tracking_number`, `status` (one of `EVENT_STATUSES`), `location`, `at` (ISO
  8601 with its offset), and optionally `raw` and `event_id`.
- Kuaidi100's (快递100) subscription push: a form POST whose `param` is JSON with
  `lastResult` {`com`, `nu`, `state`, `data`: [{`context`, `time`, `ftime`, `areaName`,
  `status`, …}, newest first]}. `state` is the parcel's state now: 0 in transit, 1 collected,
  2 a problem parcel (疑难), 3 signed for, 4 returned and signed for by the sender (退签),
  5 out for delivery, 6 going back to the sender (退回), 7 forwarded (转投), 8 and 10-13
  customs, 14 refused (拒签).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_datetime

from aftersales.services.logistics import EVENT_STATUSES

MAX_EVENTS = 500
KUAIDI100 = "kuaidi100"
# Kuaidi100's times are Beijing wall-clock times without an offset.
_BEIJING = ZoneInfo("Asia/Shanghai")

KUAIDI100_STATES = {
    "0": "in_transit",
    "1": "collected",
    "2": "exception",
    "3": "delivered",
    "4": "returned",
    "5": "out_for_delivery",
    "6": "returning",
    "7": "in_transit",
    "8": "in_transit",
    "10": "in_transit",
    "11": "in_transit",
    "12": "in_transit",
    "13": "exception",
    "14": "rejected",
}
# The state names an event of the data list carries when the subscription asked for them
# (resultv2).
KUAIDI100_STATE_NAMES = {
    "在途": "in_transit",
    "揽收": "collected",
    "疑难": "exception",
    "签收": "delivered",
    "退签": "returned",
    "派件": "out_for_delivery",
    "退回": "returning",
    "转投": "in_transit",
    "清关": "in_transit",
    "拒签": "rejected",
}


class BadEvent(ValueError):
    """A payload that is not a valid event list; the message names the field."""


@dataclass(frozen=True)
class TrackingUpdate:
    carrier: str
    tracking_number: str
    status: str
    location: str
    at: datetime
    raw: dict[str, Any]


def _text(entry: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = entry.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadEvent(f"{where}.{key} must be a string")
    value = value.strip()
    if required and not value:
        raise BadEvent(f"{where}.{key} is required")
    return value


def generic_updates(data: object) -> list[TrackingUpdate]:
    """The events of a generic payload, checked whole: raises BadEvent for the first bad one."""
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise BadEvent("the body must be a JSON object with a list of events")
    entries = data["events"]
    if not entries:
        raise BadEvent("events is empty")
    if len(entries) > MAX_EVENTS:
        raise BadEvent(f"at most {MAX_EVENTS} events per request")
    updates = []
    for index, entry in enumerate(entries):
        where = f"events.{index}"
        if not isinstance(entry, dict):
            raise BadEvent(f"{where} must be an object")
        status = _text(entry, "status", where)
        if status not in EVENT_STATUSES:
            raise BadEvent(f"{where}.status must be one of {', '.join(EVENT_STATUSES)}")
        at = parse_datetime(_text(entry, "at", where))
        if at is None or at.tzinfo is None:
            raise BadEvent(f"{where}.at must be an ISO 8601 time with its offset")
        raw = entry.get("raw", {})
        updates.append(
            TrackingUpdate(
                carrier=_text(entry, "carrier", where)[:50],
                tracking_number=_text(entry, "tracking_number", where)[:64],
                status=status,
                location=_text(entry, "location", where, required=False)[:200],
                at=at,
                raw=raw if isinstance(raw, dict) else {"raw": raw},
            )
        )
    return updates


def _kuaidi100_status(entry: dict[str, Any], *, newest: bool, state: str) -> str:
    code = str(entry.get("statusCode") or "").strip()
    name = str(entry.get("status") or "").strip()
    for candidate in (code, state if newest else ""):
        if candidate in KUAIDI100_STATES:
            return KUAIDI100_STATES[candidate]
        # An advanced state (resultv2=4): 3 digits, the first is its main state.
        if len(candidate) == 3 and candidate[0] in KUAIDI100_STATES:
            return KUAIDI100_STATES[candidate[0]]
    if name in KUAIDI100_STATE_NAMES:
        return KUAIDI100_STATE_NAMES[name]
    return "in_transit"


def kuaidi100_updates(param: object) -> list[TrackingUpdate]:
    """The events of a kuaidi100 push's `param` (decoded), oldest first. The newest event
    takes the parcel's state; older ones their own, when the push names it."""
    if not isinstance(param, dict) or not isinstance(param.get("lastResult"), dict):
        raise BadEvent("param must be a JSON object with lastResult")
    result = param["lastResult"]
    carrier = _text(result, "com", "lastResult")[:50]
    number = _text(result, "nu", "lastResult")[:64]
    state = str(result.get("state", "")).strip()
    entries = result.get("data") or []
    if not isinstance(entries, list):
        raise BadEvent("lastResult.data must be a list")
    updates = []
    for index, entry in enumerate(entries[:MAX_EVENTS]):
        where = f"lastResult.data.{index}"
        if not isinstance(entry, dict):
            raise BadEvent(f"{where} must be an object")
        when = _text(entry, "ftime", where, required=False) or _text(entry, "time", where)
        at = parse_datetime(when)
        if at is None:
            raise BadEvent(f"{where}.ftime must be a time (YYYY-MM-DD HH:MM:SS)")
        if at.tzinfo is None:
            at = at.replace(tzinfo=_BEIJING)
        area = _text(entry, "areaName", where, required=False)
        context = _text(entry, "context", where, required=False)
        updates.append(
            TrackingUpdate(
                carrier=carrier,
                tracking_number=number,
                status=_kuaidi100_status(entry, newest=index == 0, state=state),
                location=f"{area} {context}".strip()[:200],
                at=at,
                raw=entry,
            )
        )
    updates.reverse()
    return updates
