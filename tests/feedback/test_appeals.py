"""The reviewed agent acknowledges or appeals with a reason; a supervisor decides once:
upheld changes ratings and the score with a record, rejected keeps them."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from feedback.models import Appeal, AppealStatus, Rating, ReviewItem
from feedback.services.reviews import appeal_decide, appeal_open, review_acknowledge
from tests.factories import make_agent
from tests.feedback.factories import at, conversation, review
from tickets.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(agent, supervisor):  # type: ignore[no-untyped-def]
    ticket = conversation(
        agent=agent, turns=[("in", "你好", at(0, 10)), ("out", "在的", at(0, 10, 5))]
    )
    return review(
        ticket=ticket,
        agent=agent,
        reviewer=supervisor.user,
        ratings={"Proper greeting": Rating.MISSED},
    )


def greeting(review):  # type: ignore[no-untyped-def]
    return ReviewItem.objects.get(review=review, item__name_en="Proper greeting")


def test_the_agent_acknowledges_once(reviewed, agent):
    assert review_acknowledge(review=reviewed, user=agent.user) is True
    assert review_acknowledge(review=reviewed, user=agent.user) is False
    reviewed.refresh_from_db()
    assert reviewed.acknowledged_at is not None
    with pytest.raises(ValidationError):
        appeal_open(review=reviewed, user=agent.user, reason="晚了")


def test_only_the_reviewed_agent_answers(reviewed, default_team):
    other = make_agent(teams=[default_team])
    with pytest.raises(PermissionDenied):
        appeal_open(review=reviewed, user=other.user, reason="不公平")
    with pytest.raises(PermissionDenied):
        review_acknowledge(review=reviewed, user=other.user)
    assert not Appeal.objects.exists()


def test_an_appeal_needs_a_reason_and_is_made_once(reviewed, agent):
    with pytest.raises(ValidationError):
        appeal_open(review=reviewed, user=agent.user, reason="  ")
    appeal_open(review=reviewed, user=agent.user, reason="我在第一句问候了")
    with pytest.raises(ValidationError):
        appeal_open(review=reviewed, user=agent.user, reason="再来一次")
    assert Appeal.objects.get().reason == "我在第一句问候了"


def test_an_upheld_appeal_changes_the_score_with_a_record(reviewed, agent, supervisor):
    assert reviewed.score == Decimal("90.0")
    appeal = appeal_open(review=reviewed, user=agent.user, reason="我问候了")
    item = greeting(reviewed)
    decided = appeal_decide(
        appeal=appeal,
        supervisor=supervisor.user,
        upheld=True,
        note="问候在聊天记录第一条",
        new_ratings={item.item_id: Rating.MET},
    )
    reviewed.refresh_from_db()
    assert reviewed.score == Decimal("100.0")
    assert greeting(reviewed).rating == Rating.MET
    assert decided.status == AppealStatus.UPHELD
    assert (decided.score_before, decided.score_after) == (Decimal("90.0"), Decimal("100.0"))
    assert decided.changes == {str(item.item_id): [Rating.MISSED, Rating.MET]}
    entry = AuditEntry.objects.get(action="quality_appeal_decided")
    assert entry.actor == supervisor.user
    assert entry.data["status"] == "upheld"
    assert entry.data["score_after"] == "100.0"


def test_a_rejected_appeal_keeps_the_score(reviewed, agent, supervisor):
    appeal = appeal_open(review=reviewed, user=agent.user, reason="不同意")
    item = greeting(reviewed)
    decided = appeal_decide(
        appeal=appeal,
        supervisor=supervisor.user,
        upheld=False,
        note="",
        new_ratings={item.item_id: Rating.MET},
    )
    reviewed.refresh_from_db()
    assert reviewed.score == Decimal("90.0")
    assert greeting(reviewed).rating == Rating.MISSED
    assert decided.status == AppealStatus.REJECTED
    assert decided.changes == {}
    assert AuditEntry.objects.get(action="quality_appeal_decided").data["status"] == "rejected"


def test_an_appeal_is_decided_once(reviewed, agent, supervisor):
    appeal = appeal_open(review=reviewed, user=agent.user, reason="不同意")
    appeal_decide(appeal=appeal, supervisor=supervisor.user, upheld=False, note="", new_ratings={})
    with pytest.raises(ValidationError):
        appeal_decide(
            appeal=appeal, supervisor=supervisor.user, upheld=True, note="", new_ratings={}
        )
    assert AuditEntry.objects.filter(action="quality_appeal_decided").count() == 1


def test_the_pages_take_the_appeal_and_the_decision(client, reviewed, agent, supervisor):
    client.force_login(agent.user)
    page = client.get(f"/quality/reviews/{reviewed.pk}/").content.decode()
    assert f'action="/quality/reviews/{reviewed.pk}/appeal/"' in page
    client.post(f"/quality/reviews/{reviewed.pk}/appeal/", {"reason": "我问候了"})
    assert Appeal.objects.get().status == AppealStatus.OPEN
    # The agent may not decide their own appeal.
    assert (
        client.post(f"/quality/reviews/{reviewed.pk}/decide/", {"decision": "upheld"}).status_code
        == 403
    )
    client.force_login(supervisor.user)
    assert "我问候了" in client.get("/quality/appeals/").content.decode()
    item = greeting(reviewed)
    response = client.post(
        f"/quality/reviews/{reviewed.pk}/decide/",
        {"decision": "upheld", "note": "ok", f"rating_{item.item_id}": "met"},
    )
    assert response.status_code == 302
    reviewed.refresh_from_db()
    assert reviewed.score == Decimal("100.0")
