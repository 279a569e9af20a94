import json
from datetime import timedelta
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from channels_ingest.models import DeadLetter, InboundRecord, InboundState, Mailbox, OutboxEntry
from channels_ingest.outbox import outbox_row
from channels_ingest.payload_masking import payload_masked
from channels_ingest.tasks import imap_poll_mailbox, process_inbound
from kefu.roles import Role, has_role
from tickets.audited_admin import AuditedViewsAdmin
from tickets.services.audit import audit_record
from tickets.templatetags.kefu_format import channel_label, outbox_kind_label

# A record the sweep (every 30 s, after a minute) has not taken in by then is stuck.
STUCK_AFTER = timedelta(minutes=10)


# Raw bytes shown on a reveal at most this long; the rest is cut.
REVEAL_RAW_LIMIT = 1_000_000

_SHOWN_FIELDS = [
    field.name for field in InboundRecord._meta.fields if field.name not in ("payload", "raw")
]


@admin.register(InboundRecord)
class InboundRecordAdmin(AuditedViewsAdmin):
    """The raw inbound log. Payloads are shown masked (payload_masking); a supervisor's
    "Show in full" (a POST) shows one, and is in the audit log like every view of the log."""

    audit_object_type = "inbound_record"
    list_display = [
        "channel_name",
        "provider_id",
        "state",
        "attempts",
        "ticket_number",
        "received_at",
    ]
    list_filter = ["channel", "state"]
    search_fields = ["provider_id", "ticket_number"]
    fields = [*_SHOWN_FIELDS, "masked_payload", "raw_size"]
    readonly_fields = [*_SHOWN_FIELDS, "masked_payload", "raw_size"]
    actions = ["retry"]
    change_form_template = "admin/channels_ingest/inbound_change_form.html"

    @admin.display(description=_("channel"), ordering="channel")
    def channel_name(self, record: InboundRecord) -> str:
        return channel_label(record.channel)

    @admin.display(description=_("payload (masked)"))
    def masked_payload(self, record: InboundRecord) -> str:
        return json.dumps(payload_masked(record.payload), ensure_ascii=False, indent=2)

    @admin.display(description=_("raw bytes"))
    def raw_size(self, record: InboundRecord) -> str:
        if record.raw is None:
            return "—"
        return _("%(count)d bytes, hidden") % {"count": len(record.raw)}

    def get_urls(self) -> list[URLPattern]:
        reveal = path(
            "<path:object_id>/reveal/",
            self.admin_site.admin_view(self.reveal_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_reveal",
        )
        return [reveal, *super().get_urls()]

    def reveal_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._reveal)(request, object_id)

    def _reveal(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The record's payload and raw bytes in full, for a supervisor who asked; audited."""
        record = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_permission(request, record) or not has_role(
            request.user, Role.SUPERVISOR
        ):
            raise PermissionDenied
        audit_record(
            actor=cast(User, request.user),
            action="inbound_payload_revealed",
            object_type="inbound_record",
            object_id=str(record.pk),
            data={"channel": record.channel, "ticket": record.ticket_number},
        )
        raw = bytes(record.raw) if record.raw is not None else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": record,
            "title": _("Inbound record %(record)s in full") % {"record": record},
            "payload": json.dumps(record.payload, ensure_ascii=False, indent=2),
            "raw": raw[:REVEAL_RAW_LIMIT].decode("utf-8", errors="replace") if raw else "",
            "raw_cut": raw is not None and len(raw) > REVEAL_RAW_LIMIT,
        }
        return TemplateResponse(request, "admin/channels_ingest/inbound_reveal.html", context)

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

    list_display = ["channel_name", "provider_id", "state", "error", "attempts", "received_at"]
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


_OUTBOX_FIELDS = [
    "created_at",
    "channel",
    "masked_to",
    "kind",
    "ticket_number",
    "reference",
    "subject",
    "masked_body",
]


@admin.register(OutboxEntry)
class OutboxEntryAdmin(admin.ModelAdmin):
    """Masked as on the /outbox/ page, where a supervisor can reveal an entry (audited)."""

    list_display = ["created_at", "channel_name", "masked_to", "kind_name", "ticket_number"]
    list_filter = ["channel", "kind"]
    fields = [*_OUTBOX_FIELDS]
    readonly_fields = _OUTBOX_FIELDS

    @admin.display(description=_("channel"), ordering="channel")
    def channel_name(self, entry: OutboxEntry) -> str:
        return channel_label(entry.channel)

    @admin.display(description=_("kind"), ordering="kind")
    def kind_name(self, entry: OutboxEntry) -> str:
        return outbox_kind_label(entry.kind)

    @admin.display(description=_("to"))
    def masked_to(self, entry: OutboxEntry) -> str:
        return outbox_row(entry, revealed=False).to

    @admin.display(description=_("body"))
    def masked_body(self, entry: OutboxEntry) -> str:
        return outbox_row(entry, revealed=False).body


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
