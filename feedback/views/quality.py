"""Quality inspection pages: the reviewers' sample list and workspace, a review with the
agent's acknowledgement or appeal and the supervisor's decision, the agent's own reviews,
and the supervisors' pages (appeals, calibration, scorecards, settings and rules).

Every view checks the role: reviewing takes a supervisor or a named reviewer (403 for other
staff); a review or sample a user may not see is a 404, as if it did not exist."""

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from feedback.forms.quality import (
    AppealForm,
    DecisionForm,
    ItemFormSet,
    RuleForm,
    ScorecardNameForm,
    SettingsForm,
    changed_ratings,
    ratings_from,
)
from feedback.models import (
    AppealStatus,
    ItemGroup,
    Rating,
    Review,
    Reviewer,
    Sample,
    SamplingRule,
    Scorecard,
)
from feedback.selectors.quality import (
    calibration_pairs,
    can_review,
    conversation,
    open_appeals,
    reviews_visible_to,
    samples_for_reviewer,
)
from feedback.services.quality_settings import (
    quality_settings,
    quality_settings_update,
    reviewer_name,
    reviewer_remove,
    sampling_rule_save,
)
from feedback.services.reviews import (
    appeal_decide,
    appeal_open,
    review_acknowledge,
    review_submit,
)
from feedback.services.sampling import last_full_week, sample_draw, week_of
from feedback.services.scorecards import scorecard_create, scorecard_current, scorecard_version_add
from kefu.roles import Role, has_role, role_required
from tickets.models import Team

View = Callable[..., HttpResponseBase]


