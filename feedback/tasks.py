"""Feedback's Celery tasks."""

from celery import shared_task

from feedback.services.sampling import last_full_week, sample_draw
from feedback.services.surveys import (
    nps_quarter_sample,
    survey_invite,
    surveys_due_send,
    surveys_invite,
)


@shared_task(name="feedback.tasks.quality_sample_draw")
def quality_sample_draw() -> int:
    """Draw last week's quality sample (Celery beat, Monday night). Running it again adds
    nothing (feedback.services.sampling)."""
    return len(sample_draw(week=last_full_week()))


@shared_task(name="feedback.tasks.survey_invite_task")
def survey_invite_task(survey_id: int) -> bool:
    """Queue one survey's invitation if it is due; a second copy does nothing."""
    return survey_invite(survey_id=survey_id) is not None


@shared_task(name="feedback.tasks.surveys_invite_task")
def surveys_invite_task(survey_ids: list[int]) -> int:
    """Queue the invitations of a batch's surveys that are due (a bulk resolution's); a
    second copy does nothing. Returns how many were invited."""
    return len(surveys_invite(survey_ids=survey_ids))


@shared_task(name="feedback.tasks.surveys_sweep")
def surveys_sweep() -> int:
    """Invite the surveys whose delay has passed (Celery beat, the embedded ticker)."""
    return surveys_due_send()


@shared_task(name="feedback.tasks.nps_quarter")
def nps_quarter() -> int:
    """Ask the quarter's NPS sample (Celery beat, the first day of each quarter)."""
    return nps_quarter_sample()
