"""The agent's after-sales pages: the case list, the case page with the next actions, and
opening a case from a ticket (the form is on the ticket page's panel, aftersales.panels)."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from aftersales.forms import ACTION_FORMS, CaseOpenForm
from aftersales.models import Case, CaseClock, CasePhoto, OpenedBy, Order, Reason, StepClock
from aftersales.selectors import cases_visible_to, clock_due, refund_room
from aftersales.services import (
    ItemClaim,
    case_cancel,
    case_complete,
    case_goods_received,
    case_open,
    case_receive,
    case_refund,
    case_repaired,
    case_replacement_shipped,
    case_return_tracking,
    case_review,
)
from aftersales.steps import FINAL_STEPS, REFUND_TYPES, CaseType, Step, expected_minutes, flow_of
from kefu.roles import Role, has_role, role_required
from tickets.selectors import ticket_for

PAGE_SIZE = 50
# A step clock this close to due (or warned by the engine) is shown as near due.
NEAR_DUE = timedelta(hours=2)

# Which form moves the case to each step.
_ACTION_OF_STEP = {
    Step.WAITING_FOR_RETURN: "review",
    Step.APPROVED: "review",
    Step.REJECTED: "review",
    Step.RETURN_SHIPPED: "return_tracking",
    Step.RECEIVED: "received",
    Step.INSPECTED: "inspect",
    Step.INSPECTION_FAILED: "inspect",
    Step.REFUNDED: "refund",
    Step.REPLACEMENT_SHIPPED: "replacement",
    Step.REPAIRED: "repaired",
    Step.COMPLETED: "complete",
    Step.CANCELLED: "cancel",
}
ACTION_LABELS = {
    "review": gettext_lazy("Review"),
    "return_tracking": gettext_lazy("Return sent back"),
    "received": gettext_lazy("Goods received"),
    "inspect": gettext_lazy("Inspection"),
    "refund": gettext_lazy("Refund"),
    "replacement": gettext_lazy("Replacement shipped"),
    "repaired": gettext_lazy("Repaired"),
    "complete": gettext_lazy("Complete"),
    "cancel": gettext_lazy("Cancel the case"),
}


def next_actions(case: Case) -> list[str]:
    """The actions the case's type allows from where it stands, in the page's order."""
    targets = flow_of(case.type).transitions.get(Step(case.step), frozenset())
    if case.step in (Step.WAITING_FOR_RETURN, Step.RETURN_SHIPPED) and Step.RECEIVED in targets:
        # An inspection records the receipt too, when nobody has yet.
        targets = targets | {Step.INSPECTED}
    actions = {_ACTION_OF_STEP[step] for step in targets}
    return [action for action in ACTION_FORMS if action in actions]


def clock_state(clock: CaseClock | None, *, now: Any) -> str:
    """How a case's step clock looks on a page: past due once its time is up (before the
    engine's next tick says so), near due when warned or within NEAR_DUE."""
    if clock is None or not clock.state:
        return ""
    if clock.state in (StepClock.PAUSED, StepClock.BREACHED):
        return str(clock.state)
    if clock.due_at is not None and clock.due_at <= now:
        return str(StepClock.BREACHED)
    if clock.state == StepClock.AT_RISK or (
        clock.due_at is not None and clock.due_at <= now + NEAR_DUE
    ):
        return str(StepClock.AT_RISK)
    return str(StepClock.RUNNING)


def _filtered(request: HttpRequest, cases: QuerySet[Case], now: Any) -> QuerySet[Case]:
    step = request.GET.get("step", "")
    if step in Step.values:
        cases = cases.filter(step=step)
    elif step != "all":
        cases = cases.filter(is_open=True)
    case_type = request.GET.get("type", "")
    if case_type in CaseType.values:
        cases = cases.filter(type=case_type)
    if request.GET.get("view") == "due":
        cases = cases.filter(
            Q(clock__state__in=[StepClock.AT_RISK, StepClock.BREACHED])
            | Q(clock__state=StepClock.RUNNING, clock__due_at__lte=now + NEAR_DUE)
        )
    if request.GET.get("sort") == "due":
        return cases.order_by(F("clock__due_at").asc(nulls_last=True), "created_at", "pk")
    return cases.order_by("created_at", "pk")


