"""The report pages beyond the overview (SLA, channels, categories, agents, quality,
after-sales), each table's CSV/XLSX download, agent scorecards and the monthly ranking."""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from analytics import pages, ranking, reports, scorecards, services
from analytics.metrics import Totals
from analytics.report_views import _change, _form, _show, category_label, stream_table
from kefu.roles import Role, has_role, role_required
from tickets.models import Agent, Channel


@dataclass
class Page:
    tables: list[pages.Table]
    chart: dict[str, Any]
    tiles: list[dict[str, Any]]


def _plain(value: float | None, kind: str) -> object:
    """A figure for a download: numbers as numbers, rounded as the page rounds them."""
    if value is None:
        return ""
    if kind == "count":
        return int(value)
    if kind == "share":
        return round(value, 4)
    if kind in ("duration", "age"):
        return round(value)
    if kind in ("score", "amount", "nps"):
        return round(value, 2 if kind == "amount" else 1)
    return round(value, 3)


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _tile(
    key: str, label: Any, now: float | None, before: float | None, kind: str, drill: str = ""
) -> dict:
    """`drill`: the tickets the figure counts (analytics.reports.DRILLS), if it leads there."""
    return {
        "key": key,
        "label": label,
        "value": _show(now, kind),
        "before": _show(before, kind),
        "change": _change(now, before, kind),
        "drill": drill,
    }


# --- the pages' figures -------------------------------------------------------------------


def _sla(filters: reports.Filters, request: HttpRequest) -> Page:
    # The period's totals are the sum of its days: one reading of the rollups for both (of
    # the SLA counters, all this page shows).
    days = reports.by_day(filters, names=pages.SLA_SUMS, orders=False)
    now = sum((t for _d, t in days), Totals())
    before = reports.period_totals(filters.previous())
    tiles = [_tile("sla_rate", _("All milestones"), now.sla_rate, before.sla_rate, "share")]
    for milestone, label in pages.SLA_MILESTONES:
        key = f"sla_{milestone}_rate"
        tiles.append(_tile(key, label, getattr(now, key), getattr(before, key), "share"))
    tables = pages.sla_tables(filters, now)
    teams = next(t for t in tables if t.key == "teams")
    rate_columns = [i for i, c in enumerate(teams.columns) if c.kind == "share"]
    chart = {
        "charts": [
            {
                "id": "chart-sla-trend",
                "kind": "lines",
                "title": _("SLA attainment per day"),
                "x": [date_format(day, "m-d") for day, _t in days],
                "unit": "%",
                "series": [
                    {
                        "name": str(label),
                        "data": [_rate(getattr(t, f"sla_{m}_rate")) for _d, t in days],
                    }
                    for m, label in pages.SLA_MILESTONES
                ],
            },
            {
                "id": "chart-sla-teams",
                "kind": "bars",
                "title": _("SLA attainment per team"),
                "x": [row.label for row in teams.rows],
                "unit": "%",
                "series": [
                    {
                        "name": str(teams.columns[i].label),
                        "data": [_rate(row.values[i]) for row in teams.rows],
                    }
                    for i in rate_columns
                ],
            },
        ]
    }
    return Page(tables=tables, chart=chart, tiles=tiles)


