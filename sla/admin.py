from django.contrib import admin
from django.http import HttpRequest

from sla.models import (
    BusinessCalendar,
    BusinessHours,
    CalendarDate,
    EscalationRule,
    SlaClock,
    SlaPolicy,
)


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


class CalendarDateInline(admin.TabularInline):
    model = CalendarDate
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "use_cn_holidays", "holiday_country", "is_default"]
    inlines = [BusinessHoursInline, CalendarDateInline]


class EscalationRuleInline(admin.TabularInline):
    model = EscalationRule
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "position",
        "is_active",
        "conditions",
        "first_response_minutes",
        "next_response_minutes",
        "plan_minutes",
        "resolution_minutes",
    ]
    inlines = [EscalationRuleInline]


@admin.register(SlaClock)
class SlaClockAdmin(admin.ModelAdmin):
    list_display = [
        "subject_id",
        "milestone",
        "sequence",
        "due_at",
        "satisfied_at",
        "warned_at",
        "breached_at",
        "paused_at",
        "escalation_level",
    ]
    list_filter = ["milestone"]
    readonly_fields = [f.name for f in SlaClock._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
