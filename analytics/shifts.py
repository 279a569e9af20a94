"""Agents' shifts, entered on the staffing page or imported from CSV (docs/staffing.md).

A shift is what assignment already honours: the agent's `shift_calendar`, a business
calendar whose weekly hours are the agent's working hours. Each agent gets a calendar of
their own ("Shift: <username>", off on China's public holidays and on duty on make-up
workdays, like the default calendar); an agent who shared a calendar with others is moved to
their own, so editing one roster never changes another's.

CSV: a header `agent,weekday,start,end` and one row per shift: the agent's username, the
weekday (1–7 for Monday–Sunday, mon…sun, or 周一…周日/星期一…星期日), and the local start
and end as HH:MM (end after start; a night shift is two rows, before and after midnight;
24:00 is the end of the day). An import replaces the weekly hours of every agent it names and
leaves the others alone. Every row is checked first; with any error nothing is written.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from sla.models import BusinessCalendar, BusinessHours
from sla.selectors import calendar_cache_clear
from tickets.models import Agent
from tickets.services.audit import audit_record

MAX_IMPORT_BYTES = 1024 * 1024
MAX_IMPORT_ROWS = 5000
HEADER = ("agent", "weekday", "start", "end")
_WEEKDAY_NAMES = {
    **{str(n): n - 1 for n in range(1, 8)},
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    **{f"周{c}": i for i, c in enumerate("一二三四五六日")},
    **{f"星期{c}": i for i, c in enumerate("一二三四五六日")},
    "周天": 6,
    "星期天": 6,
}


@dataclass(frozen=True)
class ShiftHours:
    weekday: int  # 0 = Monday
    start: time
    end: time  # time.max for midnight


class ShiftImportError(Exception):
    """The file's problems, one line per bad row; nothing was imported."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def _calendar_for(agent: Agent) -> BusinessCalendar:
    """The agent's own shift calendar, made (or split from a shared one) when needed."""
    name = f"Shift: {agent.user.get_username()}"[:100]
    current = agent.shift_calendar
    if current is not None and current.name == name:
        return current
    default = BusinessCalendar.objects.filter(is_default=True).first()
    calendar, _created = BusinessCalendar.objects.get_or_create(
        name=name,
        defaults={
            "timezone": default.timezone if default else "Asia/Shanghai",
            "use_cn_holidays": default.use_cn_holidays if default else True,
            "holiday_country": default.holiday_country if default else "",
        },
    )
    if current is not None:
        # Split from a shared calendar: the agent keeps the hours they had.
        BusinessHours.objects.filter(calendar=calendar).delete()
        BusinessHours.objects.bulk_create(
            BusinessHours(calendar=calendar, weekday=h.weekday, start=h.start, end=h.end)
            for h in current.hours.all()
        )
    agent.shift_calendar = calendar
    agent.save(update_fields=["shift_calendar"])
    return calendar


def _hours_replace(agent: Agent, hours: Iterable[ShiftHours], weekdays: set[int]) -> None:
    calendar = _calendar_for(agent)
    BusinessHours.objects.filter(calendar=calendar, weekday__in=weekdays).delete()
    BusinessHours.objects.bulk_create(
        BusinessHours(calendar=calendar, weekday=h.weekday, start=h.start, end=h.end) for h in hours
    )


def shift_set(
    *, agent: Agent, weekdays: set[int], start: time, end: time, actor: User | None
) -> None:
    """Make `start`–`end` the agent's shift on each of `weekdays` (0 = Monday), replacing
    what those days had; audited (`actor` None: Kefu itself, e.g. the demo's seeding)."""
    if not weekdays or not weekdays <= set(range(7)):
        raise ValueError("weekdays must be a non-empty set of 0–6")
    if end <= start:
        raise ValueError("a shift ends after it starts")
    with transaction.atomic():
        _hours_replace(agent, (ShiftHours(day, start, end) for day in sorted(weekdays)), weekdays)
        audit_record(
            actor=actor,
            action="shift_set",
            object_type="agent",
            object_id=str(agent.pk),
            data={"weekdays": sorted(weekdays), "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"},
        )
    calendar_cache_clear()


