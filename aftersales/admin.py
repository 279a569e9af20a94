"""The admin: orders and cases to look at, reasons to edit. A case's steps and events are
history and stay read-only; changes go through the services. Viewing a case or an order
(return addresses, the customer) is audited like the core's customer pages."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

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
)
from tickets.audited_admin import AuditedViewsAdmin


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
