"""The forecast and staffing pages (docs/staffing.md): supervisors and admins only.

Both read the latest stored forecast; neither fits a model. "Recompute" queues the same task
the nightly beat runs.
"""

from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from analytics import forecast as forecasting
from analytics import shifts, staffing, tasks
from analytics.forecast_forms import (
    ShiftForm,
    ShiftImportForm,
    ShopEventForm,
    StaffingSettingsForm,
)
from analytics.models import ShopEvent
from kefu.roles import Role, role_required
from sla.models import WEEKDAYS
from tickets.models import Agent, Channel


def _channel_name(code: str) -> str:
    return str(dict(Channel.choices).get(code, code)) if code else _("All channels")


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _series(values: list[float]) -> list[float]:
    return [round(v, 2) for v in values]


@require_GET
@role_required(Role.SUPERVISOR)
def forecast_page(request: HttpRequest) -> HttpResponse:
    """The forecast; `?edit=<id>` puts a shop event in the form to change it."""
    editing = request.GET.get("edit", "")
    if editing.isdigit():
        event = get_object_or_404(ShopEvent, pk=int(editing))
        return _forecast_render(request, ShopEventForm(instance=event))
    return _forecast_render(request, ShopEventForm())


def _forecast_render(request: HttpRequest, form: ShopEventForm, status: int = 200) -> HttpResponse:
    current = forecasting.forecast_latest()
    events = list(ShopEvent.objects.filter(end__gte=timezone.localdate()).order_by("start"))
    for event in events:
        event.channel_name = _channel_name(event.channel)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "current": current,
        "event_form": form,
        "events": events,
        "past_events": ShopEvent.objects.filter(end__lt=timezone.localdate()).order_by("-start")[
            :10
        ],
        "columns": [_channel_name(code) for code in sorted(current.contacts)] if current else [],
        "min_history_days": forecasting.MIN_HISTORY_DAYS,
    }
    if current is not None:
        run = current.run
        step_ms = run.interval_minutes * 60 * 1000
        backtest = run.backtest or {}
        back_start = (
            _ms(datetime.fromisoformat(backtest["start"])) if backtest.get("start") else None
        )
        channels = sorted(current.contacts) or sorted((backtest.get("actual") or {}).keys())
        chart_channels = []
        for code in ["", *channels]:
            if code:
                future = current.contacts.get(code, [])
                actual = (backtest.get("actual") or {}).get(code, [])
                predicted = (backtest.get("predicted") or {}).get(code, [])
            else:
                future = current.total()
                actual = _sum_lists((backtest.get("actual") or {}).values())
                predicted = _sum_lists((backtest.get("predicted") or {}).values())
            chart_channels.append(
                {
                    "code": code,
                    "name": _channel_name(code),
                    "forecast": _series(future),
                    "actual": _series(actual),
                    "backtest": _series(predicted),
                }
            )
        context["accuracy"] = [
            {
                "name": _channel_name(code),
                "mape": forecasting.mape_display(scores.get("mape")),
                "wape": forecasting.mape_display(scores.get("wape")),
                "days": scores.get("days", 0),
                "forecast_total": round(
                    sum(current.contacts[code]) if code else sum(current.total())
                )
                if (not code or code in current.contacts)
                else 0,
            }
            for code, scores in sorted(run.accuracy.items())
        ]
        context["daily"] = _daily_totals(current)
        context["chart"] = {
            "labels": {
                "actual": _("Actual"),
                "backtest": _("Backtest forecast"),
                "forecast": _("Forecast"),
                "contacts": _("Contacts per 30 minutes"),
                "days": _("Contacts per day"),
            },
            "step_ms": step_ms,
            "forecast_start": _ms(current.start),
            "backtest_start": back_start,
            "channels": chart_channels,
        }
    return render(request, "analytics/forecast.html", context, status=status)


def _sum_lists(lists: Any) -> list[float]:
    lists = list(lists)
    if not lists:
        return []
    return [sum(values) for values in zip(*lists, strict=True)]


def _daily_totals(current: forecasting.Forecast) -> list[dict[str, Any]]:
    per_day: dict[date, dict[str, float]] = {}
    for i, at in enumerate(current.intervals):
        row = per_day.setdefault(at.date(), {})
        for code, values in current.contacts.items():
            row[code] = row.get(code, 0.0) + values[i]
    kinds = forecasting.day_kinds()
    events = forecasting.events_by_day(ShopEvent.objects.filter(end__gte=current.start.date()))
    return [
        {
            "day": day,
            "cells": [round(row.get(code, 0.0)) for code in sorted(current.contacts)],
            "total": round(sum(row.values())),
            "special": kinds.is_special(day),
            "off": kinds.is_off(day),
            "event": bool(events.get(day)),
        }
        for day, row in sorted(per_day.items())
    ]


