"""Survey pages: the customer's one-click page (a signed link, no sign-in), and the
supervisors' figures (CSAT, NPS, response rate) and settings.

The public page is rate-limited per address like the status pages; a forged, used or
expired link gets a page that says so, and nothing is stored."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from feedback.forms.surveys import AnswerForm, SurveySettingsForm
from feedback.models import SurveyKind
from feedback.selectors.surveys import GROUPINGS, recent_answers, survey_figures
from feedback.services.surveys import (
    Answer,
    SurveyRefused,
    survey_answer,
    survey_from_token,
    survey_settings,
    survey_settings_update,
)
from kefu.roles import Role, role_required
from tickets.masking import mask_text

STATUS_BY_CODE = {"forged": 404, "used": 410, "expired": 410}


@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=lambda group, request: settings.STATUS_RATE_LIMIT, method="POST")
@ratelimit(key="ip", rate=lambda group, request: settings.KB_PUBLIC_RATE_LIMIT, method="GET")
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        survey = survey_from_token(token)
    except SurveyRefused as refused:
        return render(
            request,
            "feedback/surveys/closed.html",
            {"code": refused.code, "reason": refused.message},
            status=STATUS_BY_CODE.get(refused.code, 400),
        )
    config = survey_settings()
    tags = config.tags if survey.kind == SurveyKind.CSAT else []
    form = AnswerForm(request.POST or None, scale=survey.scale, tags=tags)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            survey_answer(
                survey=survey,
                answer=Answer(
                    score=data["score"], tags=tuple(data.get("tags") or ()), comment=data["comment"]
                ),
                via="web",
            )
        except SurveyRefused as refused:
            return render(
                request,
                "feedback/surveys/closed.html",
                {"code": refused.code, "reason": refused.message},
                status=STATUS_BY_CODE.get(refused.code, 400),
            )
        return render(request, "feedback/surveys/thanks.html", {"survey": survey})
    return render(
        request,
        "feedback/surveys/answer.html",
        {"survey": survey, "form": form, "is_nps": survey.kind == SurveyKind.NPS},
        status=400 if request.method == "POST" else 200,
    )


def _period(request: HttpRequest) -> tuple[datetime, datetime, str, str]:
    """The page's period: `from` and `to` dates (inclusive), default the last 90 days."""
    zone = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localtime(timezone.now(), zone).date()
    first = parse_date(request.GET.get("from", "") or "") or today - timedelta(days=89)
    last = parse_date(request.GET.get("to", "") or "") or today
    if last < first:
        first, last = last, first
    start = datetime.combine(first, time(0, 0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0, 0), tzinfo=zone)
    return start, end, first.isoformat(), last.isoformat()


@require_GET
@role_required(Role.SUPERVISOR)
def figures(request: HttpRequest) -> HttpResponse:
    start, end, first, last = _period(request)
    by = request.GET.get("by", "channel")
    if by not in GROUPINGS:
        by = "channel"
    answers = recent_answers()
    for survey in answers:
        survey.comment = mask_text(survey.comment)
    return render(
        request,
        "feedback/surveys/figures.html",
        {
            "csat_total": survey_figures(kind=SurveyKind.CSAT, start=start, end=end)[0],
            "nps_total": survey_figures(kind=SurveyKind.NPS, start=start, end=end)[0],
            "csat_rows": survey_figures(kind=SurveyKind.CSAT, start=start, end=end, by=by),
            "nps_rows": survey_figures(kind=SurveyKind.NPS, start=start, end=end, by=by),
            "groupings": GROUPINGS,
            "by": by,
            "by_label": GROUPINGS[by],
            "first": first,
            "last": last,
            "answers": answers,
            "tab": "figures",
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def settings_page(request: HttpRequest) -> HttpResponse:
    config = survey_settings()
    if request.method == "POST":
        form = SurveySettingsForm(request.POST)
        if form.is_valid():
            survey_settings_update(actor=request.user, values=dict(form.cleaned_data))  # type: ignore[arg-type]
            messages.success(request, _("Survey settings saved."))
            return redirect("feedback:survey_settings")
    else:
        form = SurveySettingsForm(
            initial={
                "delay_minutes": config.delay_minutes,
                "channels": config.channels,
                "fatigue_days": config.fatigue_days,
                "expiry_days": config.expiry_days,
                "tags": "\n".join(config.tags),
                "nps_is_active": config.nps_is_active,
                "nps_order_days": config.nps_order_days,
                "nps_order_percent": config.nps_order_percent,
                "nps_quarter_sample": config.nps_quarter_sample,
                "callback_due_minutes": config.callback_due_minutes,
                "angry_sentiment": config.angry_sentiment,
            }
        )
    return render(
        request,
        "feedback/surveys/settings.html",
        {"form": form, "tab": "settings"},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
