"""Admin views of the knowledge base: for looking things up. Supervisors edit on the KB and
triage pages, which go through the services (versions, revision tokens)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kb.models import (
    Article,
    ArticleCategory,
    ArticleVersion,
    BotChannel,
    DeflectionRecord,
    DictionaryWord,
    TrainingRun,
    TriageModel,
    TriageRule,
)
from kb.templatetags.kb_labels import bot_channel_label


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(ArticleCategory)
class ArticleCategoryAdmin(ReadOnlyAdmin):
    list_display = ["slug", "name_zh", "name_en", "position"]


class VersionInline(admin.TabularInline):
    model = ArticleVersion
    extra = 0
    fields = ("number", "title", "status", "note", "author", "created_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "language", "category", "status", "version", "updated_at"]
    list_filter = ["status", "kind", "language", "category"]
    search_fields = ["title", "body", "external_id"]
    inlines = [VersionInline]


@admin.register(TriageRule)
class TriageRuleAdmin(ReadOnlyAdmin):
    list_display = ["kind", "code", "is_active", "position"]


@admin.register(TriageModel)
class TriageModelAdmin(ReadOnlyAdmin):
    list_display = ["pk", "task", "name", "is_active", "n_train", "n_test", "created_at"]
    list_filter = ["task", "is_active"]
    exclude = ["blob"]


@admin.register(TrainingRun)
class TrainingRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "task", "name", "status", "created_at", "finished_at"]
    exclude = ["data"]


@admin.register(BotChannel)
class BotChannelAdmin(ReadOnlyAdmin):
    list_display = ["channel_name", "is_enabled", "threshold"]

    @admin.display(description=_("channel"), ordering="channel")
    def channel_name(self, bot_channel: BotChannel) -> str:
        return bot_channel_label(bot_channel.channel)


@admin.register(DeflectionRecord)
class DeflectionRecordAdmin(ReadOnlyAdmin):
    list_display = ["reference", "channel", "outcome", "article", "created_at"]
    list_filter = ["outcome", "channel"]


@admin.register(DictionaryWord)
class DictionaryWordAdmin(ReadOnlyAdmin):
    list_display = ["word", "created_at"]