@require_POST
@role_required(Role.SUPERVISOR)
def forecast_recompute(request: HttpRequest) -> HttpResponse:
    transaction.on_commit(lambda: tasks.forecast_compute.delay())
    messages.success(request, _("The forecast is being recomputed."))
    return redirect("reports-forecast")


@require_POST
@role_required(Role.SUPERVISOR)
def event_add(request: HttpRequest) -> HttpResponse:
    form = ShopEventForm(request.POST)
    if not form.is_valid():
        return _forecast_render(request, form, status=400)
    forecasting.shop_event_save(form=form, actor=request.user)
    messages.success(request, _("Shop event saved."))
    return redirect("reports-forecast")


@require_POST
@role_required(Role.SUPERVISOR)
def event_change(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(ShopEvent, pk=pk)
    form = ShopEventForm(request.POST, instance=event)
    if not form.is_valid():
        return _forecast_render(request, form, status=400)
    forecasting.shop_event_save(form=form, actor=request.user)
    messages.success(request, _("Shop event saved."))
    return redirect("reports-forecast")


@require_POST
@role_required(Role.SUPERVISOR)
def event_delete(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(ShopEvent, pk=pk)
    forecasting.shop_event_delete(event=event, actor=request.user)
    messages.success(request, _("Shop event deleted."))
    return redirect("reports-forecast")


# --- staffing -----------------------------------------------------------------------------


def _settings_initial(settings: Any) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "service_level_percent": settings.service_level_percent,
        "answer_seconds": settings.answer_seconds,
        "max_occupancy_percent": settings.max_occupancy_percent,
        "shrinkage_percent": settings.shrinkage_percent,
        "shift_hours": settings.shift_hours,
    }
    for channel in staffing.DEFAULT_REPLY_SECONDS:
        initial[f"reply_{channel}"] = staffing.reply_seconds(settings, channel)
    return initial


@require_GET
@role_required(Role.SUPERVISOR)
def staffing_page(request: HttpRequest) -> HttpResponse:
    return _staffing_render(request)


def _staffing_render(
    request: HttpRequest,
    *,
    settings_form: StaffingSettingsForm | None = None,
    shift_form: ShiftForm | None = None,
    import_form: ShiftImportForm | None = None,
    import_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    current_settings = staffing.settings_current()
    current = forecasting.forecast_latest()
    context: dict[str, Any] = {
        "current": current,
        "settings_form": settings_form
        or StaffingSettingsForm(initial=_settings_initial(current_settings)),
        "shift_form": shift_form or ShiftForm(),
        "import_form": import_form or ShiftImportForm(),
        "import_errors": import_errors or [],
        "rosters": _rosters(),
        "weekdays": WEEKDAYS,
    }
    if current is not None and current.intervals:
        plan = staffing.plan_build(current, current_settings)
        days = plan.days()
        wanted = _day_asked(request.GET.get("day", ""))
        day = wanted if wanted in days else days[0]
        today = plan.day(day)
        suggestion = staffing.shifts_suggest(
            intervals=today.intervals,
            need=today.rostered,
            shift_intervals=current_settings.shift_hours * 60 // plan.interval_minutes,
        )
        names = dict(Channel.choices)
        short: dict[date, int] = {}
        for at, gap in zip(plan.intervals, plan.gaps, strict=True):
            if gap < 0:
                short[at.date()] = short.get(at.date(), 0) + 1
        context.update(
            {
                "days": [(d, short.get(d, 0)) for d in days],
                "day": day,
                "plan": today,
                "suggestion": suggestion,
                "channels": [
                    {
                        "name": names.get(need.channel, need.channel),
                        "aht": round(need.aht_seconds),
                        "target": need.target_seconds,
                        "live": need.channel in staffing.LIVE_CHANNELS,
                        "patience": (
                            round(need.patience_seconds)
                            if need.patience_seconds is not None
                            else None
                        ),
                    }
                    for need in plan.channels
                ],
                "rows": [
                    {
                        "at": at,
                        "contacts": round(sum(n.contacts[i] for n in today.channels), 1),
                        "agents": [n.agents[i] for n in today.channels],
                        "required": today.required[i],
                        "rostered": today.rostered[i],
                        "scheduled": today.scheduled[i],
                        "gap": today.gaps[i],
                    }
                    for i, at in enumerate(today.intervals)
                ],
                "short_intervals": sum(1 for gap in plan.gaps if gap < 0),
                "chart": {
                    "labels": {
                        "required": _("Needed on the queues"),
                        "rostered": _("Needed on shift (with shrinkage)"),
                        "scheduled": _("Scheduled"),
                        "title": _("Agents per 30 minutes"),
                    },
                    "times": [timezone.localtime(at).strftime("%H:%M") for at in today.intervals],
                    "required": today.required,
                    "rostered": today.rostered,
                    "scheduled": today.scheduled,
                },
            }
        )
    return render(request, "analytics/staffing.html", context, status=status)


def _day_asked(value: str) -> date | None:
    """The day in `?day=`, or None when it is missing or not a date (the first day is shown)."""
    try:
        return parse_date(value.strip()) if value else None
    except ValueError:
        return None


def _rosters() -> list[dict[str, Any]]:
    """Each active agent with shift hours, and those hours by weekday."""
    names = dict(WEEKDAYS)
    rows = []
    for agent in (
        Agent.objects.filter(user__is_active=True, shift_calendar__isnull=False)
        .select_related("user", "shift_calendar")
        .prefetch_related("shift_calendar__hours")
        .order_by("user__username")
    ):
        assert agent.shift_calendar is not None
        hours = [
            f"{names[h.weekday]} {h.start:%H:%M}–{h.end:%H:%M}"
            for h in agent.shift_calendar.hours.all()
        ]
        rows.append({"agent": agent, "calendar": agent.shift_calendar.name, "hours": hours})
    return rows


@require_POST
@role_required(Role.SUPERVISOR)
def staffing_settings(request: HttpRequest) -> HttpResponse:
    form = StaffingSettingsForm(request.POST)
    if not form.is_valid():
        return _staffing_render(request, settings_form=form, status=400)
    staffing.settings_save(
        service_level_percent=form.cleaned_data["service_level_percent"],
        answer_seconds=form.cleaned_data["answer_seconds"],
        max_occupancy_percent=form.cleaned_data["max_occupancy_percent"],
        shrinkage_percent=form.cleaned_data["shrinkage_percent"],
        shift_hours=form.cleaned_data["shift_hours"],
        reply_seconds=form.reply_seconds(),
        actor=request.user,  # type: ignore[arg-type]
    )
    messages.success(request, _("Staffing settings saved."))
    return redirect("reports-staffing")


@require_POST
@role_required(Role.SUPERVISOR)
def shift_save(request: HttpRequest) -> HttpResponse:
    form = ShiftForm(request.POST)
    if not form.is_valid():
        return _staffing_render(request, shift_form=form, status=400)
    shifts.shift_set(
        agent=form.cleaned_data["agent"],
        weekdays=set(form.cleaned_data["weekdays"]),
        start=form.cleaned_data["start"],
        end=form.cleaned_data["end"],
        actor=request.user,  # type: ignore[arg-type]
    )
    messages.success(request, _("Shift saved."))
    return redirect("reports-staffing")


@require_POST
@role_required(Role.SUPERVISOR)
def shift_remove(request: HttpRequest, agent_id: int) -> HttpResponse:
    """Take an agent off the roster (no shift hours)."""
    agent = get_object_or_404(Agent, pk=agent_id)
    shifts.shift_clear(agent=agent, actor=request.user)  # type: ignore[arg-type]
    messages.success(request, _("%(agent)s is off the roster.") % {"agent": agent})
    return redirect("reports-staffing")


@require_POST
@role_required(Role.SUPERVISOR)
def shift_import(request: HttpRequest) -> HttpResponse:
    form = ShiftImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _staffing_render(request, import_form=form, status=400)
    try:
        count = shifts.shifts_import(
            content=form.cleaned_data["file"].read(shifts.MAX_IMPORT_BYTES + 1),
            actor=request.user,  # type: ignore[arg-type]
        )
    except shifts.ShiftImportError as error:
        return _staffing_render(request, import_form=form, import_errors=error.errors, status=400)
    messages.success(request, _("%(count)d shifts imported.") % {"count": count})
    return redirect("reports-staffing")
