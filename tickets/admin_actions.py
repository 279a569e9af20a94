"""Admin pages for what acting on tickets needs configured: stores and custom fields."""

from django.contrib import admin

from tickets.models import CustomField, Store


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "is_active"]
    list_filter = ["is_active", "city"]
    search_fields = ["name", "city"]


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ["key", "label_zh", "label_en", "type", "categories", "position", "is_active"]
    list_filter = ["type", "is_active"]
    search_fields = ["key", "label_zh", "label_en"]
