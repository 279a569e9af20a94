"""The demo's quality inspection: the stock scorecard, a rule per team, this week's sample
with its pre-checks, and one review of the demo agent's work; loaded once."""

from io import StringIO

import pytest
from django.core.management import call_command

from feedback.models import PrecheckKind, Review, Sample, SamplingRule, Scorecard
from tickets.models import Team

pytestmark = pytest.mark.django_db


def state() -> list[object]:
    return [
        list(Scorecard.objects.values_list("pk", "name")),
        list(SamplingRule.objects.values_list("pk", "team_id")),
        list(Sample.objects.order_by("pk").values_list("pk", "ticket_id", "reasons")),
        list(Review.objects.values_list("pk", "score")),
    ]


def test_the_demo_loads_a_scorecard_rules_a_sample_and_a_review_once(settings):
    settings.EMBEDDED = True
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo_quality", stdout=StringIO())
    assert SamplingRule.objects.count() == Team.objects.count()
    samples = Sample.objects.filter(agent__user__username="agent")
    assert samples.count() == 3
    curt = samples.get(ticket__messages__provider_id="demo-2")
    assert set(curt.hits.values_list("kind", flat=True)) >= {
        PrecheckKind.NO_GREETING,
        PrecheckKind.FORBIDDEN_PHRASE,
    }
    review = Review.objects.get()
    assert review.reviewer.username == "supervisor"
    assert review.agent.user.username == "agent"
    assert str(review.score) == "87.5"
    before = state()
    call_command("seed_demo_quality", stdout=StringIO())
    assert state() == before
