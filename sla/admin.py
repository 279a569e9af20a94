from django.contrib import admin

from sla.models import BusinessCalendar, BusinessHours, CalendarDate, SlaClock, SlaPolicy


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


class CalendarDateInline(admin.TabularInline):
    model = CalendarDate
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "use_cn_holidays", "is_default"]
    inlines = [BusinessHoursInline, CalendarDateInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "tier", "first_response_minutes", "plan_minutes", "calendar"]


@admin.register(SlaClock)
class SlaClockAdmin(admin.ModelAdmin):
    list_display = ["subject_id", "milestone", "due_at", "satisfied_at", "warned_at", "breached_at"]
    list_filter = ["milestone"]
    readonly_fields = [f.name for f in SlaClock._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False
