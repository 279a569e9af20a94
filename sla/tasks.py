"""Celery tasks of the SLA engine."""

from celery import shared_task

from sla.services import clocks_tick


@shared_task(name="sla.tasks.sla_tick", ignore_result=True)
def sla_tick() -> dict[str, int]:
    """Beat runs this every SLA_TICK_SECONDS. Safe to run twice at once: firing is a CAS."""
    result = clocks_tick()
    return {"warned": result.warned, "breached": result.breached}
