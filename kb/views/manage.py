"""The supervisors' knowledge-base editor: articles with versions, categories, the word
dictionary, import and export."""

from typing import cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kb import selectors, services, transfer
from kb.forms import ArticleCategoryForm, ArticleForm, DictionaryForm, UploadForm
from kb.models import (
    Article,
    ArticleCategory,
    ArticleKind,
    ArticleStatus,
    ArticleVersion,
    DictionaryWord,
    Language,
)
from kb.rendering import render_markdown
from kefu.roles import Role, role_required

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    # Every view here is behind role_required: a signed-in staff user.
    return cast(User, request.user)


@require_GET
@role_required(Role.SUPERVISOR)
def article_list(request: HttpRequest) -> HttpResponse:
    filters = {
        "status": request.GET.get("status", ""),
        "language": request.GET.get("language", ""),
        "category": request.GET.get("category", ""),
        "query": request.GET.get("q", "").strip(),
    }
    articles = selectors.manage_articles(**filters)
    total = articles.count()
    return render(
        request,
        "kb/manage/articles.html",
        {
            "articles": articles[:PAGE_SIZE],
            "total": total,
            "filters": filters,
            "statuses": ArticleStatus.choices,
            "languages": Language.choices,
            "categories": ArticleCategory.objects.all(),
            "import_form": UploadForm(),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def article_create(request: HttpRequest) -> HttpResponse:
    form = ArticleForm(request.POST or None, initial={"kind": ArticleKind.FAQ})
    if request.method == "POST" and form.is_valid():
        status = ArticleStatus.PUBLISHED if "publish" in request.POST else ArticleStatus.DRAFT
        article = services.article_create(
            content=form.content(), author=_user(request), status=status
        )
        messages.success(request, _("Article saved."))
        return redirect("kb:manage-article", pk=article.pk)
    return render(request, "kb/manage/article_form.html", {"form": form, "article": None})


def _initial(article: Article) -> dict[str, object]:
    return {
        "title": article.title,
        "kind": article.kind,
        "language": article.language,
        "category": article.category_id,
        "questions": "\n".join(article.questions),
        "body": article.body,
        "tags": ", ".join(article.tags),
    }


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def article_edit(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article.objects.select_related("category"), pk=pk)
    form = ArticleForm(request.POST or None, initial=_initial(article))
    if request.method == "POST" and form.is_valid():
        article = services.article_update(
            article=article, content=form.content(), author=_user(request)
        )
        if "publish" in request.POST:
            article = services.article_set_status(
                article=article, status=ArticleStatus.PUBLISHED, author=_user(request)
            )
        messages.success(request, _("Article saved."))
        return redirect("kb:manage-article", pk=article.pk)
    return render(
        request,
        "kb/manage/article_form.html",
        {
            "form": form,
            "article": article,
            "preview": render_markdown(article.body),
            "versions": article.versions.select_related("author")[:50],
        },
    )


@require_POST
@role_required(Role.SUPERVISOR)
def article_status(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article, pk=pk)
    status = request.POST.get("status", "")
    if status in ArticleStatus.values:
        services.article_set_status(article=article, status=status, author=_user(request))
        messages.success(
            request,
            _("Published.") if status == ArticleStatus.PUBLISHED else _("Moved back to draft."),
        )
    return redirect("kb:manage-article", pk=pk)


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def article_version(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    article = get_object_or_404(Article, pk=pk)
    version = get_object_or_404(ArticleVersion, article=article, number=number)
    if request.method == "POST":
        services.article_restore(article=article, version=version, author=_user(request))
        messages.success(request, _("Version %(number)s restored.") % {"number": number})
        return redirect("kb:manage-article", pk=pk)
    return render(
        request,
        "kb/manage/version.html",
        {"article": article, "version": version, "body_html": render_markdown(version.body)},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def categories(request: HttpRequest) -> HttpResponse:
    editing = None
    if request.GET.get("edit"):
        editing = get_object_or_404(ArticleCategory, pk=request.GET["edit"])
    initial = (
        {
            "slug": editing.slug,
            "name_zh": editing.name_zh,
            "name_en": editing.name_en,
            "position": editing.position,
        }
        if editing
        else None
    )
    form = ArticleCategoryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        clash = ArticleCategory.objects.filter(slug=form.cleaned_data["slug"])
        if editing is not None:
            clash = clash.exclude(pk=editing.pk)
        if clash.exists():
            form.add_error("slug", _("Another category has this slug."))
        else:
            services.article_category_save(category=editing, **form.cleaned_data)
            messages.success(request, _("Category saved."))
            return redirect("kb:manage-categories")
    return render(
        request,
        "kb/manage/categories.html",
        {"form": form, "editing": editing, "categories": ArticleCategory.objects.all()},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def dictionary(request: HttpRequest) -> HttpResponse:
    current = "\n".join(DictionaryWord.objects.values_list("word", flat=True))
    form = DictionaryForm(request.POST or None, initial={"words": current})
    if request.method == "POST" and form.is_valid():
        words = services.dictionary_words_set(text=form.cleaned_data["words"])
        messages.success(request, _("%(count)d words saved.") % {"count": len(words)})
        return redirect("kb:manage-dictionary")
    tags = sorted(set(selectors.dictionary_words()) - set(current.split("\n")))
    return render(request, "kb/manage/dictionary.html", {"form": form, "tags": tags})


@require_POST
@role_required(Role.SUPERVISOR)
def import_articles(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        for error in form.errors.get("file", []):
            messages.error(request, str(error))
        return redirect("kb:manage-articles")
    upload = form.cleaned_data["file"]
    try:
        parsed = transfer.parse(upload.read(), filename=upload.name)
    except ValueError as error:
        messages.error(request, str(error))
        return redirect("kb:manage-articles")
    if parsed.errors:
        # All or nothing: a half-imported file is harder to fix than a refused one.
        messages.error(
            request,
            _("Nothing imported; fix these rows: %(errors)s")
            % {"errors": "; ".join(parsed.errors[:20])},
        )
        return redirect("kb:manage-articles")
    result = services.articles_import(rows=parsed.rows, author=_user(request))
    messages.success(
        request,
        _("Imported: %(created)d new, %(updated)d updated, %(unchanged)d unchanged.")
        % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
    )
    return redirect("kb:manage-articles")


@require_GET
@role_required(Role.SUPERVISOR)
def export_articles(request: HttpRequest, fmt: str) -> HttpResponse:
    articles = Article.objects.select_related("category").order_by("pk")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "json":
        response = HttpResponse(
            transfer.export_json(articles), content_type="application/json; charset=utf-8"
        )
    else:
        response = HttpResponse(
            transfer.export_csv(articles), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="kefu-kb-{stamp}.{fmt}"'
    return response
