"""The knowledge engine at work in the core: the answer bot, sentiment, suggestions."""

import pytest

from channels_ingest.models import OutboxEntry
from kb.models import DeflectionRecord
from tests.factories import intake
from tests.kb.factories import make_article
from tickets.models import Channel, Direction, Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def faq(db):  # type: ignore[no-untyped-def]
    return make_article(
        title="退款多久到账",
        questions=("退款什么时候到账", "钱什么时候退回来"),
        body="退款审核通过后原路退回，一般1-3个工作日到账。",
    )


def test_the_bot_answers_a_common_question_on_the_app_and_asks_if_it_helped(
    default_team, faq, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = intake(user_id="u1", text="退款什么时候到账？").ticket

    bot = ticket.messages.get(direction=Direction.OUT)
    assert bot.is_bot and bot.is_automatic
    assert "1-3个工作日" in bot.body
    assert "有帮助" in bot.body
    assert OutboxEntry.objects.get().body == bot.body
    assert Ticket.objects.get(pk=ticket.pk).first_response_at is None  # a bot is no person


def test_yes_after_a_bot_answer_resolves_the_ticket_and_counts_a_deflection(
    default_team, faq, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = intake(user_id="u1", text="退款什么时候到账？").ticket
    with django_capture_on_commit_callbacks(execute=True):
        intake(user_id="u1", text="是")

    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert list(DeflectionRecord.objects.values_list("outcome", flat=True)) == ["helpful"]


def test_asking_for_a_person_hands_off_and_the_bot_stays_quiet_afterwards(
    default_team, faq, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = intake(user_id="u1", text="转人工").ticket
    with django_capture_on_commit_callbacks(execute=True):
        intake(user_id="u1", text="退款什么时候到账？")

    ticket.refresh_from_db()
    assert ticket.bot_state.get("handed_off") is True
    # One bot message: the handoff notice; the later question waits for a person.
    (notice,) = ticket.messages.filter(is_bot=True)
    assert "人工" in notice.body


def test_email_is_never_answered_by_the_bot(default_team, faq, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = intake(
            email="li@example.com", text="退款什么时候到账？", channel=Channel.EMAIL
        ).ticket

    assert ticket.messages.filter(is_bot=True).count() == 0


def test_each_customer_message_gets_a_sentiment_and_the_ticket_their_mean(default_team):
    ticket = intake(user_id="u1", text="谢谢，很满意").ticket
    intake(user_id="u1", text="太慢了，非常失望，垃圾服务")

    ticket.refresh_from_db()
    scores = list(
        ticket.messages.filter(direction=Direction.IN)
        .order_by("pk")
        .values_list("sentiment", flat=True)
    )
    assert scores[0] > 0 > scores[1]
    assert ticket.sentiment == pytest.approx(round(sum(scores) / 2, 3))


def test_the_ticket_page_suggests_articles_to_insert(agent_client, faq):
    ticket = intake(user_id="u9", text="我的钱什么时候退回来").ticket

    page = agent_client.get(f"/tickets/{ticket.number}/")

    assert [s["title"] for s in page.context["suggestions"]][:1] == ["退款多久到账"]
    assert "data-kb-insert" in page.content.decode()
