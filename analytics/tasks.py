"""Analytics' periodic work."""

from celery import shared_task

from analytics.facts import facts_refresh as _facts_refresh


@shared_task(name="analytics.tasks.facts_refresh", ignore_result=True)
def facts_refresh() -> int:
    """Bring the facts and rollups of the tickets changed since the last run up to date."""
    return _facts_refresh()


@shared_task(name="analytics.tasks.forecast_compute", ignore_result=True)
def forecast_compute() -> int:
    """Fit and store the contact forecast of the next two weeks (nightly, and on demand)."""
    from analytics.forecast import forecast_compute as _forecast_compute

    return _forecast_compute().pk


@shared_task(name="analytics.tasks.reports_send_due", ignore_result=True)
def reports_send_due() -> dict[str, int]:
    """Email the scheduled reports that are due and not sent yet (hourly)."""
    from analytics.scheduled import reports_send_due as _reports_send_due

    return _reports_send_due()
