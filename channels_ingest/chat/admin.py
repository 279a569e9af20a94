from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from channels_ingest.models import ChatSite, PushToken


@admin.register(ChatSite)
class ChatSiteAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "team", "allows_anonymous", "is_active", "created_at"]
    list_filter = ["is_active", "allows_anonymous", "anonymous_requires_signature"]
    search_fields = ["name", "key"]
    fields = [
        "name",
        "key",
        "secret",
        "allowed_origins",
        "team",
        "allows_anonymous",
        "anonymous_requires_signature",
        "is_active",
    ]


@admin.register(PushToken)
class PushTokenAdmin(admin.ModelAdmin):
    list_display = ["user_id", "platform", "short_token", "updated_at"]
    list_filter = ["platform"]
    search_fields = ["user_id"]
    readonly_fields = ["user_id", "platform", "token", "created_at", "updated_at"]

    @admin.display(description=_("token"))
    def short_token(self, token: PushToken) -> str:
        return token.token[:16] + "…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
