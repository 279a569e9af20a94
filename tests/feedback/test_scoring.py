"""The score: weighted 0–100 over the rated non-critical items; a missed critical item
makes it 0 and the review failed."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from feedback.models import ItemGroup, Rating, ScorecardItem
from feedback.services.reviews import ItemRating, review_submit
from feedback.services.scorecards import scorecard_current, scorecard_default
from feedback.services.scoring import score_of
from tests.feedback.factories import at, conversation, review
from tickets.models import AuditEntry


def item(weight: int, *, critical: bool = False) -> ScorecardItem:
    return ScorecardItem(
        group=ItemGroup.ACCURACY, name_zh="项", name_en="item", weight=weight, is_critical=critical
    )


def test_the_score_weighs_met_partly_and_missed():
    score = score_of([(item(20), Rating.MET), (item(10), Rating.PARTLY), (item(10), Rating.MISSED)])
    # (20 + 5 + 0) / 40
    assert score.value == Decimal("62.5")
    assert score.is_failed is False


def test_not_applicable_items_leave_the_sum():
    score = score_of([(item(30), Rating.MET), (item(70), Rating.NOT_APPLICABLE)])
    assert score.value == Decimal("100.0")


def test_a_third_rounds_to_one_decimal():
    score = score_of([(item(10), Rating.MET), (item(20), Rating.MISSED)])
    assert score.value == Decimal("33.3")


def test_a_missed_critical_item_fails_the_review_whatever_the_rest():
    score = score_of([(item(50), Rating.MET), (item(0, critical=True), Rating.MISSED)])
    assert score.value == Decimal("0.0")
    assert score.is_failed is True


def test_a_met_critical_item_carries_no_weight():
    score = score_of([(item(10), Rating.PARTLY), (item(90, critical=True), Rating.MET)])
    assert score.value == Decimal("50.0")
    assert score.is_failed is False


@pytest.mark.django_db
def test_a_submitted_review_stores_its_score_and_is_audited(agent, supervisor):
    ticket = conversation(
        agent=agent, turns=[("in", "你好", at(0, 10)), ("out", "您好", at(0, 10, 5))]
    )
    stored = review(
        ticket=ticket,
        agent=agent,
        reviewer=supervisor.user,
        ratings={"Proper greeting": Rating.MISSED, "Polite closing": Rating.PARTLY},
    )
    # 100 weight in all: greeting 10 missed, closing 5 half → 100 - 10 - 2.5
    assert stored.score == Decimal("87.5")
    assert stored.is_failed is False
    entry = AuditEntry.objects.get(action="quality_review_submitted")
    assert entry.actor == supervisor.user
    assert entry.object_id == str(stored.pk)
    assert entry.data["score"] == "87.5"


@pytest.mark.django_db
def test_revealing_personal_data_fails_the_review(agent, supervisor):
    ticket = conversation(
        agent=agent, turns=[("in", "你好", at(0, 10)), ("out", "您好", at(0, 10, 5))]
    )
    stored = review(
        ticket=ticket,
        agent=agent,
        reviewer=supervisor.user,
        ratings={"No personal data revealed": Rating.MISSED},
    )
    assert stored.score == Decimal("0.0")
    assert stored.is_failed is True


@pytest.mark.django_db
def test_a_scoring_must_rate_every_item_and_critical_items_only_met_or_missed(agent, supervisor):
    ticket = conversation(
        agent=agent, turns=[("in", "你好", at(0, 10)), ("out", "您好", at(0, 10, 5))]
    )
    version = scorecard_current(scorecard_default())
    items = list(version.items.all())
    partial = {items[0].pk: ItemRating(Rating.MET)}
    with pytest.raises(ValidationError):
        review_submit(
            ticket=ticket,
            agent=agent,
            reviewer=supervisor.user,
            version=version,
            ratings=partial,
            comment="",
        )
    critical_partly = {
        i.pk: ItemRating(Rating.PARTLY if i.is_critical else Rating.MET) for i in items
    }
    with pytest.raises(ValidationError):
        review_submit(
            ticket=ticket,
            agent=agent,
            reviewer=supervisor.user,
            version=version,
            ratings=critical_partly,
            comment="",
        )
    assert not AuditEntry.objects.filter(action="quality_review_submitted").exists()


@pytest.mark.django_db
def test_nobody_reviews_their_own_ticket_or_the_same_ticket_twice(agent, supervisor):
    ticket = conversation(
        agent=agent, turns=[("in", "你好", at(0, 10)), ("out", "您好", at(0, 10, 5))]
    )
    with pytest.raises(ValidationError):
        review(ticket=ticket, agent=agent, reviewer=agent.user)
    review(ticket=ticket, agent=agent, reviewer=supervisor.user)
    with pytest.raises(ValidationError):
        review(ticket=ticket, agent=agent, reviewer=supervisor.user)