def _channels(filters: reports.Filters, request: HttpRequest) -> Page:
    grid = pages.heatmap(filters)
    per_day = pages.channel_days(filters)
    tables = pages.channel_tables(filters, grid)
    days = [filters.start + timedelta(days=n) for n in range(filters.days)]
    # Contacts per channel per day, as reports.channel_mix counts them.
    mix = {
        code: {day: t.created for day, t in found.items() if t.created}
        for code, found in per_day.items()
        if any(t.created for t in found.values())
    }
    names = dict(Channel.choices)
    chart = {
        "charts": [
            {
                "id": "chart-channel-mix",
                "kind": "stacked",
                "wide": True,
                "title": _("Contacts by channel per day"),
                "x": [date_format(day, "m-d") for day in days],
                "series": [
                    {
                        "name": str(names.get(code, code)),
                        "data": [per_day.get(day, 0) for day in days],
                    }
                    for code, per_day in sorted(mix.items())
                ],
            },
            {
                "id": "chart-heatmap",
                "kind": "heatmap",
                "wide": True,
                "title": _("Contacts by weekday and hour"),
                "x": [f"{hour:02d}" for hour in range(24)],
                "y": [str(day) for day in pages.WEEKDAYS],
                "data": [[h, d, grid[d][h]] for d in range(7) for h in range(24)],
                "max": max((max(row) for row in grid), default=0),
            },
        ]
    }
    return Page(tables=tables, chart=chart, tiles=[])


def _categories(filters: reports.Filters, request: HttpRequest) -> Page:
    tables, bars = pages.category_tables(filters, category_label)
    rows = tables[0].rows
    now = timezone.now()
    backlog, open_now = pages.backlog_table(filters, category_label, now=now)
    tables.append(backlog)
    days = [filters.start + timedelta(days=n) for n in range(filters.days)]
    chart = {
        "charts": [
            {
                "id": "chart-category-pareto",
                "kind": "pareto",
                "title": _("Contacts by category"),
                "x": [row.label for row in rows],
                "counts": [count for _code, count in bars],
                "names": {"bars": _("Contacts"), "line": _("Cumulative share")},
            },
            {
                "id": "chart-category-repeat",
                "kind": "bars",
                "title": _("Repeat-contact rate per category"),
                "x": [row.label for row in rows],
                "unit": "%",
                "series": [
                    {"name": _("Repeat-contact rate"), "data": [_rate(r.values[4]) for r in rows]}
                ],
            },
            {
                "id": "chart-backlog",
                "kind": "lines",
                "wide": True,
                "title": _("Open tickets at the end of each day"),
                "x": [date_format(day, "m-d") for day in days],
                "unit": "",
                "series": [
                    {
                        "name": _("Open (estimated from the day's contacts and resolutions)"),
                        "data": reports.backlog_history(
                            filters, open_now, today=timezone.localdate(now)
                        ),
                    }
                ],
            },
        ]
    }
    return Page(tables=tables, chart=chart, tiles=[])


def _agents(filters: reports.Filters, request: HttpRequest) -> Page:
    query = request.GET.urlencode()

    def link(pk: int) -> str:
        return reverse("reports-scorecard", args=[pk]) + (f"?{query}" if query else "")

    return Page(tables=pages.agent_tables(filters, link), chart={}, tiles=[])


