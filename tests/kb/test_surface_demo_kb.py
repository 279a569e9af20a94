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


def test_a_tag_that_jieba_already_knows_is_still_a_word_after_the_tag_goes():
    # The demo FAQ tags 退款, a word of jieba's own dictionary: dropping the tag (another
    # test's clean slate, an article deleted) must not drop the word.
    from kb.text import dictionary_sync, search_terms

    before = search_terms("退款多久")
    dictionary_sync(["退款", "鲜到家"])
    dictionary_sync([])

    assert search_terms("退款多久") == before == ["w:退款", "w:多久", "c:退款", "c:款多", "c:多久"]
