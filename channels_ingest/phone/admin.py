"""Admin for PBXs (tokens shown once), their queue-to-team mapping, and blocked callers."""

from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from channels_ingest.models import BlockedNumber, Pbx, PbxQueue
from channels_ingest.phone.services import pbx_save_with_new_token


class PbxQueueInline(admin.TabularInline):
    model = PbxQueue
    extra = 1


@admin.register(Pbx)
class PbxAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "default_team", "is_active", "created_at"]
    fields = ["name", "default_team", "is_active"]
    inlines = [PbxQueueInline]
    actions = ["new_token"]

    def _show_token(self, request: HttpRequest, pbx: Pbx, key: str) -> None:
        self.message_user(
            request,
            _("Token for %(name)s (shown only now): %(key)s") % {"name": pbx.name, "key": key},
            messages.WARNING,
        )

    def save_model(self, request: HttpRequest, obj: Pbx, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key = pbx_save_with_new_token(pbx=obj, actor=cast(User, request.user))
        self._show_token(request, obj, key)

    @admin.action(description=_("Issue a new token (the old one stops working)"))
    def new_token(self, request: HttpRequest, queryset: QuerySet[Pbx]) -> None:
        for pbx in queryset:
            key = pbx_save_with_new_token(pbx=pbx, actor=cast(User, request.user))
            self._show_token(request, pbx, key)


@admin.register(BlockedNumber)
class BlockedNumberAdmin(admin.ModelAdmin):
    list_display = ["phone", "note", "created_at"]
    search_fields = ["phone", "note"]
