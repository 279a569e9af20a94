"""The scheduled reports' settings page under /reports/scheduled/ (supervisors and admins):
subscriptions listed, added, changed and removed; a report sent now or downloaded for the
last full period."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from analytics import scheduled
from analytics.models import ReportSend, ReportSubscription
from kefu.roles import Role, role_required


class SubscriptionForm(forms.ModelForm):
    recipients = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Recipients"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Supervisors and administrators; the report goes to their email."),
    )

    class Meta:
        model = ReportSubscription
        fields = ["report", "recipients", "language", "attach_xlsx", "attach_pdf", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recipients"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = scheduled.supervisors()
        field.label_from_instance = _recipient_label  # type: ignore[method-assign,assignment]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("attach_xlsx") and not data.get("attach_pdf"):
            raise forms.ValidationError(_("Choose at least one format."))
        return data


def _recipient_label(user: User) -> str:
    name = user.get_full_name() or user.username
    return (
        f"{name} <{user.email}>"
        if user.email
        else _("%(name)s (no email address)") % {"name": name}
    )


@require_GET
@role_required(Role.SUPERVISOR)
def subscription_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    subscriptions = list(ReportSubscription.objects.prefetch_related("recipients"))
    rows = []
    for subscription in subscriptions:
        rows.append(
            {
                "subscription": subscription,
                "recipients": [_recipient_label(u) for u in subscription.recipients.all()],
                "period": scheduled.period_last(subscription.report, today),
                "next_at": scheduled.next_send_at(subscription.report, timezone.now()),
            }
        )
    sends = ReportSend.objects.select_related("subscription", "recipient").order_by("-pk")[:20]
    return render(
        request,
        "analytics/scheduled.html",
        {"rows": rows, "sends": sends, "page": "scheduled"},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def subscription_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    subscription = get_object_or_404(ReportSubscription, pk=pk) if pk is not None else None
    if request.method == "POST":
        form = SubscriptionForm(request.POST, instance=subscription)
        if form.is_valid():
            data = form.cleaned_data
            assert isinstance(request.user, User)
            scheduled.subscription_save(
                subscription=subscription,
                report=data["report"],
                recipients=data["recipients"],
                language=data["language"],
                attach_xlsx=data["attach_xlsx"],
                attach_pdf=data["attach_pdf"],
                is_active=data["is_active"],
                actor=request.user,
            )
            messages.success(request, _("The subscription is saved."))
            return redirect(reverse("reports-scheduled"))
        status = 400
    else:
        initial = {"recipients": [request.user.pk]} if subscription is None else None
        form = SubscriptionForm(instance=subscription, initial=initial)
        status = 200
    return render(
        request,
        "analytics/scheduled_form.html",
        {"form": form, "subscription": subscription, "page": "scheduled"},
        status=status,
    )


@require_POST
@role_required(Role.SUPERVISOR)
def subscription_delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(ReportSubscription, pk=pk)
    assert isinstance(request.user, User)
    scheduled.subscription_delete(subscription=subscription, actor=request.user)
    messages.success(request, _("The subscription is removed."))
    return redirect(reverse("reports-scheduled"))


@require_POST
@role_required(Role.SUPERVISOR)
def subscription_send(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(ReportSubscription, pk=pk)
    assert isinstance(request.user, User)
    sent, failed = scheduled.report_send_now(subscription=subscription, actor=request.user)
    if failed:
        messages.error(
            request,
            _("Sent to %(sent)d, failed for %(failed)d; see the log.")
            % {"sent": sent, "failed": failed},
        )
    elif sent:
        messages.success(request, _("Sent to %(sent)d recipients.") % {"sent": sent})
    else:
        messages.warning(request, _("No recipient has an email address."))
    return redirect(reverse("reports-scheduled"))


@require_GET
@role_required(Role.SUPERVISOR)
def subscription_preview(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The last full period's report as the subscription sends it, to download."""
    if fmt not in ("xlsx", "pdf"):
        raise Http404(_("No such export format."))
    subscription = get_object_or_404(ReportSubscription, pk=pk)
    period = scheduled.period_last(subscription.report, timezone.localdate())
    with translation.override(subscription.language):
        content = scheduled.aftersales_report(report=subscription.report, period=period)
        (made,) = scheduled.report_files(content, xlsx=fmt == "xlsx", pdf=fmt == "pdf")
    response = HttpResponse(made.data, content_type=made.content_type)
    response["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    return response
