"""Knowledge-base test data, made through the services."""

from kb import services
from kb.models import Article, ArticleCategory, ArticleKind, ArticleStatus
from kb.services import ArticleContent


def make_article(
    *,
    title: str,
    body: str,
    questions: tuple[str, ...] = (),
    language: str = "zh-hans",
    status: str = ArticleStatus.PUBLISHED,
    tags: tuple[str, ...] = (),
    category: ArticleCategory | None = None,
    kind: str = ArticleKind.FAQ,
) -> Article:
    return services.article_create(
        content=ArticleContent(
            title=title,
            body=body,
            kind=kind,
            language=language,
            category=category,
            questions=questions,
            tags=tags,
        ),
        author=None,
        status=status,
    )


def make_faq_set() -> dict[str, Article]:
    """A small retail FAQ in Chinese and English."""
    return {
        "refund": make_article(
            title="退款多久到账",
            questions=("退款什么时候到账",),
            body="退款审核通过后原路退回，一般**1-3个工作日**到账。",
        ),
        "track": make_article(
            title="怎么查物流",
            questions=("如何查看快递进度",),
            body="在“我的订单”中点击订单即可查看物流轨迹和快递单号。",
        ),
        "invoice": make_article(
            title="怎么开发票",
            questions=("可以开发票吗",),
            body="订单完成后在订单详情点击“申请发票”。",
        ),
        "password": make_article(
            title="How do I reset my password?",
            questions=("I forgot my password",),
            body="Tap *Forgot password* on the login page and enter the code we text you.",
            language="en",
        ),
        "shipping": make_article(
            title="How much is shipping?",
            questions=("Is delivery free?",),
            body="Orders over 59 yuan ship free; below that shipping costs 6 yuan.",
            language="en",
        ),
    }
