"""The demo's ticket history gets survey answers, so the satisfaction report, scorecards and
ranking show CSAT and NPS after `make run`: on the scale, for the ticket's agent, once."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from analytics.models import DailyRollup
from feedback.models import Survey
from tests.factories import intake
from tickets.models import Message, Status, Ticket
from tickets.services.workflow import ticket_assign, ticket_reply, ticket_set_status

pytestmark = pytest.mark.django_db


def history(agent, supervisor, index: int) -> Ticket:  # type: ignore[no-untyped-def]
    """A finished ticket that looks imported: its first message tagged as history."""
    result = intake(phone=f"138001380{index:02d}", text="快递三天没到")
    ticket = result.ticket
    ticket_assign(ticket=ticket, agent=agent, actor=supervisor.user)
    ticket_reply(ticket=ticket, author=agent, body="今天送到")
    ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=agent.user)
    Message.objects.filter(pk=result.message.pk).update(provider_id=f"demo-history:{index}")
    created = timezone.now() - timedelta(days=12)
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=created, first_response_at=created, resolved_at=created + timedelta(hours=1)
    )
    return ticket


def test_the_history_is_rated_on_the_scale_for_its_agent_once(agent, supervisor, settings):
    settings.EMBEDDED = True
    tickets = [history(agent, supervisor, index) for index in range(24)]
    Survey.objects.all().delete()  # the live resolutions' own surveys: not history's

    call_command("seed_demo_survey_history", verbosity=0)

    surveys = list(Survey.objects.filter(ticket__in=tickets).prefetch_related("agents"))
    answered = [s for s in surveys if s.answered_at is not None]
    assert 12 <= len(surveys) <= 24 and answered
    for survey in surveys:
        assert survey.invited_at is not None and survey.key.endswith(f":{survey.ticket_id}")
        assert list(survey.agents.all()) == [agent]
    for survey in answered:
        low, high = survey.scale
        assert low <= survey.score <= high  # type: ignore[operator]
        assert survey.answered_at <= survey.expires_at  # type: ignore[operator]

    rows = list(Survey.objects.order_by("pk").values())
    call_command("seed_demo_survey_history", verbosity=0)  # again: nothing changes
    assert list(Survey.objects.order_by("pk").values()) == rows

    call_command("facts_rebuild", verbosity=0)
    counted = sum(DailyRollup.objects.values_list("csat_answered", flat=True))
    counted += sum(DailyRollup.objects.values_list("nps_answered", flat=True))
    assert counted == len(answered)


def test_the_history_survey_seed_refuses_outside_the_embedded_demo(settings):
    settings.EMBEDDED = False

    with pytest.raises(CommandError):
        call_command("seed_demo_survey_history", verbosity=0)
