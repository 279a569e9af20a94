"""Supervisors' pages for the texts of customer notices: the list by event, channel and
language; the editor with a preview filled in with sample values."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from aftersales.notice_forms import NoticeTemplateForm
from aftersales.notice_models import NoticeEvent, NoticeTemplate
from aftersales.services.notices import (
    PLACEHOLDERS,
    Rendered,
    notice_template_save,
    placeholders_unknown,
    preview,
)
from kefu.roles import Role, role_required


@role_required(Role.SUPERVISOR)
def template_list(request: HttpRequest) -> HttpResponse:
    templates = list(NoticeTemplate.objects.select_related("updated_by"))
    by_event = {event: [t for t in templates if t.event == event] for event in NoticeEvent}
    return render(
        request,
        "aftersales/notices/list.html",
        {"groups": [(event, rows) for event, rows in by_event.items() if rows]},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def template_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    template = get_object_or_404(NoticeTemplate, pk=pk) if pk else NoticeTemplate()
    shown: Rendered | None = None
    if request.method == "POST":
        form = NoticeTemplateForm(request.POST, instance=template)
        if form.is_valid():
            if "preview" in request.POST:
                shown = preview(
                    subject=form.cleaned_data["subject"], body=form.cleaned_data["body"]
                )
            else:
                saved = notice_template_save(form=form, actor=request.user)  # type: ignore[arg-type]
                messages.success(request, _("Notice text saved: %(name)s") % {"name": saved})
                return redirect("notices:list")
    else:
        form = NoticeTemplateForm(instance=template)
        if template.pk:
            shown = preview(subject=template.subject, body=template.body)
    return render(
        request,
        "aftersales/notices/form.html",
        {"form": form, "template": template, "preview": shown, "samples": PLACEHOLDERS},
    )


@require_POST
@role_required(Role.SUPERVISOR)
def template_preview(request: HttpRequest) -> HttpResponse:
    """The preview fragment for the editor (htmx, as the text is typed or on the button)."""
    subject = request.POST.get("subject", "")
    body = request.POST.get("body", "")
    unknown = placeholders_unknown(subject + body)
    return render(
        request,
        "aftersales/notices/_preview.html",
        {"preview": preview(subject=subject, body=body), "unknown": unknown},
    )
