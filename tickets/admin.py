from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kb.triage import category_label
from tickets.audited_admin import AuditedViewsAdmin
from tickets.models import (
    Agent,
    AuditEntry,
    Call,
    ChannelCapacity,
    ContactIdentity,
    Customer,
    IntegrationToken,
    Message,
    RoutingRule,
    Skill,
    Team,
    Ticket,
    TicketEvent,
    TokenScope,
)
from tickets.services import tokens


class IdentityInline(admin.TabularInline):
    model = ContactIdentity
    extra = 0


@admin.register(Customer)
class CustomerAdmin(AuditedViewsAdmin):
    audit_object_type = "customer"
    list_display = ["pk", "name", "is_vip", "adviser", "created_at"]
    search_fields = ["name", "identities__value"]
    raw_id_fields = ["adviser"]
    inlines = [IdentityInline]


@admin.register(ContactIdentity)
class ContactIdentityAdmin(AuditedViewsAdmin):
    audit_object_type = "contact_identity"
    list_display = ["kind", "value", "customer", "created_at"]
    list_filter = ["kind"]
    search_fields = ["value"]
    raw_id_fields = ["customer"]


class ChannelCapacityInline(admin.TabularInline):
    model = ChannelCapacity
    extra = 0
    fields = ["channel", "limit"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "department", "is_default", "urgent_level"]
    inlines = [ChannelCapacityInline]


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["user", "status", "capacity", "is_available", "level", "last_assigned_at"]
    list_filter = ["status", "is_available", "level", "teams"]
    filter_horizontal = ["teams", "skills"]
    readonly_fields = [
        "status",
        "status_is_auto",
        "status_changed_at",
        "last_seen_at",
        "last_activity_at",
        "last_assigned_at",
    ]
    inlines = [ChannelCapacityInline]


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["kind", "code", "name"]
    list_filter = ["kind"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["category_name", "team"]

    @admin.display(description=_("category"), ordering="category")
    def category_name(self, rule: RoutingRule) -> str:
        return category_label(rule.category)


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ["created_at", "direction", "channel", "body", "delivery_status"]
    readonly_fields = ["created_at", "direction", "channel", "body", "delivery_status"]
    can_delete = False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["number", "subject", "status", "tier", "team", "assignee", "created_at"]
    list_filter = ["status", "tier", "channel", "team"]
    search_fields = ["number", "subject"]
    readonly_fields = ["number", "created_at", "first_response_at", "sla_state", "sla_due_at"]
    inlines = [MessageInline]


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "ticket", "kind", "actor"]
    list_filter = ["kind"]
    readonly_fields = ["ticket", "kind", "actor", "data", "created_at"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action"]
    readonly_fields = ["actor", "action", "object_type", "object_id", "data", "created_at"]


class IntegrationTokenForm(forms.ModelForm):  # type: ignore[type-arg]
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=TokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the token may do; each endpoint names the scope it needs."),
    )

    class Meta:
        model = IntegrationToken
        fields = ["name", "is_active", "scopes"]


@admin.register(IntegrationToken)
class IntegrationTokenAdmin(admin.ModelAdmin):
    form = IntegrationTokenForm
    list_display = ["name", "prefix", "scope_list", "is_active", "created_at", "last_used_at"]
    fields = ["name", "is_active", "scopes"]

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: IntegrationToken) -> str:
        return ", ".join(obj.scopes)

    def save_model(self, request: HttpRequest, obj: IntegrationToken, form, change) -> None:  # type: ignore[no-untyped-def]
        scopes = list(form.cleaned_data["scopes"])
        actor = cast(User, request.user)
        if change:
            tokens.token_change(
                token=obj, name=obj.name, is_active=obj.is_active, scopes=scopes, actor=actor
            )
            return
        token, key = tokens.token_issue(name=obj.name, scopes=scopes, actor=actor)
        obj.pk = token.pk
        obj.prefix = token.prefix
        obj.key_hash = token.key_hash
        obj.created_at = token.created_at
        self.message_user(
            request,
            _("Token created. Copy it now, it will not be shown again: %(key)s") % {"key": key},
            messages.WARNING,
        )


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    """Calls are what the PBX reported: shown, never edited here."""

    list_display = ["started_at", "direction", "from_number", "to_number", "state", "cause"]
    list_filter = ["direction", "state", "cause"]
    search_fields = ["call_id", "from_number", "to_number"]
    readonly_fields = [field.name for field in Call._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# Stores and custom fields (acting on tickets): admin-editable.
from tickets import admin_actions  # noqa: E402, F401
