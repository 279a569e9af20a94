"""The demo help centre `make run` loads: FAQ in both languages, answered by the bot and
suggested on the demo tickets."""

import pytest
from django.core.management import call_command

from kb.bot import DecisionKind, bot_reply
from kb.models import Article, ArticleCategory, ArticleStatus

pytestmark = pytest.mark.django_db


def test_the_demo_faq_is_published_in_both_languages_and_loads_once():
    call_command("seed_demo_kb")
    call_command("seed_demo_kb")

    published = Article.objects.filter(status=ArticleStatus.PUBLISHED)
    assert published.count() == Article.objects.count() == 15
    assert set(published.values_list("language", flat=True)) == {"zh-hans", "en"}
    assert set(ArticleCategory.objects.values_list("slug", flat=True)) == {
        "delivery",
        "returns",
        "refunds",
        "freshness",
        "membership",
    }
    assert Article.objects.get(external_id="demo-faq-refunds-when-zh").version == 1


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("请问会员积分怎么兑换优惠券？", "会员积分怎么兑换优惠券？"),
        ("退款多久到账", "退款多久到账？"),
        ("How long does a refund take?", "How long does a refund take?"),
    ],
)
def test_the_bot_answers_a_demo_question_from_the_demo_faq(question, title):
    call_command("seed_demo_kb")

    decision = bot_reply(text=question, channel="chat", state={})

    assert decision.kind == DecisionKind.ANSWER
    assert decision.suggestions[0].title == title
    assert decision.text


def test_the_help_centre_lists_the_demo_topics(client):
    call_command("seed_demo_kb")

    page = client.get("/kb/").content.decode()

    assert "配送与收货" in page and "新鲜保障" in page
