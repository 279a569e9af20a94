"""The public knowledge base for customers: categories, articles and search.

Open to anyone, so rate-limited per IP; the project's RatelimitMiddleware answers 429 with the
rate-limited page.
"""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_ratelimit.decorators import ratelimit

from kb import search as kb_search
from kb import selectors
from kb.models import ArticleCategory, Language
from kb.rendering import render_markdown


def public_rate(group: str, request: HttpRequest) -> str:
    """Per client IP; a customer reading a few articles never comes near it, a scraper does.
    (KB_PUBLIC_RATE_LIMIT in settings overrides it.)"""
    return str(getattr(settings, "KB_PUBLIC_RATE_LIMIT", "120/m"))


def _language() -> str:
    return Language.EN if (get_language() or "").startswith("en") else Language.ZH


@require_GET
@ratelimit(key="ip", rate=public_rate, method="GET")
def home(request: HttpRequest) -> HttpResponse:
    language = _language()
    categories = selectors.public_categories(language=language)
    if not categories:
        # Nothing in the reader's language yet: show what there is.
        language = ""
        categories = selectors.public_categories(language=None)
    return render(
        request,
        "kb/home.html",
        {
            "categories": [
                {"slug": c.category.slug, "name": c.category.name_for(language), "count": c.count}
                for c in categories
            ],
            "uncategorised": selectors.public_articles(language=language or None).filter(
                category__isnull=True
            )[:20],
        },
    )


@require_GET
@ratelimit(key="ip", rate=public_rate, method="GET")
def category(request: HttpRequest, slug: str) -> HttpResponse:
    topic = get_object_or_404(ArticleCategory, slug=slug)
    language = _language()
    articles = selectors.public_articles(category=topic, language=language)
    if not articles.exists():
        articles = selectors.public_articles(category=topic)
    return render(
        request,
        "kb/category.html",
        {"category": topic, "name": topic.name_for(language), "articles": articles},
    )


@require_GET
@ratelimit(key="ip", rate=public_rate, method="GET")
def article(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.public_article(pk=pk)
    if found is None:
        raise Http404(_("No such article"))
    return render(
        request,
        "kb/article.html",
        {
            "article": found,
            "body_html": render_markdown(found.body),
            "category_name": found.category.name_for(_language()) if found.category else "",
        },
    )


@require_GET
@ratelimit(key="ip", rate=public_rate, method="GET")
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    hits = kb_search.search(query, limit=10) if query else []
    # Customers read every line: drop the long tail that shares one common word with the
    # question (a quarter of the best score or less).
    hits = [hit for hit in hits if hit.score > hits[0].score / 4] if hits else []
    return render(request, "kb/search.html", {"query": query, "hits": hits})
