"""The customer's after-sales on the self-service page (/status/): their orders and cases
as a section of the home page, an order's page, applying for after-sales with photos, and
a case's progress, where the customer sends the return's tracking number or cancels.

Every view needs the customer a one-time code proved (`tickets.portal.portal_customer`)
and shows only that customer's orders and cases: anything else is a 404."""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from aftersales.models import (
    Case,
    CaseClock,
    CaseItem,
    CasePhoto,
    CaseStep,
    OpenedBy,
    Order,
    OrderItem,
    Reason,
    Shipment,
)
from aftersales.photos import PHOTOS_MAX, PreparedPhoto, photo_prepare
from aftersales.selectors import case_step_due, claimed_quantities, refund_room, window_ends
from aftersales.services import ItemClaim, case_cancel, case_return_tracking
from aftersales.services.intake import case_open_with_ticket
from aftersales.steps import FINAL_STEPS, REFUND_TYPES, CaseType, Step, expected_minutes, flow_of
from sla.calendar import WorkCalendar, default_calendar
from sla.selectors import default_calendar_id, work_calendar
from tickets.models import Channel, Customer, Message
from tickets.portal import portal_customer

View = Callable[..., HttpResponseBase]

# The exits from a type's happy path: shown on the progress bar only when the case took one.
SIDE_EXITS = frozenset({Step.INSPECTION_FAILED, Step.REJECTED, Step.CANCELLED})


def _post_rate(group: str, request: HttpRequest) -> str:
    return settings.STATUS_RATE_LIMIT


def customer_required(view: View) -> View:
    """The view runs for the proven customer (passed as its second argument); anyone else
    is sent to the status page to prove who they are."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        customer = portal_customer(request)
        if customer is None:
            return redirect("portal:lookup")
        return view(request, customer, *args, **kwargs)

    return wrapper


# -- the section on the customer's home ---------------------------------------------------------


def portal_section(request: HttpRequest, customer: Customer) -> str:
    """The customer's orders and after-sales cases, for the status page's home."""
    orders = list(
        Order.objects.filter(customer=customer)
        .prefetch_related("items", "shipments")
        .order_by("-placed_at", "-pk")[:30]
    )
    cases = list(
        Case.objects.filter(order__customer=customer)
        .select_related("order")
        .order_by("-created_at", "-pk")[:30]
    )
    return render_to_string(
        "aftersales/portal/section.html",
        {"orders": orders, "cases": cases},
        request=request,
    )


# -- an order ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemRow:
    """An order item as the customer may claim it now."""

    item: OrderItem
    window_ends: datetime
    in_window: bool
    claimable: int  # how many may go into a new case (0: none left, or in an open case)

    @property
    def eligible(self) -> bool:
        return self.in_window and self.claimable > 0

    @property
    def subtotal(self) -> Decimal:
        return self.item.unit_price * self.item.quantity


def item_rows(order: Order, now: datetime | None = None) -> list[ItemRow]:
    now = now or timezone.now()
    claimed = claimed_quantities(order=order)
    busy = set(
        CaseItem.objects.filter(case__order=order)
        .exclude(case__step__in=FINAL_STEPS)
        .values_list("order_item_id", flat=True)
    )
    ends: dict[str, datetime] = {}
    rows = []
    for item in order.items.order_by("pk"):
        if item.product_type not in ends:
            ends[item.product_type] = window_ends(order=order, product_type=item.product_type)
        closes = ends[item.product_type]
        left = 0 if item.pk in busy else max(0, item.quantity - claimed.get(item.pk, 0))
        rows.append(ItemRow(item=item, window_ends=closes, in_window=now <= closes, claimable=left))
    return rows


@require_http_methods(["GET"])
@customer_required
def order_detail(request: HttpRequest, customer: Customer, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number, customer=customer)
    rows = item_rows(order)
    eligible = [row for row in rows if row.eligible]
    return render(
        request,
        "aftersales/portal/order.html",
        {
            "order": order,
            "rows": rows,
            "can_apply": bool(eligible),
            "apply_until": max((row.window_ends for row in eligible), default=None),
            "shipments": order.shipments.prefetch_related("events").order_by("pk"),
            "cases": order.cases.order_by("-created_at", "-pk"),
        },
    )


# -- applying --------------------------------------------------------------------------------


class PhotosInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several files in one input; cleans to a list (empty when none was sent)."""

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(PhotosField, self).clean(upload, initial) for upload in files if upload]


class ReasonField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Reason) -> str:
        return obj.label