def reviewer_required(view: View) -> View:
    """Signed in as staff (else the login page), and a reviewer (else 403)."""

    @role_required(Role.AGENT)
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not can_review(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A quality page, with what its tabs need to know about the user."""
    return render(request, template, {**context, "can_review": can_review(request.user)})


def _week(request: HttpRequest) -> date | None:
    value = request.GET.get("week", "")
    parsed = parse_date(value) if value else None
    return week_of(parsed) if parsed else None


@require_GET
@role_required(Role.AGENT)
def home(request: HttpRequest) -> HttpResponse:
    if can_review(request.user):
        return redirect("quality:samples")
    return redirect("quality:mine")


@require_GET
@reviewer_required
def samples(request: HttpRequest) -> HttpResponse:
    week = _week(request)
    rows = list(samples_for_reviewer(request.user, week=week)[:200])
    weeks = sorted(set(Sample.objects.values_list("week", flat=True)), reverse=True)[:12]
    return _render(
        request,
        "feedback/quality/samples.html",
        {
            "samples": rows,
            "week": week,
            "weeks": weeks,
            "last_week": last_full_week(),
            "is_supervisor": has_role(request.user, Role.SUPERVISOR),
        },
    )


@require_POST
@role_required(Role.SUPERVISOR)
def draw(request: HttpRequest) -> HttpResponse:
    parsed = parse_date(request.POST.get("week", ""))
    week = week_of(parsed) if parsed else last_full_week()
    added = sample_draw(week=week)
    messages.success(
        request,
        _("%(count)d tickets added to the sample of the week of %(week)s.")
        % {"count": len(added), "week": week.isoformat()},
    )
    return redirect(f"{_url('quality:samples')}?week={week.isoformat()}")


def _url(name: str, *args: object) -> str:
    from django.urls import reverse

    return reverse(name, args=args)


@require_http_methods(["GET", "POST"])
@reviewer_required
def sample_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The reviewer's workspace: the conversation (masked) with the pre-check findings by
    the messages they point at, and the scorecard to fill in."""
    sample = samples_for_reviewer(request.user).filter(pk=pk).first()
    if sample is None:
        raise Http404
    mine = Review.objects.filter(ticket=sample.ticket, reviewer_id=request.user.pk).first()
    if mine is not None:
        return redirect("quality:review", mine.pk)
    version = scorecard_current(sample.scorecard)
    # Grouped as the scorecard lists its groups, each group's items in their order.
    groups = list(ItemGroup.values)
    items = sorted(version.items.all(), key=lambda item: (groups.index(item.group), item.position))
    posted: dict[str, str] = {}
    if request.method == "POST":
        posted = request.POST.dict()
        try:
            review = review_submit(
                ticket=sample.ticket,
                agent=sample.agent,
                reviewer=request.user,  # type: ignore[arg-type]
                version=version,
                ratings=ratings_from(request.POST, version),
                comment=request.POST.get("comment", "")[:5000],
                sample=sample,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Review submitted: %(score)s") % {"score": review.score})
            return redirect("quality:review", review.pk)
    hits = list(sample.hits.all())
    return _render(
        request,
        "feedback/quality/workspace.html",
        {
            "sample": sample,
            "ticket": sample.ticket,
            "lines": conversation(sample.ticket, hits),
            "hits": hits,
            "version": version,
            "items": [
                {
                    "item": item,
                    "rating": posted.get(f"rating_{item.pk}", ""),
                    "comment": posted.get(f"comment_{item.pk}", ""),
                }
                for item in items
            ],
            "ratings": Rating.choices,
            "critical_ratings": [
                (Rating.MET, Rating.MET.label),
                (Rating.MISSED, Rating.MISSED.label),
            ],
            "comment": posted.get("comment", ""),
        },
    )


def _review_or_404(request: HttpRequest, pk: int) -> Review:
    review = reviews_visible_to(request.user).filter(pk=pk).first()
    if review is None:
        raise Http404
    return review


@require_GET
@role_required(Role.AGENT)
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review_or_404(request, pk)
    appeal = getattr(review, "appeal", None)
    is_own = review.agent.user_id == request.user.pk
    is_supervisor = has_role(request.user, Role.SUPERVISOR)
    hits = list(review.sample.hits.all()) if review.sample_id else []  # type: ignore[union-attr]
    rows = list(review.items.select_related("item"))
    return _render(
        request,
        "feedback/quality/review.html",
        {
            "review": review,
            "ticket": review.ticket,
            "rows": rows,
            "appeal": appeal,
            "lines": conversation(review.ticket, hits),
            "is_own": is_own,
            "can_answer": is_own and appeal is None and review.acknowledged_at is None,
            "can_decide": is_supervisor
            and appeal is not None
            and appeal.status == AppealStatus.OPEN
            and not is_own,
            "appeal_form": AppealForm(),
            "decision_form": DecisionForm(),
            "ratings": Rating.choices,
        },
    )


@require_POST
@role_required(Role.AGENT)
def review_acknowledge_view(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review_or_404(request, pk)
    if review.agent.user_id != request.user.pk:
        raise Http404
    if review_acknowledge(review=review, user=request.user):  # type: ignore[arg-type]
        messages.success(request, _("Review acknowledged."))
    return redirect("quality:review", review.pk)


@require_POST
@role_required(Role.AGENT)
def review_appeal(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review_or_404(request, pk)
    if review.agent.user_id != request.user.pk:
        raise Http404
    form = AppealForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why you appeal."))
        return redirect("quality:review", review.pk)
    try:
        appeal_open(review=review, user=request.user, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Appeal sent to the supervisors."))
    return redirect("quality:review", review.pk)


@require_POST
@role_required(Role.SUPERVISOR)
def appeal_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review_or_404(request, pk)
    appeal = getattr(review, "appeal", None)
    if appeal is None:
        raise Http404
    if review.agent.user_id == request.user.pk:
        raise PermissionDenied
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a decision."))
        return redirect("quality:review", review.pk)
    item_ids = list(review.items.values_list("item_id", flat=True))
    try:
        decided = appeal_decide(
            appeal=appeal,
            supervisor=request.user,  # type: ignore[arg-type]
            upheld=form.cleaned_data["decision"] == "upheld",
            note=form.cleaned_data["note"],
            new_ratings=changed_ratings(request.POST, item_ids),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Appeal %(status)s: score %(before)s → %(after)s")
            % {
                "status": decided.get_status_display(),
                "before": decided.score_before,
                "after": decided.score_after,
            },
        )
    return redirect("quality:review", review.pk)


@require_GET
@role_required(Role.AGENT)
def mine(request: HttpRequest) -> HttpResponse:
    reviews = (
        Review.objects.filter(agent__user_id=request.user.pk or 0)
        .select_related("ticket", "appeal")
        .order_by("-submitted_at")[:200]
    )
    return _render(request, "feedback/quality/mine.html", {"reviews": reviews})


@require_GET
@role_required(Role.SUPERVISOR)
def appeals(request: HttpRequest) -> HttpResponse:
    return _render(request, "feedback/quality/appeals.html", {"appeals": open_appeals()[:200]})


@require_GET
@role_required(Role.SUPERVISOR)
def calibration(request: HttpRequest) -> HttpResponse:
    return _render(request, "feedback/quality/calibration.html", {"pairs": calibration_pairs()})


@require_GET
@role_required(Role.SUPERVISOR)
def scorecards(request: HttpRequest) -> HttpResponse:
    cards = Scorecard.objects.prefetch_related("versions").order_by("name")
    return _render(request, "feedback/quality/scorecards.html", {"scorecards": cards})


def _initial(scorecard: Scorecard | None) -> list[dict[str, object]]:
    if scorecard is None:
        return []
    return [
        {
            "group": item.group,
            "name_zh": item.name_zh,
            "name_en": item.name_en,
            "description": item.description,
            "weight": item.weight,
            "is_critical": item.is_critical,
        }
        for item in scorecard_current(scorecard).items.all()
    ]


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def scorecard_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """A new scorecard, or a new version of one: the current items, edited."""
    scorecard = get_object_or_404(Scorecard, pk=pk) if pk is not None else None
    formset = ItemFormSet(request.POST or None, initial=_initial(scorecard), prefix="items")
    name_form = ScorecardNameForm(request.POST or None) if scorecard is None else None
    if (
        request.method == "POST"
        and formset.is_valid()
        and (name_form is None or name_form.is_valid())
    ):
        specs = [
            spec
            for form in formset.forms
            if not form.cleaned_data.get("DELETE") and (spec := form.spec()) is not None
        ]
        try:
            if scorecard is None:
                assert name_form is not None
                scorecard = scorecard_create(
                    name=name_form.cleaned_data["name"],
                    items=specs,
                    actor=request.user,  # type: ignore[arg-type]
                )
                version_number = 1
            else:
                version_number = scorecard_version_add(
                    scorecard=scorecard,
                    items=specs,
                    actor=request.user,  # type: ignore[arg-type]
                ).number
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(name)s saved as version %(number)d.")
                % {"name": scorecard.name, "number": version_number},
            )
            return redirect("quality:scorecards")
    return _render(
        request,
        "feedback/quality/scorecard_form.html",
        {
            "scorecard": scorecard,
            "version": scorecard_current(scorecard) if scorecard else None,
            "formset": formset,
            "name_form": name_form,
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def settings_page(request: HttpRequest) -> HttpResponse:
    """The pre-checks' lists and thresholds, the reviewers, and each team's rule."""
    config = quality_settings()
    form = SettingsForm(
        request.POST or None,
        initial={
            "greetings_zh": "\n".join(config.greetings_zh),
            "greetings_en": "\n".join(config.greetings_en),
            "forbidden_phrases": "\n".join(config.forbidden_phrases),
            "silence_minutes": config.silence_minutes,
            "sentiment_drop": config.sentiment_drop,
        },
    )
    if request.method == "POST" and form.is_valid():
        quality_settings_update(
            **form.lists(),
            silence_minutes=form.cleaned_data["silence_minutes"],
            sentiment_drop=form.cleaned_data["sentiment_drop"],
            actor=request.user,  # type: ignore[arg-type]
        )
        messages.success(request, _("Pre-check settings saved."))
        return redirect("quality:settings")
    rules = {rule.team_id: rule for rule in SamplingRule.objects.select_related("scorecard")}
    User = get_user_model()
    reviewers = Reviewer.objects.select_related("user").order_by("user__username")
    staff = (
        User.objects.filter(is_active=True, agent__isnull=False)
        .exclude(quality_reviewer__isnull=False)
        .order_by("username")
    )
    return _render(
        request,
        "feedback/quality/settings.html",
        {
            "form": form,
            "teams": [(team, rules.get(team.pk)) for team in Team.objects.order_by("name")],
            "reviewers": reviewers,
            "staff": staff,
        },
    )


@require_POST
@role_required(Role.SUPERVISOR)
def reviewers_change(request: HttpRequest) -> HttpResponse:
    User = get_user_model()
    user = get_object_or_404(User, pk=request.POST.get("user") or 0)
    if request.POST.get("action") == "remove":
        reviewer_remove(user=user, actor=request.user)  # type: ignore[arg-type]
    else:
        reviewer_name(user=user, actor=request.user)  # type: ignore[arg-type]
    return redirect("quality:settings")


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def rule_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    rule = SamplingRule.objects.filter(team=team).first()
    initial: dict[str, object] = {
        "random_percent": 5,
        "complaints": True,
        "low_csat": True,
        "sla_breached": True,
        "is_active": True,
    }
    if rule is not None:
        initial = {
            "scorecard": rule.scorecard_id,
            "random_percent": rule.random_percent,
            "complaints": rule.complaints,
            "low_csat": rule.low_csat,
            "sla_breached": rule.sla_breached,
            "keywords": "\n".join(rule.keywords),
            "is_active": rule.is_active,
        }
    form = RuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        sampling_rule_save(
            team=team,
            scorecard=form.cleaned_data["scorecard"],
            random_percent=form.cleaned_data["random_percent"],
            complaints=form.cleaned_data["complaints"],
            low_csat=form.cleaned_data["low_csat"],
            sla_breached=form.cleaned_data["sla_breached"],
            keywords=form.keyword_list(),
            is_active=form.cleaned_data["is_active"],
        )
        messages.success(request, _("Sampling rule of %(team)s saved.") % {"team": team})
        return redirect("quality:settings")
    return _render(request, "feedback/quality/rule_form.html", {"team": team, "form": form})
