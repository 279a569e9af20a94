"""The receiver of the SLA engine's one signal (see sla/signals.py)."""

from datetime import datetime
from typing import Any

from sla.models import EscalationRule, SlaClock
from tickets.services import ticket_record_sla


def on_clock_fired(
    sender: type,
    *,
    clock: SlaClock,
    kind: str,
    rule: EscalationRule | None,
    at: datetime,
    **_: Any,
) -> None:
    ticket_record_sla(clock=clock, kind=kind, rule=rule, at=at)
