"""Supervisors' SLA pages: policies (with escalation rules) and business calendars."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kefu.roles import Role, role_required
from sla import services
from sla.calendar import cn_calendar_covers
from sla.forms import CalendarForm, DatesFormSet, EscalationFormSet, HoursFormSet, PolicyForm
from sla.models import BusinessCalendar, SlaPolicy


@role_required(Role.SUPERVISOR)
def policy_list(request: HttpRequest) -> HttpResponse:
    policies = SlaPolicy.objects.select_related("calendar").prefetch_related("escalations")
    return render(request, "sla/policies.html", {"policies": policies})


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def policy_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy, pk=pk) if pk else SlaPolicy()
    if request.method == "POST":
        form = PolicyForm(request.POST, instance=policy)
        rules = EscalationFormSet(request.POST, instance=policy, prefix="rules")
        if form.is_valid() and rules.is_valid():
            saved = services.policy_save(form=form, escalations=rules, actor=request.user)
            messages.success(request, _("Policy %(name)s saved.") % {"name": saved.name})
            return redirect("sla:policies")
    else:
        form = PolicyForm(instance=policy)
        rules = EscalationFormSet(instance=policy, prefix="rules")
    return render(request, "sla/policy_form.html", {"form": form, "rules": rules, "policy": policy})


def _coverage(calendar: BusinessCalendar) -> list[tuple[int, bool]]:
    this_year = timezone.localdate().year
    return [(year, cn_calendar_covers(year)) for year in (this_year, this_year + 1)]


@role_required(Role.SUPERVISOR)
def calendar_list(request: HttpRequest) -> HttpResponse:
    calendars = [
        (calendar, _coverage(calendar) if calendar.use_cn_holidays else [])
        for calendar in BusinessCalendar.objects.prefetch_related("hours", "dates")
    ]
    return render(request, "sla/calendars.html", {"calendars": calendars})


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def calendar_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=pk) if pk else BusinessCalendar()
    if request.method == "POST":
        form = CalendarForm(request.POST, instance=calendar)
        hours = HoursFormSet(request.POST, instance=calendar, prefix="hours")
        dates = DatesFormSet(request.POST, instance=calendar, prefix="dates")
        if form.is_valid() and hours.is_valid() and dates.is_valid():
            saved = services.calendar_save(form=form, hours=hours, dates=dates, actor=request.user)
            messages.success(request, _("Calendar %(name)s saved.") % {"name": saved.name})
            return redirect("sla:calendars")
    else:
        form = CalendarForm(instance=calendar)
        hours = HoursFormSet(instance=calendar, prefix="hours")
        dates = DatesFormSet(instance=calendar, prefix="dates")
    coverage = _coverage(calendar) if calendar.pk and calendar.use_cn_holidays else []
    return render(
        request,
        "sla/calendar_form.html",
        {"form": form, "hours": hours, "dates": dates, "calendar": calendar, "coverage": coverage},
    )
