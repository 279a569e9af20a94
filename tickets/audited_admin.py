"""Admin pages that show customers' contact data record every view in the audit log."""

from typing import Any, cast

from django.contrib import admin
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from tickets.services.audit import audit_record


class AuditedViewsAdmin(admin.ModelAdmin):
    """Every list and change page of the model writes an `admin_viewed` audit entry naming
    the rows shown (never their content). `audit_object_type` names the kind of row."""

    audit_object_type = ""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = _shown(response)
        changelist = context.get("cl")
        if changelist is not None and request.user.is_authenticated:
            audit_record(
                actor=cast(User, request.user),
                action="admin_viewed",
                object_type=self.audit_object_type,
                object_id="",
                data={"page": "list", "ids": [row.pk for row in changelist.result_list]},
            )
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        # Only a page that showed the row is a view of it (not a redirect after saving, not
        # a 404 or a refusal).
        original = _shown(response).get("original")
        if original is not None and request.user.is_authenticated:
            audit_record(
                actor=cast(User, request.user),
                action="admin_viewed",
                object_type=self.audit_object_type,
                object_id=str(original.pk),
                data={"page": "change"},
            )
        return response


def _shown(response: HttpResponse) -> dict[str, Any]:
    """The context of a page the admin rendered; empty for a redirect or an error."""
    if isinstance(response, TemplateResponse) and response.context_data:
        return dict(response.context_data)
    return {}