def _quality(filters: reports.Filters, request: HttpRequest) -> Page:
    # Satisfaction from the rollups: the period's totals are the sum of its days.
    days = reports.by_day(filters, pages.SATISFACTION_SUMS, orders=False)
    rated = sum((t for _d, t in days), Totals())
    rated_before = reports.totals_by(filters.previous(), names=pages.SATISFACTION_SUMS).get(
        (), Totals()
    )
    now = pages.quality_totals(filters)
    before = pages.quality_totals(filters.previous())
    tiles = [
        _tile("csat_rate", _("CSAT"), rated.csat_rate, rated_before.csat_rate, "share"),
        _tile(
            "csat_answered",
            _("CSAT answers"),
            rated.csat_answered,
            rated_before.csat_answered,
            "count",
            "csat_answered",
        ),
        _tile(
            "csat_response_rate",
            _("CSAT response rate"),
            rated.csat_response_rate,
            rated_before.csat_response_rate,
            "share",
        ),
        _tile("nps", _("NPS"), rated.nps, rated_before.nps, "nps"),
        _tile(
            "nps_answered",
            _("NPS answers"),
            rated.nps_answered,
            rated_before.nps_answered,
            "count",
            "nps_answered",
        ),
        _tile("score_avg", _("Quality score (average)"), now.score_avg, before.score_avg, "score"),
        _tile("reviews", _("Reviews"), now.reviews, before.reviews, "count"),
        _tile("failed", _("Failed reviews"), now.failed, before.failed, "count"),
        _tile("fail_rate", _("Failed share"), now.fail_rate, before.fail_rate, "share"),
    ]
    tables = [
        *pages.satisfaction_tables(filters, category_label),
        *pages.quality_tables(filters),
    ]
    rows = tables[-1].rows
    charts: list[dict[str, Any]] = []
    if rated.csat_answered or rated.nps_answered:
        charts.append(
            {
                "id": "chart-satisfaction-trend",
                "kind": "lines",
                "wide": True,
                "title": _("CSAT and NPS per day"),
                "x": [date_format(day, "m-d") for day, _t in days],
                "unit": "",
                "series": [
                    {"name": _("CSAT (%)"), "data": [_rate(t.csat_rate) for _d, t in days]},
                    {
                        "name": _("NPS"),
                        "data": [None if t.nps is None else round(t.nps) for _d, t in days],
                    },
                ],
            }
        )
    if rows:
        charts.append(
            {
                "id": "chart-quality-agents",
                "kind": "bars",
                "title": _("Quality score per agent"),
                "x": [row.label for row in rows],
                "unit": "",
                "series": [{"name": _("Quality score"), "data": [r.values[1] for r in rows]}],
            }
        )
    return Page(tables=tables, chart={"charts": charts} if charts else {}, tiles=tiles)


def _aftersales(filters: reports.Filters, request: HttpRequest) -> Page:
    tables = pages.aftersales_tables(filters)
    cases = tables[0]
    chart = {
        "charts": [
            {
                "id": "chart-cases",
                "kind": "bars",
                "title": _("After-sales cases per type"),
                "x": [row.label for row in cases.rows],
                "unit": "",
                "series": [
                    {"name": str(cases.columns[i].label), "data": [r.values[i] for r in cases.rows]}
                    for i in (0, 1)
                ],
            }
        ]
    }
    return Page(tables=tables, chart=chart if cases.rows else {}, tiles=[])


PAGES: dict[str, tuple[Any, Callable[[reports.Filters, HttpRequest], Page]]] = {
    "sla": (gettext_lazy("SLA attainment"), _sla),
    "channels": (gettext_lazy("Channels"), _channels),
    "categories": (gettext_lazy("Categories"), _categories),
    "agents": (gettext_lazy("Agents"), _agents),
    "quality": (gettext_lazy("Satisfaction and quality"), _quality),
    "aftersales": (gettext_lazy("After-sales"), _aftersales),
}


def _with(query: str, params: dict[str, object]) -> str:
    """The page's query with a row's own filters put in place of the page's."""
    merged = QueryDict(query, mutable=True)
    for key, value in params.items():
        merged[key] = str(value)
    return merged.urlencode()


def _cells(table: pages.Table, query: str) -> list[dict[str, Any]]:
    rows = []
    for row in table.rows:
        cells = []
        for column, value in zip(table.columns, row.values, strict=True):
            metric = row.drills.get(column.key, column.drill)
            href = ""
            if metric and value is not None:
                href = reverse("reports-tickets", args=[metric]) + "?" + _with(query, row.params)
            cells.append({"text": _show(value, column.kind), "href": href})
        rows.append({"label": row.label, "link": row.link, "cells": cells})
    return rows


@require_GET
@role_required(Role.SUPERVISOR)
def report_page(request: HttpRequest, page: str) -> HttpResponse:
    if page not in PAGES:
        raise Http404(_("No such report."))
    title, build = PAGES[page]
    form, filters = _form(request)
    context: dict[str, Any] = {"form": form, "page": page, "title": title}
    if filters is None:
        return render(request, "analytics/page.html", context, status=400)
    built = build(filters, request)
    query = request.GET.urlencode()
    context.update(
        filters=filters,
        previous=filters.previous(),
        tiles=built.tiles,
        chart=built.chart,
        tables=[
            {"table": table, "rows": _cells(table, query), "export": f"{page}/{table.key}"}
            for table in built.tables
        ],
        query=query,
    )
    return render(request, "analytics/page.html", context)


