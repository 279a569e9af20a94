import json

import pytest
from django.core.management import call_command

from kb import services
from kb.models import ArticleStatus
from kb.search import IndexEntry, SearchIndex, search, suggest_for
from kb.services import ArticleContent
from tests.kb.factories import make_article, make_faq_set

pytestmark = pytest.mark.django_db


def test_a_chinese_question_finds_the_faq_entry_asked_in_other_words():
    faq = make_faq_set()

    hits = search("我的退款几天能到账")

    assert hits[0].article_id == faq["refund"].pk
    assert hits[0].title == "退款多久到账"
    assert hits[0].answer == "退款审核通过后原路退回，一般1-3个工作日到账。"
    assert 0 < hits[0].confidence <= 1


def test_a_synonym_bridges_words_the_entry_does_not_use():
    faq = make_faq_set()

    assert search("我的包裹到哪了")[0].article_id == faq["track"].pk
    assert search("公司报销要开票")[0].article_id == faq["invoice"].pk


def test_english_is_stemmed_and_survives_a_typo():
    faq = make_faq_set()

    assert search("resetting passwords")[0].article_id == faq["password"].pk
    assert search("pasword forgoten")[0].article_id == faq["password"].pk
    assert search("shiping cost")[0].article_id == faq["shipping"].pk


def test_drafts_are_not_found_until_published():
    draft = make_article(title="会员积分怎么用", body="100积分抵1元。", status=ArticleStatus.DRAFT)
    assert search("积分怎么用") == []

    services.article_set_status(article=draft, status=ArticleStatus.PUBLISHED, author=None)

    assert [hit.article_id for hit in search("积分怎么用")] == [draft.pk]


def test_the_language_filter_keeps_one_language():
    faq = make_faq_set()

    assert search("password", language="zh-hans") == []
    hits = search("password", language="en")
    assert hits[0].article_id == faq["password"].pk
    assert {hit.language for hit in hits} == {"en"}


def test_an_edited_article_is_found_by_its_new_words():
    faq = make_faq_set()
    services.article_update(
        article=faq["invoice"],
        content=ArticleContent(title="电子发票怎么下载", body="在订单详情下载PDF。"),
        author=None,
    )

    assert search("下载电子发票")[0].article_id == faq["invoice"].pk
    assert search("下载电子发票")[0].answer == "在订单详情下载PDF。"


def test_tags_join_the_word_dictionary_and_the_index():
    article = make_article(title="会员日活动", body="每周三会员日。", tags=("盒马鲜生",))

    assert search("盒马鲜生")[0].article_id == article.pk


def test_nothing_is_found_for_an_empty_or_unknown_query():
    make_faq_set()

    assert search("") == []
    assert search("   ") == []
    assert search("zzqx") == []


def test_agent_suggestions_are_the_top_three():
    faq = make_faq_set()

    hits = suggest_for("你好，我申请了退款，请问什么时候到账？快递也没到")

    assert len(hits) <= 3
    assert hits[0].article_id == faq["refund"].pk


def test_a_scratch_index_orders_by_score_and_reports_the_matched_phrasing():
    index = SearchIndex.build(
        [
            IndexEntry(
                article_id=1,
                title="怎么取消订单",
                questions=["订单可以取消吗"],
                body="未发货可取消。",
            ),
            IndexEntry(article_id=2, title="怎么开发票", questions=[], body="订单完成后申请。"),
        ]
    )

    hits = index.search("订单能取消吗", limit=5)

    assert [hit.article_id for hit in hits] == [1, 2]
    assert hits[0].question == "订单可以取消吗"
    assert hits[0].score > hits[1].score


def test_kb_eval_prints_top1_mrr_and_p99_as_json_last(tmp_path, capsys):
    faq = tmp_path / "faq.csv"
    faq.write_text(
        "\ufeffid,question,answer\n"
        "r1,退款多久到账,一般1-3个工作日到账。\n"
        "r1,退款什么时候到账,\n"
        "t1,怎么查物流,在我的订单查看物流。\n"
        "p1,How do I reset my password?,Tap Forgot password.\n",
        encoding="utf-8",
    )
    queries = tmp_path / "queries.csv"
    queries.write_text(
        "query,expected_id\n钱什么时候到账,r1\n我的快递到哪了,t1\nforgot my password,p1\n",
        encoding="utf-8",
    )

    call_command("kb_eval", "--faq", str(faq), "--queries", str(queries))

    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert sorted(last) == ["mrr", "n", "p99_ms", "top1"]
    assert (last["top1"], last["mrr"], last["n"]) == (1.0, 1.0, 3)
