"""Business-time arithmetic from the command line.

manage.py sla_due --start 2025-09-30T17:00:00+08:00 --minutes 120
manage.py sla_due --start 2025-09-30T17:00:00+08:00 --end 2025-10-09T10:00:00+08:00
"""

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sla.models import BusinessCalendar
from sla.selectors import work_calendar


def _instant(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"{option}: not an ISO 8601 date and time: {value!r}") from error
    if parsed.tzinfo is None:
        raise CommandError(f"{option}: give a UTC offset or Z, e.g. {value}+08:00")
    return parsed


class Command(BaseCommand):
    help = (
        "Print the instant N business minutes after --start, or the business minutes between "
        "--start and --end, on a business calendar (default: the default calendar)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", required=True, help="ISO 8601 with offset")
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--minutes", type=int, help="business minutes to add (>= 0)")
        group.add_argument("--end", help="ISO 8601 with offset")
        parser.add_argument("--calendar", help="calendar name (default: the default calendar)")

    def handle(self, *args: Any, **options: Any) -> None:
        start = _instant(options["start"], "--start")
        name = options.get("calendar")
        calendars = BusinessCalendar.objects.all()
        found = calendars.filter(name=name) if name else calendars.filter(is_default=True)
        calendar_row = found.first()
        if calendar_row is None:
            known = ", ".join(calendars.values_list("name", flat=True)) or "none"
            wanted = f"named {name!r}" if name else "marked default"
            raise CommandError(f"no business calendar {wanted} (calendars: {known})")
        calendar = work_calendar(calendar_row.pk)
        if options.get("minutes") is not None:
            minutes = options["minutes"]
            if minutes < 0:
                raise CommandError("--minutes must be 0 or more")
            try:
                due = calendar.add(start, minutes * 60)
            except ValueError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(due.isoformat())
            return
        end = _instant(options["end"], "--end")
        seconds = calendar.between(start, end) if end >= start else -calendar.between(end, start)
        minutes_between = seconds / 60
        text = f"{minutes_between:g}" if seconds % 60 else str(seconds // 60)
        self.stdout.write(text)