def _table_rows(table: pages.Table) -> Iterator[Sequence[object]]:
    yield [str(table.head), *(str(c.label) for c in table.columns)]
    for row in table.rows:
        yield [
            row.label,
            *(_plain(v, c.kind) for c, v in zip(table.columns, row.values, strict=True)),
        ]


@require_GET
@role_required(Role.SUPERVISOR)
def page_export(
    request: HttpRequest, page: str, table: str, fmt: str
) -> HttpResponse | StreamingHttpResponse:
    """One table of a report page, as the page shows it, filters in the file name."""
    if page not in PAGES or fmt not in ("csv", "xlsx"):
        raise Http404(_("No such export."))
    form, filters = _form(request)
    if filters is None:
        return HttpResponse(" ".join(map(str, form.non_field_errors())), status=400)
    built = PAGES[page][1](filters, request)
    found = next((t for t in built.tables if t.key == table), None)
    if found is None:
        raise Http404(_("No such export."))
    return stream_table(
        name=f"kefu-{page}-{table}_{filters.slug()}",
        sheet=str(found.title),
        rows=_table_rows(found),
        fmt=fmt,
    )


# --- scorecards ---------------------------------------------------------------------------


@require_GET
@role_required(Role.AGENT)
def scorecard_list(request: HttpRequest) -> HttpResponse:
    """Supervisors and admins pick an agent; an agent goes straight to their own card."""
    visible = scorecards.agents_visible_to(request.user)
    if not has_role(request.user, Role.SUPERVISOR):
        own = visible.first()
        if own is None:
            raise PermissionDenied
        return redirect(reverse("reports-scorecard", args=[own.pk]))
    agents = sorted(visible.prefetch_related("teams"), key=str)
    return render(
        request,
        "analytics/scorecards.html",
        {"agents": agents, "page": "scorecards", "query": request.GET.urlencode()},
    )


@require_GET
@role_required(Role.AGENT)
def scorecard(request: HttpRequest, agent_id: int) -> HttpResponse:
    if agent_id > 2**63 - 1:  # past the database's integers: no such agent, for anyone
        raise Http404(_("No such agent."))
    if not scorecards.agents_visible_to(request.user).filter(pk=agent_id).exists():
        if has_role(request.user, Role.ADMIN):
            raise Http404(_("No such agent."))
        raise PermissionDenied
    agent = get_object_or_404(Agent.objects.select_related("user"), pk=agent_id)
    form, filters = _form(request)
    context: dict[str, Any] = {
        "agent": agent,
        "form": form,
        "page": "scorecards",
        "is_supervisor": has_role(request.user, Role.SUPERVISOR),
    }
    if filters is None:
        return render(request, "analytics/scorecard.html", context, status=400)
    filters = replace(filters, agent_id=None)
    card = scorecards.scorecard(agent, filters)
    context.update(
        filters=filters,
        card=card,
        figures=[
            {
                "key": f.key,
                "label": f.label,
                "agent": _show(f.agent, f.kind),
                # A team's count per agent is an average: one decimal.
                "team": _show(f.team, "score" if f.key in scorecards.PER_AGENT else f.kind),
                "better": f.better,
            }
            for f in card.figures
        ],
        chart={
            "charts": [
                {
                    "id": "chart-scorecard",
                    "kind": "bars",
                    "title": _("Against the team"),
                    "x": [str(f.label) for f in card.figures if f.kind == "share"],
                    "unit": "%",
                    "series": [
                        {
                            "name": str(agent),
                            "data": [_rate(f.agent) for f in card.figures if f.kind == "share"],
                        },
                        {
                            "name": str(card.team or _("Team")),
                            "data": [_rate(f.team) for f in card.figures if f.kind == "share"],
                        },
                    ],
                }
            ]
        },
    )
    return render(request, "analytics/scorecard.html", context)


