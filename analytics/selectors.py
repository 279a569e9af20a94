"""The board's counters."""

from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Avg, Count, F, Q
from django.utils import timezone

from tickets.models import SlaState, Status, Ticket


def board_counters(*, now: datetime | None = None) -> dict[str, Any]:
    """Open, unassigned, waiting on us, SLA at risk and breached (open tickets), and today's
    first responses with their average wall-clock time. Two queries."""
    now = now or timezone.now()
    current = Ticket.objects.filter(is_open=True).aggregate(
        open=Count("pk"),
        unassigned=Count("pk", filter=Q(assignee__isnull=True)),
        waiting=Count("pk", filter=Q(awaiting_reply_since__isnull=False)),
        at_risk=Count("pk", filter=Q(sla_state=SlaState.AT_RISK)),
        breached=Count("pk", filter=Q(sla_state=SlaState.BREACHED)),
        pending_customer=Count("pk", filter=Q(status=Status.PENDING_CUSTOMER)),
    )
    local_midnight = timezone.make_aware(
        datetime.combine(timezone.localdate(now), time.min), timezone.get_current_timezone()
    )
    today = Ticket.objects.filter(
        first_response_at__gte=local_midnight, first_response_at__lte=now
    ).aggregate(
        count=Count("pk"),
        average=Avg(F("first_response_at") - F("created_at")),
    )
    average: timedelta | None = today["average"]
    return {
        **current,
        "first_responses_today": today["count"],
        "first_response_avg_seconds": round(average.total_seconds()) if average else None,
    }
