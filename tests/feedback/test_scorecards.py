"""Scorecards: items with groups, weights and critical items; editing adds a version and a
review keeps the version it was scored with."""

import pytest
from django.core.exceptions import ValidationError

from feedback.models import ItemGroup, ScorecardVersion
from feedback.services.scorecards import (
    DEFAULT_ITEMS,
    ItemSpec,
    scorecard_create,
    scorecard_current,
    scorecard_default,
    scorecard_version_add,
)
from tests.factories import make_agent
from tests.feedback.factories import at, conversation, review

pytestmark = pytest.mark.django_db


def test_the_stock_scorecard_has_both_languages_every_group_and_two_critical_items():
    scorecard = scorecard_default()
    items = list(scorecard_current(scorecard).items.all())
    assert len(items) == len(DEFAULT_ITEMS)
    assert {item.group for item in items} == set(ItemGroup.values)
    assert all(item.name_zh and item.name_en for item in items)
    assert [item.name_en for item in items if item.is_critical] == [
        "No personal data revealed",
        "No promise against policy",
    ]
    assert scorecard_default().pk == scorecard.pk  # made once


def test_editing_a_scorecard_adds_a_version_and_keeps_the_old_one(supervisor):
    scorecard = scorecard_create(
        name="Chat",
        items=[ItemSpec(ItemGroup.GREETING, "问候", "Greeting", 10)],
        actor=supervisor.user,
    )
    second = scorecard_version_add(
        scorecard=scorecard,
        items=[
            ItemSpec(ItemGroup.GREETING, "问候", "Greeting", 5),
            ItemSpec(ItemGroup.RESOLUTION, "解决", "Resolved", 15),
        ],
        actor=supervisor.user,
    )
    assert second.number == 2
    assert scorecard_current(scorecard).pk == second.pk
    first = ScorecardVersion.objects.get(scorecard=scorecard, number=1)
    assert [(i.name_en, i.weight) for i in first.items.all()] == [("Greeting", 10)]
    assert [(i.name_en, i.weight) for i in second.items.all()] == [
        ("Greeting", 5),
        ("Resolved", 15),
    ]


def test_a_review_keeps_the_version_it_was_scored_with(default_team, agent, supervisor):
    ticket = conversation(
        agent=agent, turns=[("in", "你好", at(0, 10)), ("out", "您好", at(0, 10, 5))]
    )
    scorecard = scorecard_default()
    before = review(ticket=ticket, agent=agent, reviewer=supervisor.user)
    scorecard_version_add(
        scorecard=scorecard,
        items=[ItemSpec(ItemGroup.ACCURACY, "准确", "Accurate", 10)],
        actor=supervisor.user,
    )
    before.refresh_from_db()
    assert before.version.number == 1
    assert before.items.count() == len(DEFAULT_ITEMS)
    other = make_agent(teams=[default_team], role="supervisor")
    after = review(ticket=ticket, agent=agent, reviewer=other.user)
    assert after.version.number == 2
    assert [row.item.name_en for row in after.items.all()] == ["Accurate"]


def test_a_scorecard_needs_a_weighted_item_that_is_not_critical(supervisor):
    with pytest.raises(ValidationError):
        scorecard_create(
            name="Only critical",
            items=[ItemSpec(ItemGroup.COMPLIANCE, "泄露", "Leak", 0, is_critical=True)],
            actor=supervisor.user,
        )


def test_the_edit_page_saves_a_new_version(client, supervisor):
    scorecard = scorecard_create(
        name="Phone", items=[ItemSpec(ItemGroup.GREETING, "问候", "Greeting", 10)], actor=None
    )
    client.force_login(supervisor.user)
    page = client.get(f"/quality/scorecards/{scorecard.pk}/")
    assert page.status_code == 200
    assert 'value="Greeting"' in page.content.decode()
    response = client.post(
        f"/quality/scorecards/{scorecard.pk}/",
        {
            "items-TOTAL_FORMS": "2",
            "items-INITIAL_FORMS": "1",
            "items-0-group": "greeting",
            "items-0-name_zh": "问候",
            "items-0-name_en": "Greeting",
            "items-0-weight": "20",
            "items-1-group": "compliance",
            "items-1-name_zh": "泄露隐私",
            "items-1-name_en": "Privacy",
            "items-1-weight": "0",
            "items-1-is_critical": "on",
        },
    )
    assert response.status_code == 302
    current = scorecard_current(scorecard)
    assert current.number == 2
    assert [(i.name_en, i.weight, i.is_critical) for i in current.items.all()] == [
        ("Greeting", 20, False),
        ("Privacy", 0, True),
    ]
