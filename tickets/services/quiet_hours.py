"""Quiet hours: when Kefu does not text a customer unasked (NOTICE_QUIET_HOURS).

Shared by every app that sends unasked messages (after-sales notices, survey invitations),
so the setting is read in one place and means the same everywhere.
"""

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

logger = logging.getLogger("kefu.tickets.quiet_hours")


def quiet_hours() -> tuple[time, time] | None:
    """NOTICE_QUIET_HOURS as (start, end); None when "off" (or empty) or not "HH:MM-HH:MM"
    (logged: a mistyped setting must not stop what a message announces). In the environment
    an empty variable means the default, so "off" is how a deployment turns them off."""
    value = settings.NOTICE_QUIET_HOURS.strip()
    if not value or value.lower() == "off":
        return None
    try:
        start, end = (part.strip() for part in value.split("-", 1))
        return time.fromisoformat(start), time.fromisoformat(end)
    except ValueError:
        logger.error("NOTICE_QUIET_HOURS %r is not HH:MM-HH:MM: no quiet hours", value)
        return None


def quiet_hours_end(now: datetime) -> datetime | None:
    """When the quiet hours `now` falls in end (the customer's time zone: TIME_ZONE); None
    when `now` is not in them (or there are none). The hours may cross midnight."""
    hours = quiet_hours()
    if hours is None:
        return None
    start, end = hours
    zone = ZoneInfo(settings.TIME_ZONE)
    local = now.astimezone(zone)
    at = local.time()
    quiet = (at >= start or at < end) if start > end else (start <= at < end)
    if not quiet:
        return None
    morning = datetime.combine(local.date(), end, tzinfo=zone)
    if morning <= local:
        morning = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=zone)
    return morning
