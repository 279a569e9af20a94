"""What surveys and call-backs show on the core's pages (tickets.hooks): a card on the
ticket page (its surveys and ratings, its call-backs and a form to add one), and entries on
the customer's timeline (an answer, a call-back made, each attempt). Comments and notes
are shown with card, ID and phone numbers masked, as messages are."""

from functools import lru_cache

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import get_language

from feedback.forms.callbacks import CallbackForm
from feedback.models import Callback, CallbackAttempt, Survey
from feedback.selectors.callbacks import ticket_callbacks
from feedback.selectors.surveys import ticket_surveys
from tickets.hooks import TimelineBefore, TimelineExtra
from tickets.masking import mask_text
from tickets.models import Customer, Ticket


@lru_cache(maxsize=8)
def _callback_form_html(language: str) -> str:
    """The card's empty call-back form, the same for every ticket in a language: drawn once
    per process and language (Django's form templates cost about 2 ms a page)."""
    return CallbackForm().as_div()


def survey_panel(request: HttpRequest, ticket: Ticket) -> str:
    surveys = ticket_surveys(ticket)
    for survey in surveys:
        survey.comment = mask_text(survey.comment)
    return render_to_string(
        "feedback/surveys/_ticket_panel.html",
        {
            "ticket": ticket,
            "surveys": surveys,
            "callbacks": ticket_callbacks(ticket=ticket, user=request.user),
            "callback_form": _callback_form_html(get_language()),
        },
        request=request,
    )


def survey_answers(customer: Customer, before: TimelineBefore, size: int) -> list[TimelineExtra]:
    surveys = (
        Survey.objects.filter(customer=customer, answered_at__isnull=False)
        .filter(before("answered_at"))
        .prefetch_related("ticket")
        .order_by("-answered_at", "-pk")[:size]
    )
    entries = []
    for survey in surveys:
        assert survey.answered_at is not None
        survey.comment = mask_text(survey.comment)
        entries.append(
            TimelineExtra(
                at=survey.answered_at,
                pk=survey.pk,
                html=render_to_string("feedback/surveys/_timeline_answer.html", {"survey": survey}),
            )
        )
    return entries


def callbacks_made(customer: Customer, before: TimelineBefore, size: int) -> list[TimelineExtra]:
    callbacks = (
        Callback.objects.filter(customer=customer)
        .filter(before("created_at"))
        .prefetch_related("ticket", "owner__user")
        .order_by("-created_at", "-pk")[:size]
    )
    return [
        TimelineExtra(
            at=callback.created_at,
            pk=callback.pk,
            html=render_to_string(
                "feedback/callbacks/_timeline_callback.html",
                {"callback": callback, "note": mask_text(callback.note)},
            ),
        )
        for callback in callbacks
    ]


def callback_attempts(customer: Customer, before: TimelineBefore, size: int) -> list[TimelineExtra]:
    attempts = (
        CallbackAttempt.objects.filter(callback__customer=customer)
        .filter(before("at"))
        .prefetch_related("callback__ticket", "agent__user")
        .order_by("-at", "-pk")[:size]
    )
    return [
        TimelineExtra(
            at=attempt.at,
            pk=attempt.pk,
            html=render_to_string(
                "feedback/callbacks/_timeline_attempt.html",
                {"attempt": attempt, "note": mask_text(attempt.note)},
            ),
        )
        for attempt in attempts
    ]
