from collections.abc import Sequence
from datetime import timedelta

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from analytics import selectors
from analytics.report_views import _show, category_label
from feedback.selectors.complaints import overdue_actions
from kb.triage import category_label as triage_category_label
from kefu.roles import Role, role_required
from sla.models import EscalationAction, Milestone
from tickets.masking import mask_text
from tickets.models import AgentStatus
from tickets.templatetags.kefu_format import business_duration

# The sparkline's box, in SVG user units (the page stretches it to the tile's width).
SPARK_WIDTH, SPARK_HEIGHT = 100, 24


def sparkline(values: Sequence[float | None]) -> str:
    """The points of an SVG polyline drawing `values` left to right in the sparkline's box,
    lowest at the bottom (a flat line in the middle); a day without a figure is left out
    (the line joins its neighbours). Empty when no day has a figure."""
    known = [(n, v) for n, v in enumerate(values) if v is not None]
    if not known:
        return ""
    low = min(v for _n, v in known)
    high = max(v for _n, v in known)
    step = SPARK_WIDTH / max(len(values) - 1, 1)
    margin = 2

    def y(value: float) -> float:
        if high == low:  # a flat line runs through the middle
            return SPARK_HEIGHT / 2
        return SPARK_HEIGHT - margin - (value - low) / (high - low) * (SPARK_HEIGHT - 2 * margin)

    return " ".join(f"{n * step:.1f},{y(v):.1f}" for n, v in known)


def _trend(values: Sequence[float | None], kind: str) -> dict[str, str]:
    """A tile's trend: the polyline's points and, for its title, each day's figure."""
    today = timezone.localdate()
    days = [today - timedelta(days=n) for n in range(len(values) - 1, -1, -1)]
    points = sparkline(values)
    last = points.rsplit(" ", 1)[-1].split(",") if values and values[-1] is not None else []
    return {
        "points": points,
        # Today's point, marked: a trend with one known day is a dot rather than nothing.
        "x": last[0] if last else "",
        "y": last[1] if last else "",
        "title": " · ".join(
            f"{date_format(day, 'm-d')} {_show(value, kind)}"
            for day, value in zip(days, values, strict=True)
        ),
    }


def _age(since: timedelta) -> str:
    """How long ago, roughly: minutes, hours or days."""
    minutes = max(int(since.total_seconds() // 60), 0)
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    if minutes < 48 * 60:
        return _("%(hours)d h") % {"hours": minutes // 60}
    return _("%(days)d d") % {"days": minutes // (24 * 60)}


def _counters() -> dict[str, object]:
    values = selectors.board_counters()
    now = timezone.now()
    week = selectors.trend_totals(now=now)
    rates = selectors.board_rates(week=week)
    for key, figure in rates.items():
        values[f"{key}_today"] = figure.value
        values[f"{key}_today_display"] = _show(figure.value, "share")
    values["trends"] = {key: _trend(figure.trend, "share") for key, figure in rates.items()}
    values["trends"]["open"] = _trend(
        selectors.backlog_trend(open_now=int(values["open"]), week=week), "count"
    )
    values["trends"]["logistics_anomalies"] = _trend(
        selectors.anomaly_trend(open_now=int(values["logistics_anomalies"]), now=now), "count"
    )
    values["trends"]["complaint_actions_overdue"] = _trend(
        selectors.overdue_action_trend(
            overdue_now=int(values["complaint_actions_overdue"]), now=now
        ),
        "count",
    )
    values["backlog"] = [
        {
            "category": row.category,
            # The triage's names (they include complaints); "uncategorised" as the reports say.
            "label": triage_category_label(row.category)
            if row.category
            else category_label(row.category),
            "count": row.count,
            "oldest": _age(now - row.oldest),
        }
        for row in selectors.backlog_by_category()
    ]
    most = max((row["count"] for row in values["backlog"]), default=0)
    for row in values["backlog"]:
        # The bar's length in tenths, for a class (the policy allows no style attribute).
        row["bar"] = max(round(row["count"] / most * 10), 1) if most else 0
    average = values["first_response_avg_seconds"]
    values["first_response_avg_display"] = "—" if average is None else business_duration(average)
    values["likely_to_breach"] = [
        {
            "number": f.number,
            "subject": f.subject,
            "team": f.team,
            "due_at": localtime(f.due_at).strftime("%m-%d %H:%M"),
            "left": business_duration(f.seconds_left),
            "ahead": f.ahead,
            "rate_per_hour": f.rate_per_hour,
            "probability": round(f.probability * 100),
        }
        for f in selectors.breach_forecast()
    ]
    actions = dict(EscalationAction.choices)
    milestones = dict(Milestone.choices)
    values["escalations"] = [
        {
            "number": e.number,
            "subject": e.subject,
            "what": f"{milestones.get(e.milestone, e.milestone)} · L{e.level} · "
            f"{actions.get(e.action, e.action)}",
            "at": localtime(e.at).strftime("%H:%M"),
        }
        for e in selectors.recent_escalations()
    ]
    values["overdue_actions"] = [
        {
            "number": review.complaint.ticket.number,
            "cause": str(review.root_cause),
            "action": mask_text(review.action[:80]),
            "owner": review.action_owner.get_full_name() or review.action_owner.get_username(),
            "due": review.action_due.isoformat(),
        }
        for review in overdue_actions()
    ]
    statuses = dict(AgentStatus.choices)
    values["agents"] = [
        {
            "name": p.name,
            "status": p.status,
            "status_display": statuses.get(p.status, p.status),
            "since": localtime(p.since).strftime("%H:%M") if p.since else "",
            "open_tickets": p.open_tickets,
            "capacity": p.capacity,
        }
        for p in selectors.agents_presence()
    ]
    values["agents_online"] = sum(1 for p in values["agents"] if p["status"] == "online")
    return values


@require_GET
@role_required(Role.SUPERVISOR)
def board(request: HttpRequest) -> HttpResponse:
    return render(request, "board/board.html", {"counters": _counters()})


@require_GET
@role_required(Role.SUPERVISOR)
def board_tv(request: HttpRequest) -> HttpResponse:
    """The board for a wall screen: large type, no navigation or controls; it keeps itself
    live and reconnects on its own (docs/realtime.md)."""
    return render(request, "board/tv.html", {"counters": _counters(), "tv": True})


@require_GET
@role_required(Role.SUPERVISOR)
def board_live(request: HttpRequest) -> HttpResponse:
    """The board's counters, likely breaches and escalations, fetched by the page (htmx) when
    a board event arrives; `?tv=1` for the wall screen's layout."""
    tv = request.GET.get("tv") == "1"
    template = "board/_tv_live.html" if tv else "board/_live.html"
    return render(request, template, {"counters": _counters(), "tv": tv})


@require_GET
@role_required(Role.SUPERVISOR)
def board_counters(request: HttpRequest) -> JsonResponse:
    """The same figures as JSON, for other screens and scripts."""
    return JsonResponse(_counters())