# --- ranking ------------------------------------------------------------------------------


def _month(value: str | None) -> date | None:
    """The month asked for; by default the last whole month, the one a ranking announces."""
    if not value:
        return (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except ValueError:
        return None


@require_GET
@role_required(Role.SUPERVISOR)
def ranking_page(request: HttpRequest) -> HttpResponse:
    month = _month(request.GET.get("month"))
    context: dict[str, Any] = {"page": "ranking"}
    if month is None:
        context["error"] = _("A month is written as 2026-11.")
        return render(request, "analytics/ranking.html", context, status=400)
    settings = ranking.settings_current()
    entries = ranking.ranking(month, settings)
    context.update(
        month=month,
        month_value=month.strftime("%Y-%m"),
        settings=settings,
        components=ranking.COMPONENTS,
        entries=[
            {
                "entry": e,
                "score": _show(e.score, "score"),
                "why": ""
                if e.qualifies
                else (
                    _("below the minimum")
                    if e.resolved < settings.min_resolved
                    else _("no figures")
                ),
                "components": [
                    {
                        # The quality score as scored, 0 … 100; the rates as shares.
                        "value": _show(None if c.value is None else c.value * 100, "score")
                        if c.key == "quality"
                        else _show(c.value, "share"),
                        "weight": f"{c.used_weight * 100:.0f}%" if c.value is not None else "—",
                        "contribution": f"{c.contribution:.1f}" if c.value is not None else "—",
                    }
                    for c in e.components
                ],
            }
            for e in entries
        ],
    )
    return render(request, "analytics/ranking.html", context)


class RankingSettingsForm(forms.Form):
    weight_csat = forms.IntegerField(label=gettext_lazy("CSAT (%)"), min_value=0, max_value=100)
    weight_quality = forms.IntegerField(
        label=gettext_lazy("Quality score (%)"), min_value=0, max_value=100
    )
    weight_fcr = forms.IntegerField(
        label=gettext_lazy("First-contact resolution (%)"), min_value=0, max_value=100
    )
    weight_sla = forms.IntegerField(
        label=gettext_lazy("SLA attainment (%)"), min_value=0, max_value=100
    )
    min_resolved = forms.IntegerField(
        label=gettext_lazy("Minimum resolved tickets in the month"), min_value=0, max_value=100000
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        keys = ("weight_csat", "weight_quality", "weight_fcr", "weight_sla")
        if all(data.get(k) is not None for k in keys) and sum(data[k] for k in keys) != 100:
            raise forms.ValidationError(
                gettext_lazy("The weights add up to %(total)d%%; they must add up to 100%%.")
                % {"total": sum(data[k] for k in keys)}
            )
        return data


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def ranking_settings(request: HttpRequest) -> HttpResponse:
    current = ranking.settings_current()
    if request.method == "POST":
        form = RankingSettingsForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            assert isinstance(request.user, User)
            services.ranking_settings_update(
                weight_csat=data["weight_csat"],
                weight_quality=data["weight_quality"],
                weight_fcr=data["weight_fcr"],
                weight_sla=data["weight_sla"],
                min_resolved=data["min_resolved"],
                actor=request.user,
            )
            return redirect(reverse("reports-ranking"))
        status = 400
    else:
        form = RankingSettingsForm(
            initial={
                "weight_csat": current.weight_csat,
                "weight_quality": current.weight_quality,
                "weight_fcr": current.weight_fcr,
                "weight_sla": current.weight_sla,
                "min_resolved": current.min_resolved,
            }
        )
        status = 200
    return render(
        request,
        "analytics/ranking_settings.html",
        {"form": form, "settings": current, "page": "ranking"},
        status=status,
    )
