"""Admin for SMS: Twilio(-compatible) numbers, generic gateways, and opt-outs."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from channels_ingest.models import SmsChannel, SmsGateway, SmsOptOut


@admin.register(SmsChannel)
class SmsChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "number", "account_sid", "api_base", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "number", "account_sid"]


@admin.register(SmsGateway)
class SmsGatewayAdmin(admin.ModelAdmin):
    list_display = ["name", "webhook_path", "is_active", "created_at"]
    list_filter = ["is_active"]
    readonly_fields = ["webhook_path", "created_at"]

    @admin.display(description=_("webhook"))
    def webhook_path(self, gateway: SmsGateway) -> str:
        return f"/webhooks/sms/gateway/{gateway.name}/" if gateway.name else "—"


@admin.register(SmsOptOut)
class SmsOptOutAdmin(admin.ModelAdmin):
    list_display = ["phone", "keyword", "created_at"]
    search_fields = ["phone"]
    readonly_fields = ["phone", "keyword", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A number opts out by texting a keyword; staff do not add them by hand.
        return False
