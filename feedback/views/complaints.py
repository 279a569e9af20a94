"""Complaint pages, under /complaints/: the supervisors' complaint list, one complaint with its
review form, reviews by root cause and month, the root-cause taxonomy, customer suggestions;
and the ticket page's actions (flag, unflag, record a suggestion).

Roles: agents flag and unflag complaints and record suggestions on tickets they may see, and
read the suggestion list; supervisors and admins do everything else. Anonymous visitors go to
sign-in, staff without the role get 403, a ticket the user may not see is a 404."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from feedback.forms.complaints import (
    DEPARTMENT_SUGGESTIONS,
    ReasonForm,
    ReviewFilterForm,
    ReviewForm,
    RootCauseForm,
    SuggestionForm,
    SuggestionStatusForm,
)
from feedback.models import ComplaintReview, RootCause, Suggestion, SuggestionStatus
from feedback.selectors.complaints import (
    complaints_list,
    overdue_action_count,
    reviews_by_cause_and_month,
    reviews_filtered,
    suggestion_counts,
)
from feedback.services.complaints import (
    SUGGESTION_MOVES,
    ReviewInput,
    complaint_ensure,
    complaint_flag,
    complaint_review_save,
    complaint_unflag,
    root_cause_save,
    suggestion_from_ticket,
    suggestion_set_status,
)
from kefu.roles import Role, has_role, role_required
from tickets.models import Ticket
from tickets.selectors import ticket_for

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _ticket_or_404(request: HttpRequest, number: str) -> Ticket:
    ticket = ticket_for(request.user, number)
    if ticket is None:
        raise Http404(_("No such ticket"))
    return ticket


def _refused(request: HttpRequest, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


@require_GET
@role_required(Role.SUPERVISOR)
def complaints(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "open")
    reviewed = request.GET.get("reviewed", "")
    mine = request.GET.get("mine") == "1"
    rows = complaints_list(
        state=state if state in ("open", "closed") else "",
        reviewed=reviewed if reviewed in ("yes", "no") else "",
        owner_id=request.user.pk if mine else None,
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "feedback/complaints/list.html",
        {
            "page": page,
            "state": state,
            "reviewed": reviewed,
            "mine": mine,
            "today": timezone.localdate(),
            "overdue": overdue_action_count(),
            "tab": "complaints",
        },
    )


def _review_initial(review: ComplaintReview | None, user: User) -> dict[str, object]:
    if review is None:
        return {"action_owner": user.pk, "action_status": "planned"}
    return {
        "root_cause": review.root_cause_id,
        "department": review.department,
        "summary": review.summary,
        "action": review.action,
        "action_owner": review.action_owner_id,
        "action_due": review.action_due,
        "action_status": review.action_status,
    }


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def complaint_detail(request: HttpRequest, number: str) -> HttpResponse:
    """One complaint: its ticket, owner and how it was recognised, and the review form."""
    ticket = _ticket_or_404(request, number)
    complaint = complaint_ensure(ticket)
    if complaint is None:
        raise Http404(_("This ticket is not a complaint."))
    review = ComplaintReview.objects.filter(complaint=complaint).first()
    current_cause = review.root_cause_id if review else None
    if request.method == "POST":
        form = ReviewForm(request.POST, current_cause_id=current_cause)
        if form.is_valid():
            data = form.cleaned_data
            try:
                complaint_review_save(
                    complaint=complaint,
                    actor=_user(request),
                    review=ReviewInput(
                        root_cause=data["root_cause"],
                        department=data["department"],
                        summary=data["summary"],
                        action=data["action"],
                        action_owner=data["action_owner"],
                        action_due=data["action_due"],
                        action_status=data["action_status"],
                    ),
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, problems in error.message_dict.items():
                        for problem in problems:
                            form.add_error(field if field in form.fields else None, problem)
                else:
                    form.add_error(None, error)
            else:
                messages.success(request, _("The review is saved."))
                return redirect("complaints:detail", number=ticket.number)
        status = 400
    else:
        form = ReviewForm(
            initial=_review_initial(review, _user(request)), current_cause_id=current_cause
        )
        status = 200
    return render(
        request,
        "feedback/complaints/detail.html",
        {
            "ticket": ticket,
            "complaint": complaint,
            "review": review,
            "form": form,
            "departments": DEPARTMENT_SUGGESTIONS,
            "today": timezone.localdate(),
            "tab": "complaints",
        },
        status=status,
    )


@require_POST
@role_required(Role.AGENT)
def complaint_flag_view(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why this ticket is a complaint."))
    else:
        try:
            complaint_flag(ticket=ticket, actor=_user(request), reason=form.cleaned_data["reason"])
        except ValidationError as error:
            _refused(request, error)
        else:
            messages.success(request, _("Flagged as a complaint."))
    return redirect("tickets:ticket", number=ticket.number)


@require_POST
@role_required(Role.AGENT)
def complaint_unflag_view(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why this ticket is not a complaint."))
    else:
        try:
            complaint_unflag(
                ticket=ticket, actor=_user(request), reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _refused(request, error)
        else:
            messages.success(request, _("No longer a complaint."))
    return redirect("tickets:ticket", number=ticket.number)


@require_GET
@role_required(Role.SUPERVISOR)
def reviews_report(request: HttpRequest) -> HttpResponse:
    """Reviews by root cause per month, with the reviews themselves, filtered by the period
    the complaints were received in, a cause and a department."""
    form = ReviewFilterForm(request.GET or None)
    since: date | None = None
    until: date | None = None
    cause: RootCause | None = None
    department = ""
    if form.is_bound and form.is_valid():
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
        cause, department = form.cleaned_data["root_cause"], form.cleaned_data["department"]
    rows = reviews_filtered(
        since=since,
        until=until,
        root_cause_id=cause.pk if cause else None,
        department=department.strip(),
    )
    table = reviews_by_cause_and_month(rows)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "feedback/complaints/reviews.html",
        {
            "form": form,
            "table": table,
            "page": page,
            "query": query.urlencode(),
            "today": timezone.localdate(),
            "tab": "reviews",
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def causes(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The root-cause taxonomy: the list, and a form to add one or edit the one named."""
    editing = get_object_or_404(RootCause, pk=pk) if pk is not None else None
    if request.method == "POST":
        form = RootCauseForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                root_cause_save(
                    cause=editing,
                    actor=_user(request),
                    code=data["code"],
                    name_zh=data["name_zh"],
                    name_en=data["name_en"],
                    position=data["position"],
                    is_active=data["is_active"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The root cause is saved."))
                return redirect("complaints:causes")
        status = 400
    else:
        initial: dict[str, object] = {"is_active": True, "position": 100}
        if editing is not None:
            initial = {
                "code": editing.code,
                "name_zh": editing.name_zh,
                "name_en": editing.name_en,
                "position": editing.position,
                "is_active": editing.is_active,
            }
        form = RootCauseForm(initial=initial)
        status = 200
    return render(
        request,
        "feedback/complaints/causes.html",
        {
            "causes": RootCause.objects.all(),
            "form": form,
            "editing": editing,
            "tab": "causes",
        },
        status=status,
    )


@require_GET
@role_required(Role.AGENT)
def suggestions(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    rows = Suggestion.objects.select_related("ticket", "created_by", "decided_by")
    if status in SuggestionStatus.values:
        rows = rows.filter(status=status)
    page = Paginator(rows.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    moves = {str(key): sorted(str(v) for v in value) for key, value in SUGGESTION_MOVES.items()}
    for suggestion in page:
        suggestion.moves = [  # type: ignore[attr-defined]
            (value, SuggestionStatus(value).label) for value in moves[suggestion.status]
        ]
    return render(
        request,
        "feedback/complaints/suggestions.html",
        {
            "page": page,
            "status": status,
            "statuses": SuggestionStatus.choices,
            "counts": suggestion_counts(),
            "may_decide": has_role(request.user, Role.SUPERVISOR),
            "tab": "suggestions",
        },
    )


@require_POST
@role_required(Role.SUPERVISOR)
def suggestion_status(request: HttpRequest, pk: int) -> HttpResponse:
    suggestion = get_object_or_404(Suggestion, pk=pk)
    form = SuggestionStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status."))
    else:
        try:
            suggestion_set_status(
                suggestion=suggestion,
                actor=_user(request),
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            _refused(request, error)
        else:
            messages.success(request, _("The suggestion is updated."))
    return redirect("complaints:suggestions")


@require_POST
@role_required(Role.AGENT)
def suggestion_create(request: HttpRequest, number: str) -> HttpResponse:
    """Turn the ticket into a customer suggestion (from the ticket page)."""
    ticket = _ticket_or_404(request, number)
    form = SuggestionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the suggestion a title."))
    else:
        try:
            suggestion_from_ticket(
                ticket=ticket,
                actor=_user(request),
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
            )
        except ValidationError as error:
            _refused(request, error)
        else:
            messages.success(request, _("Recorded as a customer suggestion."))
    return redirect("tickets:ticket", number=ticket.number)
