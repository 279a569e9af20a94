from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from channels_ingest.models import InboundRecord, InboundState, OutboxEntry
from channels_ingest.tasks import process_inbound


@admin.register(InboundRecord)
class InboundRecordAdmin(admin.ModelAdmin):
    list_display = ["channel", "provider_id", "state", "attempts", "ticket_number", "received_at"]
    list_filter = ["channel", "state"]
    search_fields = ["provider_id", "ticket_number"]
    readonly_fields = [field.name for field in InboundRecord._meta.fields]
    actions = ["retry"]

    @admin.action(description=_("Process again"))
    def retry(self, request: HttpRequest, queryset: QuerySet[InboundRecord]) -> None:
        count = 0
        for record in queryset.exclude(state=InboundState.PROCESSED):
            process_inbound.delay(record.pk)
            count += 1
        self.message_user(request, _("%(count)d queued.") % {"count": count}, messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(OutboxEntry)
class OutboxEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "to", "kind", "ticket_number"]
    list_filter = ["channel", "kind"]
    readonly_fields = [field.name for field in OutboxEntry._meta.fields]