def shift_clear(*, agent: Agent, actor: User | None) -> None:
    """Take the agent off every roster (no shift hours: assignable whenever online)."""
    with transaction.atomic():
        agent.shift_calendar = None
        agent.save(update_fields=["shift_calendar"])
        audit_record(
            actor=actor,
            action="shift_cleared",
            object_type="agent",
            object_id=str(agent.pk),
            data={},
        )
    calendar_cache_clear()


def _parse_time(value: str, *, is_end: bool) -> time | None:
    value = value.strip()
    if is_end and value in ("24:00", "24:00:00"):
        return time.max
    parts = value.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        return None
    hour, minute = int(parts[0]), int(parts[1])
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


def shifts_parse(content: bytes) -> dict[str, list[ShiftHours]]:
    """The file's shifts by username; `ShiftImportError` listing every bad row."""
    if len(content) > MAX_IMPORT_BYTES:
        raise ShiftImportError([_("The file is larger than 1 MB.")])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ShiftImportError([_("The file is not UTF-8 text.")]) from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(cell.strip().lower() for cell in rows[0]) != HEADER:
        raise ShiftImportError([_("The first line must be: agent,weekday,start,end")])
    body = [(n, row) for n, row in enumerate(rows[1:], start=2) if any(c.strip() for c in row)]
    if not body:
        raise ShiftImportError([_("The file has no shifts.")])
    if len(body) > MAX_IMPORT_ROWS:
        raise ShiftImportError([_("At most %(n)d shifts in one file.") % {"n": MAX_IMPORT_ROWS}])
    usernames = {row[0].strip() for _n, row in body if row}
    agents = {
        agent.user.get_username(): agent
        for agent in Agent.objects.select_related("user").filter(
            user__username__in=usernames, user__is_active=True
        )
    }
    errors: list[str] = []
    found: dict[str, list[ShiftHours]] = defaultdict(list)
    for number, row in body:
        problems: list[str] = []
        if len(row) != len(HEADER):
            errors.append(
                _("Line %(line)d: expected 4 values, found %(n)d.")
                % {"line": number, "n": len(row)}
            )
            continue
        username, weekday_text, start_text, end_text = (cell.strip() for cell in row)
        if username not in agents:
            problems.append(_("no active agent %(name)s") % {"name": repr(username)})
        weekday = _WEEKDAY_NAMES.get(weekday_text.lower())
        if weekday is None:
            problems.append(
                _("weekday %(value)s is not 1–7 or a day's name") % {"value": repr(weekday_text)}
            )
        start = _parse_time(start_text, is_end=False)
        end = _parse_time(end_text, is_end=True)
        if start is None:
            problems.append(_("start %(value)s is not HH:MM") % {"value": repr(start_text)})
        if end is None:
            problems.append(_("end %(value)s is not HH:MM") % {"value": repr(end_text)})
        if start is not None and end is not None and end <= start:
            problems.append(_("the shift ends before it starts (split a night shift at 24:00)"))
        if problems:
            errors.append(
                _("Line %(line)d: %(problems)s.")
                % {"line": number, "problems": "; ".join(problems)}
            )
            continue
        assert weekday is not None and start is not None and end is not None
        for other in found[username]:
            if other.weekday == weekday and start < other.end and other.start < end:
                errors.append(
                    _("Line %(line)d: overlaps another shift of %(name)s that day.")
                    % {"line": number, "name": username}
                )
                break
        else:
            found[username].append(ShiftHours(weekday, start, end))
    if errors:
        raise ShiftImportError(errors)
    return dict(found)


def shifts_import(*, content: bytes, actor: User | None) -> int:
    """Replace the weekly shifts of every agent the CSV names with its rows, all or nothing;
    the number of shifts imported. `ShiftImportError` when any row is bad."""
    parsed = shifts_parse(content)
    agents = {
        agent.user.get_username(): agent
        for agent in Agent.objects.select_related("user", "shift_calendar").filter(
            user__username__in=list(parsed)
        )
    }
    with transaction.atomic():
        for username, hours in parsed.items():
            _hours_replace(agents[username], hours, set(range(7)))
        audit_record(
            actor=actor,
            action="shifts_imported",
            object_type="agent",
            object_id=",".join(str(agents[username].pk) for username in sorted(parsed)),
            data={"shifts": sum(len(hours) for hours in parsed.values())},
        )
    calendar_cache_clear()
    return sum(len(hours) for hours in parsed.values())