@require_GET
@role_required(Role.AGENT)
def case_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    visible = cases_visible_to(request.user)
    counts = dict(
        visible.filter(is_open=True)
        .values_list("step")
        .annotate(total=Count("pk"))
        .values_list("step", "total")
    )
    open_cases = visible.filter(is_open=True)
    due_counts = {
        "past": open_cases.filter(
            Q(clock__state=StepClock.BREACHED)
            | Q(clock__state__in=[StepClock.RUNNING, StepClock.AT_RISK], clock__due_at__lte=now)
        ).count(),
        "near": open_cases.filter(
            Q(clock__state=StepClock.AT_RISK) | Q(clock__state=StepClock.RUNNING),
            clock__due_at__gt=now,
        )
        .filter(Q(clock__state=StepClock.AT_RISK) | Q(clock__due_at__lte=now + NEAR_DUE))
        .count(),
    }
    cases = _filtered(request, visible, now).select_related("order", "ticket", "clock")
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "case": case,
            "clock": getattr(case, "clock", None),
            "state": clock_state(getattr(case, "clock", None), now=now),
            "age": now - case.created_at,
        }
        for case in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "aftersales/agent/list.html",
        {
            "rows": rows,
            "page": page,
            "query": query.urlencode(),
            "step_counts": [
                (step, label, counts.get(step, 0))
                for step, label in Step.choices
                if step not in FINAL_STEPS
            ],
            "steps": Step.choices,
            "types": CaseType.choices,
            "current": {
                "step": request.GET.get("step", ""),
                "type": request.GET.get("type", ""),
                "sort": request.GET.get("sort", "age"),
                "view": request.GET.get("view", ""),
            },
            "due_counts": due_counts,
            "is_supervisor": has_role(request.user, Role.SUPERVISOR),
        },
    )


def _case_for(request: HttpRequest, number: str) -> Case:
    case = (
        cases_visible_to(request.user)
        .select_related("order__customer", "ticket", "reason")
        .filter(number=number)
        .first()
    )
    if case is None:
        raise Http404(_("No such case."))
    return case


