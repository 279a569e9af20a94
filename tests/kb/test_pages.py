import json

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from kb import services
from kb.models import Article, ArticleStatus, ModelTask, RuleKind, TriageModel, TriageRule
from kb.selectors import deflection_summary
from tests.factories import UserFactory
from tests.kb.factories import make_article, make_faq_set
from tests.support.triage_samples import CATEGORY_LABELS, CATEGORY_TEXTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor_client(client):  # type: ignore[no-untyped-def]
    client.force_login(UserFactory(role="supervisor"))
    return client


def test_customers_browse_categories_read_articles_and_search(client):
    category = services.article_category_save(
        slug="refunds", name_zh="退款", name_en="Refunds", position=0, category=None
    )
    article = make_article(title="退款多久到账", body="一般**3天**到账。", category=category)
    make_article(title="草稿", body="还没写完", status=ArticleStatus.DRAFT, category=category)

    home = client.get(reverse("kb:home"))
    listing = client.get(reverse("kb:category", args=["refunds"]))
    page = client.get(reverse("kb:article", args=[article.pk]))
    results = client.get(reverse("kb:search"), {"q": "退款几天到账"})

    assert home.status_code == 200
    assert "退款" in home.content.decode()
    assert listing.status_code == 200
    assert "退款多久到账" in listing.content.decode()
    assert "草稿" not in listing.content.decode()
    assert "<strong>3天</strong>" in page.content.decode()
    assert [hit.article_id for hit in results.context["hits"]] == [article.pk]


def test_drafts_are_not_public(client):
    draft = make_article(title="草稿", body="还没写完", status=ArticleStatus.DRAFT)

    assert client.get(reverse("kb:article", args=[draft.pk])).status_code == 404


def test_article_markdown_is_sanitised_before_it_reaches_customers(client):
    article = make_article(
        title="XSS",
        body='Hi <script>alert(1)</script><img src=x onerror="alert(2)"> [x](javascript:alert(3))',
    )

    html = client.get(reverse("kb:article", args=[article.pk])).content.decode()

    assert "<script>alert(1)" not in html
    assert "onerror" not in html
    assert "javascript:alert" not in html


def test_public_pages_are_rate_limited_per_ip(client, settings):
    settings.RATELIMIT_ENABLE = True
    settings.KB_PUBLIC_RATE_LIMIT = "2/h"  # an hour: the window does not roll over mid-test

    codes = [client.get(reverse("kb:search"), {"q": "x"}).status_code for _ in range(3)]

    assert codes == [200, 200, 429]


def test_the_editor_is_for_supervisors_only(agent_client):
    url = reverse("kb:manage-articles")

    assert Client().get(url).status_code == 302
    assert agent_client.get(url).status_code == 403
    assert agent_client.get(reverse("kb:triage")).status_code == 403


def test_a_supervisor_writes_edits_publishes_and_restores_an_article(supervisor_client):
    created = supervisor_client.post(
        reverse("kb:manage-article-new"),
        {
            "title": "怎么开发票",
            "kind": "faq",
            "language": "zh-hans",
            "questions": "可以开发票吗\n发票在哪里申请",
            "body": "在订单详情申请。",
            "tags": "发票, 电子发票",
        },
    )
    article = Article.objects.get()
    assert created.status_code == 302
    assert (article.status, article.version) == (ArticleStatus.DRAFT, 1)
    assert article.questions == ["可以开发票吗", "发票在哪里申请"]
    assert article.tags == ["发票", "电子发票"]

    supervisor_client.post(
        reverse("kb:manage-article", args=[article.pk]),
        {
            "title": "如何开发票",
            "kind": "faq",
            "language": "zh-hans",
            "body": "新的答案。",
            "publish": "1",
        },
    )
    article.refresh_from_db()
    assert (article.title, article.status, article.version) == ("如何开发票", "published", 3)
    assert list(article.versions.values_list("number", "note")) == [
        (3, "published"),
        (2, "edited"),
        (1, "created"),
    ]

    supervisor_client.post(reverse("kb:manage-version", args=[article.pk, 1]))
    article.refresh_from_db()
    assert (article.title, article.body, article.version) == ("怎么开发票", "在订单详情申请。", 4)
    page = supervisor_client.get(reverse("kb:manage-article", args=[article.pk]))
    assert page.status_code == 200
    assert "restored v1" in page.content.decode()


