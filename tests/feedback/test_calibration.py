"""Calibration: two reviewers scoring the same ticket give an agreement figure (the share of
items rated alike, and the score difference), listed for supervisors."""

from decimal import Decimal

import pytest

from feedback.models import Rating
from feedback.selectors.quality import calibration_pairs
from feedback.services.scoring import agreement_of
from tests.factories import make_agent
from tests.feedback.factories import at, conversation, review

pytestmark = pytest.mark.django_db


def test_two_reviews_of_one_ticket_give_the_share_alike_and_the_difference(
    default_team, agent, supervisor
):
    ticket = conversation(
        agent=agent, turns=[("in", "你好", at(0, 10)), ("out", "在的", at(0, 10, 5))]
    )
    second = make_agent(teams=[default_team], role="supervisor")
    first_review = review(
        ticket=ticket,
        agent=agent,
        reviewer=supervisor.user,
        ratings={"Proper greeting": Rating.MISSED},
    )
    second_review = review(
        ticket=ticket,
        agent=agent,
        reviewer=second.user,
        ratings={"Proper greeting": Rating.MISSED, "Empathy": Rating.PARTLY},
    )
    agreement = agreement_of(first_review, second_review)
    # 10 items, 9 rated alike; 90.0 against 82.5
    assert (agreement.same, agreement.compared) == (9, 10)
    assert agreement.percent == 90
    assert agreement.score_difference == Decimal("7.5")
    [pair] = calibration_pairs()
    assert {pair.first.pk, pair.second.pk} == {first_review.pk, second_review.pk}


def test_a_ticket_reviewed_once_is_no_pair(agent, supervisor):
    ticket = conversation(
        agent=agent, turns=[("in", "你好", at(0, 10)), ("out", "在的", at(0, 10, 5))]
    )
    review(ticket=ticket, agent=agent, reviewer=supervisor.user)
    assert calibration_pairs() == []


def test_the_calibration_page_is_for_supervisors(client, default_team, agent, supervisor):
    ticket = conversation(
        agent=agent, turns=[("in", "你好", at(0, 10)), ("out", "在的", at(0, 10, 5))]
    )
    second = make_agent(teams=[default_team], role="supervisor")
    review(ticket=ticket, agent=agent, reviewer=supervisor.user)
    review(ticket=ticket, agent=agent, reviewer=second.user, ratings={"Empathy": Rating.MISSED})
    client.force_login(supervisor.user)
    page = client.get("/quality/calibration/").content.decode()
    assert ticket.number in page
    assert "90%" in page and "15.0" in page
    client.force_login(agent.user)
    assert client.get("/quality/calibration/").status_code == 403
