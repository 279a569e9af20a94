from django.urls import path

from kb.api.views import SuggestView
from kb.views import manage, public, triage

app_name = "kb"

urlpatterns = [
    # customers
    path("", public.home, name="home"),
    path("search/", public.search, name="search"),
    path("c/<str:slug>/", public.category, name="category"),
    path("a/<int:pk>/", public.article, name="article"),
    # supervisors: the editor
    path("manage/", manage.article_list, name="manage-articles"),
    path("manage/new/", manage.article_create, name="manage-article-new"),
    path("manage/<int:pk>/", manage.article_edit, name="manage-article"),
    path("manage/<int:pk>/status/", manage.article_status, name="manage-article-status"),
    path("manage/<int:pk>/v/<int:number>/", manage.article_version, name="manage-version"),
    path("manage/categories/", manage.categories, name="manage-categories"),
    path("manage/dictionary/", manage.dictionary, name="manage-dictionary"),
    path("manage/import/", manage.import_articles, name="manage-import"),
    path("manage/export.<str:fmt>", manage.export_articles, name="manage-export"),
    # supervisors: triage
    path("manage/triage/", triage.overview, name="triage"),
    path("manage/triage/rules/", triage.rule_save, name="triage-rule-save"),
    path("manage/triage/rules/<int:pk>/delete/", triage.rule_delete, name="triage-rule-delete"),
    path("manage/triage/settings/", triage.settings_save, name="triage-settings"),
    path("manage/triage/bot/<str:channel>/", triage.bot_channel_save, name="triage-bot"),
    path("manage/triage/train/", triage.train, name="triage-train"),
    path("manage/triage/models/<int:pk>/activate/", triage.model_activate, name="model-activate"),
    path("manage/triage/models/<str:task>/rollback/", triage.model_rollback, name="model-rollback"),
    path(
        "manage/triage/models/<str:task>/deactivate/",
        triage.model_deactivate,
        name="model-deactivate",
    ),
    # agents
    path("api/suggest/", SuggestView.as_view(), name="api-suggest"),
]