def test_import_then_export_round_trips_and_a_reimport_updates(supervisor_client, tmp_path):
    csv_text = (
        "\ufeffid,kind,language,category,title,questions,body,tags,status\n"
        'faq-1,faq,zh-hans,refunds,退款多久到账,"退款什么时候到账\n钱多久退回",一般3天。,"退款",published\n'
        "faq-2,faq,en,,How much is shipping?,,6 yuan under 59.,,draft\n"
    )
    upload = tmp_path / "kb.csv"
    upload.write_text(csv_text, encoding="utf-8")

    with upload.open("rb") as handle:
        supervisor_client.post(reverse("kb:manage-import"), {"file": handle})
    exported = json.loads(supervisor_client.get(reverse("kb:manage-export", args=["json"])).content)

    assert exported == [
        {
            "id": "faq-1",
            "kind": "faq",
            "language": "zh-hans",
            "category": "refunds",
            "title": "退款多久到账",
            "questions": ["退款什么时候到账", "钱多久退回"],
            "body": "一般3天。",
            "tags": ["退款"],
            "status": "published",
        },
        {
            "id": "faq-2",
            "kind": "faq",
            "language": "en",
            "category": "",
            "title": "How much is shipping?",
            "questions": [],
            "body": "6 yuan under 59.",
            "tags": [],
            "status": "draft",
        },
    ]
    exported[0]["body"] = "一般1-3天。"
    again = tmp_path / "kb.json"
    again.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    with again.open("rb") as handle:
        supervisor_client.post(reverse("kb:manage-import"), {"file": handle})
    assert Article.objects.count() == 2
    assert Article.objects.get(external_id="faq-1").body == "一般1-3天。"
    csv_export = supervisor_client.get(reverse("kb:manage-export", args=["csv"]))
    assert csv_export.content.decode("utf-8-sig").splitlines()[0] == (
        "id,kind,language,category,title,questions,body,tags,status"
    )


def test_a_file_with_a_bad_row_imports_nothing(supervisor_client, tmp_path):
    upload = tmp_path / "kb.csv"
    upload.write_text(
        "id,title,body,status\na,好,答案,published\nb,坏,答案,maybe\n", encoding="utf-8"
    )

    with upload.open("rb") as handle:
        response = supervisor_client.post(
            reverse("kb:manage-import"), {"file": handle}, follow=True
        )

    assert Article.objects.count() == 0
    assert "status &#x27;maybe&#x27; is not one of draft, published" in response.content.decode()


def test_the_triage_page_edits_rules_and_trains_from_an_upload(
    supervisor_client, tmp_path, django_capture_on_commit_callbacks
):
    page = supervisor_client.get(reverse("kb:triage"))
    assert page.status_code == 200
    rule = TriageRule.objects.get(kind=RuleKind.CATEGORY, code="logistics")

    supervisor_client.post(
        reverse("kb:triage-rule-save"),
        {
            "prefix": f"rule{rule.pk}",
            f"rule{rule.pk}-kind": "category",
            f"rule{rule.pk}-code": "logistics",
            f"rule{rule.pk}-words": "快递, 物流\nparcel",
            f"rule{rule.pk}-position": "1",
            f"rule{rule.pk}-is_active": "on",
        },
    )
    rule.refresh_from_db()
    assert rule.words == ["快递", "物流", "parcel"]

    upload = tmp_path / "labelled.csv"
    upload.write_text(
        "text,label\n"
        + "\n".join(
            f"{t},{label}" for t, label in zip(CATEGORY_TEXTS, CATEGORY_LABELS, strict=True)
        ),
        encoding="utf-8",
    )
    with upload.open("rb") as handle, django_capture_on_commit_callbacks(execute=True):
        supervisor_client.post(
            reverse("kb:triage-train"),
            {
                "file": handle,
                "task": "category",
                "name": "page",
                "text_column": "text",
                "label_column": "label",
            },
        )
    model = TriageModel.objects.get()
    assert (model.name, model.is_active) == ("page", True)
    supervisor_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = supervisor_client.get(reverse("kb:triage"))
    assert f"model #{model.pk} (page)" in page.content.decode()

    supervisor_client.post(reverse("kb:model-deactivate", args=[ModelTask.CATEGORY]))
    assert TriageModel.objects.filter(is_active=True).count() == 0


def test_agents_get_suggested_answers_to_insert(agent_client):
    faq = make_faq_set()

    response = agent_client.get(reverse("kb:api-suggest"), {"text": "退款什么时候到账"})

    assert response.status_code == 200
    first = response.json()["results"][0]
    assert first["article_id"] == faq["refund"].pk
    assert first["answer"] == "退款审核通过后原路退回，一般1-3个工作日到账。"
    assert Client().get(reverse("kb:api-suggest"), {"text": "退款"}).status_code == 401


def test_deflection_outcomes_add_up_for_analytics():
    faq = make_faq_set()
    for reference, outcome in [
        ("T-1", "helpful"),
        ("T-2", "helpful"),
        ("T-3", "handed_off"),
        ("T-4", "ignored"),
    ]:
        services.deflection_record(
            article_id=faq["refund"].pk, channel="chat", outcome=outcome, reference=reference
        )

    summary = deflection_summary()

    assert (summary.helpful, summary.handed_off, summary.ignored) == (2, 1, 1)
    assert summary.deflection_rate == 0.5
    assert deflection_summary(channel="sms").deflection_rate is None
