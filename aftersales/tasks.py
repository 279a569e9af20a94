"""Celery tasks of after-sales: the logistics anomaly scan, on beat (and on embedded mode's
ticker)."""

from celery import shared_task

from aftersales.services.logistics import anomaly_scan


@shared_task(name="aftersales.tasks.logistics_scan", ignore_result=True)
def logistics_scan() -> int:
    """Every LOGISTICS_SCAN_SECONDS: open an anomaly for each shipment a rule now matches."""
    return sum(anomaly_scan().values())
