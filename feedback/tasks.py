"""Feedback's Celery tasks."""

from celery import shared_task

from feedback.services.sampling import last_full_week, sample_draw


@shared_task(name="feedback.tasks.quality_sample_draw")
def quality_sample_draw() -> int:
    """Draw last week's quality sample (Celery beat, Monday night). Running it again adds
    nothing (feedback.services.sampling)."""
    return len(sample_draw(week=last_full_week()))