def _case_page(
    request: HttpRequest,
    case: Case,
    *,
    bound: tuple[str, forms.Form] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    clock = CaseClock.objects.filter(case=case).first()
    actions = []
    for action in next_actions(case):
        form = bound[1] if bound and bound[0] == action else ACTION_FORMS[action]()
        actions.append({"name": action, "label": ACTION_LABELS[action], "form": form})
    items = list(case.items.select_related("order_item"))
    value = sum(
        (item.quantity * item.order_item.unit_price for item in items), Decimal(0)
    ).quantize(Decimal("0.01"))
    room = refund_room(order=case.order, value=value, exclude_case_id=case.pk)
    return render(
        request,
        "aftersales/agent/case.html",
        {
            "case": case,
            "order": case.order,
            "items": items,
            "steps": [
                {"row": row, "details": _details(row.data, case.reason)}
                for row in case.steps.select_related("actor").order_by("at", "pk")
            ],
            "value": value,
            "refund_room": max(room - case.refunded_amount, Decimal(0))
            if case.type in REFUND_TYPES
            else None,
            "due": clock_due(clock),
            "clock_state": clock_state(clock, now=now),
            "expected_minutes": expected_minutes(case.type, case.step),
            "actions": actions,
            "error": error,
        },
        status=status,
    )


# How a step's details are named on the case page; a key not listed shows as stored.
_DETAIL_LABELS = {
    "type": gettext_lazy("Type"),
    "reason": gettext_lazy("Reason"),
    "amount": gettext_lazy("Amount"),
    "opened_by": gettext_lazy("Opened by"),
    "items": gettext_lazy("Items"),
    "outcome": gettext_lazy("Outcome"),
    "method": gettext_lazy("Method"),
    "reference": gettext_lazy("Reference"),
    "carrier": gettext_lazy("Carrier"),
    "tracking_number": gettext_lazy("Tracking number"),
    "return_address": gettext_lazy("Return address"),
    "rejection_reason": gettext_lazy("Reason given to the customer"),
}
_OUTCOMES = {
    "approved": gettext_lazy("Approved"),
    "rejected": gettext_lazy("Rejected"),
    "passed": gettext_lazy("Inspection passed"),
    "failed": gettext_lazy("Inspection failed"),
}


def _detail_value(key: str, value: Any, reason: Reason | None) -> str:
    """A stored code in words (a type, an opener, a reason, an outcome). `reason` is the
    case's own, which the opening step names (no query for it)."""
    if key == "type" and value in CaseType.values:
        return str(CaseType(value).label)
    if key == "opened_by" and value in OpenedBy.values:
        return str(OpenedBy(value).label)
    if key == "outcome" and value in _OUTCOMES:
        return str(_OUTCOMES[value])
    if key == "reason":
        if reason is None or reason.code != value:
            reason = Reason.objects.filter(code=value).first()
        return reason.label if reason is not None else str(value)
    if isinstance(value, dict):
        return ", ".join(f"{k} × {v}" for k, v in value.items())
    return str(value)


def _details(data: dict[str, Any], reason: Reason | None = None) -> list[tuple[str, str]]:
    """A step's details as label and text, for the steps table."""
    return [
        (str(_DETAIL_LABELS.get(key, key)), _detail_value(key, value, reason))
        for key, value in data.items()
        if key != "currency"  # the order's, shown with every amount
    ]


@require_GET
@role_required(Role.AGENT)
def case_page(request: HttpRequest, number: str) -> HttpResponse:
    return _case_page(request, _case_for(request, number))


def _act(action: str, case: Case, data: dict[str, Any], actor: Any) -> Case:
    """Call the service behind an action with the form's cleaned data."""
    calls: dict[str, Callable[[], Case]] = {
        "review": lambda: case_review(
            case=case,
            approve=data["decision"] == "approve",
            reason=data["reason"],
            return_address=data["return_address"],
            actor=actor,
        ),
        "return_tracking": lambda: case_return_tracking(
            case=case,
            carrier=data["carrier"],
            tracking_number=data["tracking_number"],
            actor=actor,
        ),
        "received": lambda: case_goods_received(case=case, note=data["note"], actor=actor),
        "inspect": lambda: case_receive(
            case=case, passed=data["outcome"] == "pass", note=data["note"], actor=actor
        ),
        "refund": lambda: case_refund(
            case=case,
            amount=data["amount"],
            method=data["method"],
            reference=data["reference"],
            actor=actor,
        ),
        "replacement": lambda: case_replacement_shipped(
            case=case,
            carrier=data["carrier"],
            tracking_number=data["tracking_number"],
            actor=actor,
        ),
        "repaired": lambda: case_repaired(case=case, report=data["report"], actor=actor),
        "complete": lambda: case_complete(case=case, note=data["note"], actor=actor),
        "cancel": lambda: case_cancel(case=case, note=data["note"], actor=actor),
    }
    return calls[action]()


@require_POST
@role_required(Role.AGENT)
def case_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    case = _case_for(request, number)
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        raise Http404(_("No such action."))
    form = form_class(request.POST)
    if not form.is_valid():
        return _case_page(request, case, bound=(action, form), status=400)
    try:
        case = _act(action, case, form.cleaned_data, request.user)
    except ValidationError as refusal:
        return _case_page(
            request, case, bound=(action, form), error=" ".join(refusal.messages), status=400
        )
    messages.success(
        request,
        _("Case %(number)s: %(step)s.") % {"number": case.number, "step": Step(case.step).label},
    )
    return redirect("aftersales:case", number=case.number)


@require_POST
@role_required(Role.AGENT)
def case_open_from_ticket(request: HttpRequest, ticket_number: str) -> HttpResponse:
    """The ticket panel's form: open a case for one of the ticket's customer's orders."""
    ticket = ticket_for(request.user, ticket_number)
    if ticket is None:
        raise Http404(_("No such ticket."))
    back = HttpResponseRedirect(reverse("tickets:ticket", args=[ticket.number]) + "#cases")
    form = CaseOpenForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("The case was not opened: %(errors)s")
            % {"errors": "; ".join(str(m) for v in form.errors.values() for m in v)},
        )
        return back
    data = form.cleaned_data
    order = Order.objects.filter(pk=data["order"], customer_id=ticket.customer_id).first()
    reason = Reason.objects.filter(code=data["reason"]).first()
    if order is None or reason is None:
        messages.error(request, _("The case was not opened: choose an order and a reason."))
        return back
    claims = []
    for item in order.items.all():
        raw = request.POST.get(f"qty_{item.pk}", "").strip() or "0"
        quantity = int(raw) if raw.isdigit() else -1
        if quantity < 0:
            messages.error(request, _("The case was not opened: quantities are whole numbers."))
            return back
        if quantity:
            claims.append(ItemClaim(order_item=item, quantity=quantity))
    case_type = CaseType(data["type"])
    amount = data["amount"]
    if amount is None:
        value = sum((c.order_item.unit_price * c.quantity for c in claims), Decimal(0))
        amount = (
            min(value, refund_room(order=order, value=value))
            if case_type in REFUND_TYPES
            else Decimal(0)
        )
    try:
        case = case_open(
            order=order,
            items=claims,
            type=case_type,
            reason=reason,
            description=data["description"],
            amount=amount,
            opened_by=OpenedBy.AGENT,
            ticket=ticket,
            actor=request.user,  # type: ignore[arg-type]
        )
    except ValidationError as refusal:
        messages.error(
            request, _("The case was not opened: %(error)s") % {"error": " ".join(refusal.messages)}
        )
        return back
    messages.success(request, _("Case %(number)s opened.") % {"number": case.number})
    return redirect("aftersales:case", number=case.number)


@require_GET
@role_required(Role.AGENT)
def case_photo(request: HttpRequest, number: str, pk: int) -> FileResponse:
    """A customer's evidence photo of a case the member of staff may see: always the JPEG
    Kefu made of it (aftersales.photos), never what was uploaded."""
    case = _case_for(request, number)
    photo = CasePhoto.objects.filter(pk=pk, case=case).first()
    if photo is None or not photo.file:
        raise Http404(_("No such photo."))
    response = FileResponse(photo.file.open("rb"), content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    return response
