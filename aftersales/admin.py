"""The admin: orders and cases to look at, reasons to edit. A case's steps and events are
history and stay read-only; changes go through the services. Viewing a case or an order
(return addresses, the customer) is audited like the core's customer pages."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from aftersales.models import (
    Case,
    CaseEvent,
    CaseItem,
    CaseStep,
    Order,
    OrderItem,
    Reason,
    Shipment,
    TrackingEvent,
    WebhookDelivery,
    WebhookStatus,
)
from aftersales.services.webhook import webhook_retry
from tickets.audited_admin import AuditedViewsAdmin
from tickets.services.audit import audit_record


class _ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _ReadOnlyAdmin(AuditedViewsAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderItemInline(_ReadOnlyInline):
    model = OrderItem


class ShipmentInline(_ReadOnlyInline):
    model = Shipment


@admin.register(Order)
class OrderAdmin(_ReadOnlyAdmin):
    audit_object_type = "order"
    list_display = ("number", "customer", "placed_at", "paid_amount", "payment_status", "source")
    list_filter = ("payment_status", "source")
    search_fields = ("number",)
    raw_id_fields = ("customer",)
    inlines = (OrderItemInline, ShipmentInline)


class TrackingEventInline(_ReadOnlyInline):
    model = TrackingEvent


@admin.register(Shipment)
class ShipmentAdmin(_ReadOnlyAdmin):
    audit_object_type = "shipment"
    list_display = ("carrier", "tracking_number", "order", "status", "last_event_at")
    list_filter = ("status", "carrier")
    search_fields = ("tracking_number", "order__number")
    inlines = (TrackingEventInline,)


@admin.register(Reason)
class ReasonAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "label_zh", "label_en", "is_active", "position")
    list_editable = ("is_active", "position")


class CaseItemInline(_ReadOnlyInline):
    model = CaseItem


class CaseStepInline(_ReadOnlyInline):
    model = CaseStep


class CaseEventInline(_ReadOnlyInline):
    model = CaseEvent


@admin.register(Case)
class CaseAdmin(_ReadOnlyAdmin):
    audit_object_type = "aftersales_case"
    list_display = ("number", "type", "step", "order", "amount_requested", "refunded_amount")
    list_filter = ("type", "step", "opened_by")
    search_fields = ("number", "order__number")
    inlines = (CaseItemInline, CaseStepInline, CaseEventInline)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_ReadOnlyAdmin):
    """What the shop's webhook was told, and what is still owed (docs/aftersales.md)."""

    list_display = ("case", "sequence", "event_type", "status", "attempts", "due_at", "sent_at")
    list_filter = ("status", "event_type")
    search_fields = ("case__number", "event_id")
    actions = ["send_again"]

    @admin.action(description=_("Send the failed deliveries again"))
    def send_again(self, request: HttpRequest, queryset: Any) -> None:
        retried = sum(
            webhook_retry(delivery=delivery)
            for delivery in queryset.filter(status=WebhookStatus.FAILED)
        )
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action="aftersales_webhook_retry",
            object_type="aftersales_webhook",
            object_id=",".join(str(pk) for pk in queryset.values_list("pk", flat=True))[:100],
            data={"retried": retried},
        )
        self.message_user(
            request,
            ngettext("%d delivery queued again.", "%d deliveries queued again.", retried) % retried,
        )
