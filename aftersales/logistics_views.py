"""The supervisors' logistics page: the anomaly rules, edited in place, and the open
anomalies with their tickets."""

from typing import cast

from django import forms
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from aftersales.models import AnomalyRule, ShipmentAnomaly
from kefu.roles import Role, role_required
from tickets.services.audit import audit_record

OPEN_LIST_SIZE = 200


class RuleForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = AnomalyRule
        fields = ["label", "threshold_hours", "keywords", "is_active"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        # One form per rule on one page: ids of their own, and inputs that name their form
        # (a table row cannot hold a form).
        rule = kwargs["instance"]
        assert isinstance(rule, AnomalyRule)
        kwargs.setdefault("auto_id", f"rule{rule.pk}-%s")
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for field in self.fields.values():
            field.widget.attrs["form"] = f"rule-form-{rule.pk}"


def _page(
    request: HttpRequest, *, editing: AnomalyRule | None = None, form: RuleForm | None = None
) -> HttpResponse:
    rules = [
        (rule, form if editing is not None and rule.pk == editing.pk else RuleForm(instance=rule))
        for rule in AnomalyRule.objects.all()
    ]
    anomalies = (
        ShipmentAnomaly.objects.filter(resolved_at__isnull=True)
        .select_related("shipment", "ticket")
        .order_by("-detected_at")[:OPEN_LIST_SIZE]
    )
    return render(
        request,
        "aftersales/logistics.html",
        {"rules": rules, "anomalies": anomalies},
        status=400 if form is not None else 200,
    )


@require_GET
@role_required(Role.SUPERVISOR)
def logistics(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@role_required(Role.SUPERVISOR)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(AnomalyRule, pk=pk)
    before = {name: getattr(rule, name) for name in RuleForm.Meta.fields}
    form = RuleForm(request.POST, instance=rule)
    if not form.is_valid():
        rule.refresh_from_db()
        return _page(request, editing=rule, form=form)
    saved = form.save()
    changed = {
        name: [before[name], getattr(saved, name)]
        for name in RuleForm.Meta.fields
        if before[name] != getattr(saved, name)
    }
    if changed:
        audit_record(
            actor=cast(User, request.user),
            action="logistics_rule_changed",
            object_type="logistics_rule",
            object_id=str(saved.pk),
            data={"kind": saved.kind, **changed},
        )
    return HttpResponseRedirect(reverse("logistics:page"))
