"""Analytics' periodic work."""

from celery import shared_task

from analytics.facts import facts_refresh as _facts_refresh


@shared_task(name="analytics.tasks.facts_refresh", ignore_result=True)
def facts_refresh() -> int:
    """Bring the facts and rollups of the tickets changed since the last run up to date."""
    return _facts_refresh()
