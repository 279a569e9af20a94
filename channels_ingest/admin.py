from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels_ingest.models import DeadLetter, InboundRecord, InboundState, Mailbox, OutboxEntry
from channels_ingest.tasks import imap_poll_mailbox, process_inbound

# A record the sweep (every 30 s, after a minute) has not taken in by then is stuck.
STUCK_AFTER = timedelta(minutes=10)


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


@admin.register(DeadLetter)
class DeadLetterAdmin(InboundRecordAdmin):
    """Failed records, and records still unprocessed well after the sweep should have taken
    them: what needs a person's look. "Process again" queues them."""

    list_display = ["channel", "provider_id", "state", "error", "attempts", "received_at"]
    list_filter = ["channel", "state"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundRecord]:
        waiting_since = timezone.now() - STUCK_AFTER
        return (
            super()
            .get_queryset(request)
            .filter(
                Q(state=InboundState.FAILED)
                | Q(state=InboundState.RECEIVED, received_at__lt=waiting_since)
            )
        )


@admin.register(OutboxEntry)
class OutboxEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "to", "kind", "ticket_number"]
    list_filter = ["channel", "kind"]
    readonly_fields = [field.name for field in OutboxEntry._meta.fields]


class MailboxForm(forms.ModelForm):
    # The password is never sent back to the browser; left empty, the stored one is kept.
    secret = forms.CharField(
        label=_("password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current password."),
    )

    class Meta:
        model = Mailbox
        fields = [
            "name",
            "is_active",
            "host",
            "port",
            "security",
            "username",
            "secret",
            "folder",
            "action",
            "processed_folder",
            "processed_flag",
        ]

    def clean_secret(self) -> str:
        secret: str = self.cleaned_data.get("secret") or ""
        if secret:
            return secret
        if self.instance.pk and self.instance.secret:
            return self.instance.secret
        raise forms.ValidationError(_("A password is required."))


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = [
        "name",
        "username",
        "host",
        "folder",
        "action",
        "is_active",
        "last_uid",
        "last_polled_at",
        "last_error",
    ]
    list_filter = ["is_active", "action"]
    search_fields = ["name", "username", "host"]
    readonly_fields = ["uidvalidity", "last_uid", "last_polled_at", "last_error"]
    fieldsets = [
        (None, {"fields": ["name", "is_active"]}),
        (_("Server"), {"fields": ["host", "port", "security", "username", "secret", "folder"]}),
        (_("After processing"), {"fields": ["action", "processed_folder", "processed_flag"]}),
        (_("Progress"), {"fields": ["uidvalidity", "last_uid", "last_polled_at", "last_error"]}),
    ]
    actions = ["poll_now"]

    @admin.action(description=_("Poll now"))
    def poll_now(self, request: HttpRequest, queryset: QuerySet[Mailbox]) -> None:
        count = 0
        for mailbox in queryset.filter(is_active=True):
            imap_poll_mailbox.delay(mailbox.pk)
            count += 1
        self.message_user(request, _("%(count)d queued.") % {"count": count}, messages.SUCCESS)


# The phone and chat channels' admins live with their adapters.
from channels_ingest.chat import admin as _chat_admin  # noqa: E402, F401
from channels_ingest.phone import admin as _phone_admin  # noqa: E402, F401
from channels_ingest.sms import admin as _sms_admin  # noqa: E402, F401