class ApplyForm(forms.Form):
    type = forms.ChoiceField(
        label=gettext_lazy("What would you like?"),
        choices=CaseType.choices,
        widget=forms.RadioSelect,
    )
    reason = ReasonField(
        label=gettext_lazy("Reason"),
        queryset=Reason.objects.filter(is_active=True),
        empty_label=None,
    )
    description = forms.CharField(
        label=gettext_lazy("Tell us what happened"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Amount to refund"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        help_text=gettext_lazy("Leave it empty to ask for the value of the items you chose."),
    )
    photos = PhotosField(
        label=gettext_lazy("Photos (up to 6: JPEG, PNG, HEIC or WebP)"),
        required=False,
        widget=PhotosInput(
            attrs={"accept": "image/jpeg,image/png,image/heic,image/heif,image/webp"}
        ),
    )
    # Made when the page is drawn: a double submit of the same form is one case.
    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, order: Order, rows: Sequence[ItemRow], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.order = order
        self.rows = [row for row in rows if row.eligible]
        for row in self.rows:
            self.fields[self.quantity_name(row)] = forms.IntegerField(
                label=row.item.name,
                min_value=0,
                required=False,
                initial=1 if len(self.rows) == 1 else 0,
                widget=forms.NumberInput(
                    attrs={
                        "min": 0,
                        "max": row.claimable,
                        "data-unit-price": str(row.item.unit_price),
                        "class": "qty",
                    }
                ),
            )

    @staticmethod
    def quantity_name(row: ItemRow) -> str:
        return f"qty_{row.item.pk}"

    def quantity_fields(self) -> list[tuple[ItemRow, forms.BoundField]]:
        return [(row, self[self.quantity_name(row)]) for row in self.rows]

    def clean_photos(self) -> list[PreparedPhoto]:
        uploads = self.cleaned_data.get("photos") or []
        if len(uploads) > PHOTOS_MAX:
            raise ValidationError(
                _("Send at most %(count)d photos.") % {"count": PHOTOS_MAX}, code="photos"
            )
        prepared, errors = [], []
        for upload in uploads:
            try:
                prepared.append(photo_prepare(upload))
            except ValidationError as error:
                errors.append(error)
        if errors:
            raise ValidationError(errors)
        return prepared

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        claims = []
        for row in self.rows:
            quantity = data.get(self.quantity_name(row)) or 0
            if quantity > row.claimable:
                self.add_error(
                    self.quantity_name(row),
                    _("At most %(count)d of this item can be claimed.") % {"count": row.claimable},
                )
            elif quantity:
                claims.append(ItemClaim(order_item=row.item, quantity=quantity))
        if not claims and not self.errors:
            raise ValidationError(_("Choose at least one item and how many."), code="items")
        data["claims"] = claims
        case_type = data.get("type")
        if case_type is None:
            return data
        if case_type not in REFUND_TYPES:
            data["amount"] = Decimal(0)
        elif data.get("amount") is None:
            value = sum((c.order_item.unit_price * c.quantity for c in claims), Decimal(0))
            data["amount"] = refund_room(order=self.order, value=value)
        return data


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=_post_rate, method="POST")
@customer_required
def order_apply(request: HttpRequest, customer: Customer, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number, customer=customer)
    if request.method == "POST":
        earlier = _case_of_token(order, request.POST.get("token", ""))
        if earlier is not None:
            # The same form sent again (a double tap, a reload): the case it opened.
            return redirect("aftersales_portal:case", number=earlier.number)
    rows = item_rows(order)
    if not any(row.eligible for row in rows):
        return render(
            request,
            "aftersales/portal/apply_closed.html",
            {"order": order, "rows": rows},
            status=409 if request.method == "POST" else 200,
        )
    status = 200
    if request.method == "POST":
        form = ApplyForm(request.POST, request.FILES, order=order, rows=rows)
        if form.is_valid():
            try:
                case = _case_apply(customer=customer, order=order, data=form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("aftersales_portal:case", number=case.number)
        status = 400
    else:
        form = ApplyForm(initial={"token": uuid.uuid4()}, order=order, rows=rows)
    value_hint = refund_room(
        order=order,
        value=sum((row.item.unit_price * row.claimable for row in form.rows), Decimal(0)),
    )
    return render(
        request,
        "aftersales/portal/apply.html",
        {"order": order, "form": form, "refund_types": sorted(REFUND_TYPES), "room": value_hint},
        status=status,
    )


def _case_of_token(order: Order, token: str) -> Case | None:
    """The case a form with this token already opened on the order, if any."""
    try:
        token = str(uuid.UUID(token))
    except ValueError:
        return None
    message = (
        Message.objects.filter(channel=Channel.WEB, provider_id=f"portal-case:{token}")
        .values_list("ticket_id", flat=True)
        .first()
    )
    if message is None:
        return None
    return Case.objects.filter(order=order, ticket_id=message).order_by("-pk").first()


def _request_text(order: Order, data: dict[str, Any]) -> str:
    """What the ticket says the customer asked for."""
    lines = [
        _("After-sales request for order %(order)s: %(type)s.")
        % {"order": order.number, "type": CaseType(data["type"]).label},
        _("Reason: %(reason)s") % {"reason": data["reason"].label},
    ]
    for claim in data["claims"]:
        lines.append(
            _("Item: %(name)s (%(sku)s) × %(quantity)d")
            % {
                "name": claim.order_item.name,
                "sku": claim.order_item.sku,
                "quantity": claim.quantity,
            }
        )
    if data["type"] in REFUND_TYPES:
        lines.append(
            _("Amount asked for: %(amount)s %(currency)s")
            % {"amount": data["amount"], "currency": order.currency}
        )
    if data.get("description"):
        lines.append(data["description"])
    if data.get("photos"):
        lines.append(_("Photos: %(count)d") % {"count": len(data["photos"])})
    return "\n".join(lines)


def _case_apply(*, customer: Customer, order: Order, data: dict[str, Any]) -> Case:
    """Open the case the customer applied for, with its photos, on a ticket made through
    intake on the web channel (as a message on the status page is), in their own words. The
    form's token makes a resubmission return the case the first one opened."""
    if not customer.identities.exists():
        raise ValidationError(_("We have no contact of yours to open the request from."))
    return case_open_with_ticket(
        order=order,
        items=data["claims"],
        type=CaseType(data["type"]),
        reason=data["reason"],
        description=data.get("description", ""),
        amount=data["amount"],
        opened_by=OpenedBy.CUSTOMER,
        text=_request_text(order, data),
        subject=_("After-sales request for order %(order)s") % {"order": order.number},
        provider_id=f"portal-case:{data['token']}",
        photos=data.get("photos") or [],
    )


# -- a case ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BarStep:
    step: Step
    state: str  # done, current, skipped (passed over, e.g. no return tracking), todo
    at: datetime | None = None
    due: datetime | None = None

    @property
    def label(self) -> str:
        return str(self.step.label)


def _calendar() -> WorkCalendar:
    calendar_id = default_calendar_id()
    return work_calendar(calendar_id) if calendar_id is not None else default_calendar()


def step_due(case: Case, entered: datetime) -> datetime | None:
    """When the case's current step is expected to be done: its step clock's due time
    (`aftersales.selectors.case_step_due`, the figure agents see too; None while the case
    waits for the customer) or, for a case without a clock, the time it entered the step
    plus the step's expected business minutes (aftersales.steps) on the default business
    calendar; None for a final step."""
    if CaseClock.objects.filter(case_id=case.pk).exists():
        return case_step_due(case)
    minutes = expected_minutes(case.type, case.step)
    if minutes is None:
        return None
    return _calendar().add(entered, minutes * 60)


def progress_bar(case: Case, history: Sequence[CaseStep]) -> list[BarStep]:
    """The case's way through its type's flow: the happy path, or — when the case left it
    — the steps it took up to the side exit and what may follow the exit."""
    flow = flow_of(case.type)
    taken: dict[str, datetime] = {}
    for entry in history:
        taken[entry.step] = entry.at
    exits = [entry.step for entry in history if entry.step in SIDE_EXITS]
    happy = [step for step in flow.steps if step not in SIDE_EXITS]
    if exits:
        exit_step = Step(exits[0])
        before = [step for step in happy if step in taken and taken[step] <= taken[exit_step]]
        # The happy path as far as the case got on it (a step passed over stays, as skipped).
        shown = happy[: happy.index(before[-1]) + 1] if before else []
        shown.append(exit_step)
        shown.extend(step for step in flow.transitions.get(exit_step, ()) if step not in shown)
    else:
        shown = happy
    current = Step(case.step)
    position = shown.index(current) if current in shown else len(shown)
    bar = []
    for index, step in enumerate(shown):
        if step == current and current not in FINAL_STEPS:
            entered = taken.get(step)
            due = step_due(case, entered) if entered is not None else None
            bar.append(BarStep(step=step, state="current", at=entered, due=due))
        elif step in taken:
            bar.append(BarStep(step=step, state="done", at=taken[step]))
        elif index < position:
            bar.append(BarStep(step=step, state="skipped"))
        else:
            bar.append(BarStep(step=step, state="todo"))
    return bar


class TrackingForm(forms.Form):
    carrier = forms.CharField(label=gettext_lazy("Carrier"), max_length=50)
    tracking_number = forms.CharField(label=gettext_lazy("Tracking number"), max_length=64)


def _case_of(customer: Customer, number: str) -> Case:
    return get_object_or_404(
        Case.objects.select_related("order", "reason"), number=number, order__customer=customer
    )


def _last(history: Sequence[CaseStep], step: Step) -> CaseStep | None:
    found = [entry for entry in history if entry.step == step]
    return found[-1] if found else None


def _parcels(customer: Customer, history: Sequence[CaseStep]) -> list[dict[str, Any]]:
    """The return parcel and the replacement, with their tracking events when the shop's
    logistics feed has them (a shipment of one of the customer's orders)."""
    parcels = []
    for step, title in (
        (Step.RETURN_SHIPPED, _("Your return parcel")),
        (Step.REPLACEMENT_SHIPPED, _("Your replacement parcel")),
    ):
        entry = _last(history, step)
        if entry is None or not entry.data.get("tracking_number"):
            continue
        shipment = (
            Shipment.objects.filter(
                carrier=entry.data.get("carrier", ""),
                tracking_number=entry.data["tracking_number"],
                order__customer=customer,
            )
            .prefetch_related("events")
            .first()
        )
        parcels.append(
            {
                "title": title,
                "carrier": entry.data.get("carrier", ""),
                "tracking_number": entry.data["tracking_number"],
                "shipment": shipment,
            }
        )
    return parcels


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=_post_rate, method="POST")
@customer_required
def case_detail(request: HttpRequest, customer: Customer, number: str) -> HttpResponse:
    """A case's progress; a POST is the customer's return tracking number."""
    case = _case_of(customer, number)
    status = 200
    form = TrackingForm()
    if request.method == "POST":
        form = TrackingForm(request.POST)
        if case.step != Step.WAITING_FOR_RETURN:
            form.add_error(None, _("This case is not waiting for your parcel."))
        elif form.is_valid():
            try:
                case_return_tracking(
                    case=case,
                    carrier=form.cleaned_data["carrier"],
                    tracking_number=form.cleaned_data["tracking_number"],
                    by_customer=True,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("aftersales_portal:case", number=case.number)
        status = 400
    history = list(case.steps.order_by("at", "pk"))
    review = _last(history, Step.WAITING_FOR_RETURN)
    rejected = _last(history, Step.REJECTED)
    refunded = [entry for entry in history if entry.step == Step.REFUNDED]
    return render(
        request,
        "aftersales/portal/case.html",
        {
            "case": case,
            "bar": progress_bar(case, history),
            "items": case.items.select_related("order_item").order_by("pk"),
            "waiting_for_return": case.step == Step.WAITING_FOR_RETURN,
            "return_address": review.data.get("return_address", "") if review else "",
            "rejection_reason": rejected.data.get("reason", "") if rejected else "",
            "refunds": [entry.data for entry in refunded],
            "parcels": _parcels(customer, history),
            "photos": case.photos.all(),
            "can_cancel": flow_of(case.type).allows(case.step, Step.CANCELLED),
            "is_refund_type": case.type in REFUND_TYPES,
            "form": form,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=_post_rate, method="POST")
@customer_required
def case_cancel_confirm(request: HttpRequest, customer: Customer, number: str) -> HttpResponse:
    """Asks first; the POST cancels (while the case's flow allows it)."""
    case = _case_of(customer, number)
    error = ""
    if request.method == "POST":
        try:
            case_cancel(
                case=case,
                note=_("Cancelled by the customer on the status page."),
                by_customer=True,
            )
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            return redirect("aftersales_portal:case", number=case.number)
    elif not flow_of(case.type).allows(case.step, Step.CANCELLED):
        return redirect("aftersales_portal:case", number=case.number)
    return render(
        request,
        "aftersales/portal/cancel.html",
        {"case": case, "error": error},
        status=409 if error else 200,
    )


@require_http_methods(["GET"])
@customer_required
def case_photo(request: HttpRequest, customer: Customer, number: str, pk: int) -> FileResponse:
    """A photo of one of the customer's cases: always the JPEG we made of it."""
    photo = CasePhoto.objects.filter(
        pk=pk, case__number=number, case__order__customer=customer
    ).first()
    if photo is None or not photo.file:
        raise Http404(_("No such photo"))
    response = FileResponse(photo.file.open("rb"), content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    return response
