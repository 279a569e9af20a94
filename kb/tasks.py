"""Celery tasks of the knowledge base. They take ids and may run twice."""

from celery import shared_task

from kb import services


@shared_task(name="kb.tasks.training_run_execute")
def training_run_execute_task(run_id: int) -> None:
    """Train an uploaded CSV; the service claims the run, so a redelivery is a no-op."""
    services.training_run_execute(run_id=run_id)
