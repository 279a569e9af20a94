"""The shop's after-sales API (token scope `aftersales`): open a case, read it, and apply
the shop's events to it (docs/aftersales.md, "Case API")."""

import copy
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.models import (
    Case,
    CaseEvent,
    CaseItem,
    CaseStep,
    EventStatus,
    OpenedBy,
    Order,
    Reason,
)
from aftersales.selectors import case_step_due
from aftersales.services import EVENT_KINDS, ItemClaim
from aftersales.services.event_inbox import event_receive
from aftersales.services.intake import case_open_with_ticket
from aftersales.steps import CaseType, expected_minutes
from tickets.authentication import HasScope
from tickets.models import TokenScope


def refusal(error: DjangoValidationError, *, status_code: int = 400) -> Response:
    """A refused request: the guard's code and its message, in the request's language."""
    return Response(
        {"code": error.code or "invalid", "detail": " ".join(error.messages)},
        status=status_code,
    )


_Refusal = inline_serializer(
    "AftersalesRefusal",
    {
        "code": serializers.CharField(help_text="The guard that refused, e.g. step_order"),
        "detail": serializers.CharField(),
    },
)


class CaseItemOutSerializer(serializers.Serializer[Any]):
    sku = serializers.CharField(source="order_item.sku")
    name = serializers.CharField(source="order_item.name")
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(
        source="order_item.unit_price", max_digits=12, decimal_places=2
    )


class CaseStepOutSerializer(serializers.Serializer[CaseStep]):
    step = serializers.CharField()
    at = serializers.DateTimeField()
    by = serializers.SerializerMethodField(help_text="agent, or system (the shop, Kefu)")
    note = serializers.CharField()
    data = serializers.DictField()  # type: ignore[assignment]

    def get_by(self, row: CaseStep) -> str:
        return "agent" if row.actor_id is not None else "system"


class CaseOutSerializer(serializers.Serializer[Case]):
    number = serializers.CharField()
    order = serializers.CharField(source="order.number")
    ticket = serializers.CharField(source="ticket.number", allow_null=True, default=None)
    type = serializers.CharField()
    reason = serializers.CharField(source="reason.code")
    description = serializers.CharField()
    step = serializers.CharField()
    is_open = serializers.BooleanField()
    opened_by = serializers.CharField()
    amount_requested = serializers.DecimalField(max_digits=12, decimal_places=2)
    refunded_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField(source="order.currency")
    items = CaseItemOutSerializer(many=True)
    steps = CaseStepOutSerializer(many=True)
    step_expected_minutes = serializers.SerializerMethodField(
        help_text="Business minutes the current step is expected to take (null: final)"
    )
    step_due_at = serializers.SerializerMethodField(
        help_text="When the current step is expected to be done (null: final, or waiting "
        "for the customer)"
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_step_expected_minutes(self, case: Case) -> int | None:
        return expected_minutes(case.type, case.step)

    def get_step_due_at(self, case: Case) -> str | None:
        due = case_step_due(case)
        return due.isoformat() if due is not None else None


def _case_read(number: str) -> Case | None:
    return (
        Case.objects.select_related("order", "ticket", "reason")
        .prefetch_related(
            Prefetch("items", queryset=CaseItem.objects.select_related("order_item")),
            Prefetch("steps", queryset=CaseStep.objects.order_by("at", "id")),
        )
        .filter(number=number)
        .first()
    )


def _not_found(number: str) -> Response:
    return Response(
        {"code": "case", "detail": _("No after-sales case %(number)s.") % {"number": number}},
        status=status.HTTP_404_NOT_FOUND,
    )


class ItemInSerializer(serializers.Serializer[dict[str, object]]):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)


class CaseOpenSerializer(serializers.Serializer[dict[str, object]]):
    order = serializers.CharField(max_length=64, help_text="The order's number")
    type = serializers.ChoiceField(choices=CaseType.choices)
    reason = serializers.SlugField(max_length=40, help_text="A reason code (Reason.code)")
    items = ItemInSerializer(many=True, allow_empty=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, default=Decimal("0.00")
    )


class CaseCreateView(APIView):
    permission_classes = [HasScope.of(TokenScope.AFTERSALES)]

    @extend_schema(
        operation_id="aftersales_case_open",
        request=CaseOpenSerializer,
        responses={201: CaseOutSerializer, 400: _Refusal},
        summary="Open an after-sales case for an order",
        description="The case is opened by the shop's systems (`opened_by=api`) on a ticket "
        "taken in for the order's customer. Refused (400, nothing written) by the case "
        "guards: `quantity`, `item_busy`, `over_refund`, `window`, `amount`, `reason`, "
        "`item_order`; an unknown order or SKU is `order` or `item_order`.",
    )
    def post(self, request: Request) -> Response:
        serializer = CaseOpenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = Order.objects.select_related("customer").filter(number=data["order"]).first()
        if order is None:
            return refusal(
                DjangoValidationError(
                    _("No order %(order)s.") % {"order": data["order"]}, code="order"
                )
            )
        reason = Reason.objects.filter(code=data["reason"]).first()
        if reason is None:
            return refusal(
                DjangoValidationError(
                    _("Unknown reason “%(reason)s”.") % {"reason": data["reason"]}, code="reason"
                )
            )
        stored = {item.sku: item for item in order.items.all()}
        claims = []
        for line in data["items"]:
            item = stored.get(line["sku"])
            if item is None:
                return refusal(
                    DjangoValidationError(
                        _("Item %(sku)s is not part of order %(order)s.")
                        % {"sku": line["sku"], "order": order.number},
                        code="item_order",
                    )
                )
            claims.append(ItemClaim(order_item=item, quantity=line["quantity"]))
        try:
            case = case_open_with_ticket(
                order=order,
                items=claims,
                type=CaseType(data["type"]),
                reason=reason,
                description=data.get("description", ""),
                amount=data["amount"],
                opened_by=OpenedBy.API,
            )
        except DjangoValidationError as error:
            return refusal(error)
        opened = _case_read(case.number)
        return Response(CaseOutSerializer(opened).data, status=status.HTTP_201_CREATED)


class CaseDetailView(APIView):
    permission_classes = [HasScope.of(TokenScope.AFTERSALES)]

    @extend_schema(
        operation_id="aftersales_case_retrieve",
        responses={200: CaseOutSerializer, 404: _Refusal},
        summary="An after-sales case: its items, amounts, steps and current step's due time",
    )
    def get(self, request: Request, number: str) -> Response:
        case = _case_read(number)
        if case is None:
            return _not_found(number)
        return Response(CaseOutSerializer(case).data)


class _FlatFields:
    """The shop's events come in bursts of thousands, and DRF rebuilds every declared field
    of a serializer for each instance (its deep copy re-runs the constructors): about a
    tenth of the event POST's CPU for its two serializers. These fields hold nothing of a
    request beyond what `bind` sets on the copy (`data`'s child field is a stateless
    pass-through, shared), so a shallow copy of each does, as the app message serializer's
    does (docs/aftersales.md, "The inbox")."""

    _declared_fields: dict[str, serializers.Field[Any, Any, Any, Any]]

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}


class EventInSerializer(_FlatFields, serializers.Serializer[dict[str, object]]):
    event_id = serializers.CharField(
        max_length=100, help_text="Unique per case; a redelivery with the same id changes nothing"
    )
    # Checked by the service, so an unknown kind is refused with its code (`event_kind`).
    kind = serializers.CharField(max_length=50, help_text=", ".join(sorted(EVENT_KINDS)))
    data = serializers.DictField(required=False, default=dict)  # type: ignore[assignment]


class EventOutSerializer(_FlatFields, serializers.Serializer[CaseEvent]):
    case = serializers.CharField(source="case.number")
    event_id = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.ChoiceField(
        choices=EventStatus.choices,
        help_text="queued (stored, not applied yet), applied, waiting (the case is not at a "
        "step it may follow yet; tried again when the case moves), refused, failed",
    )
    step = serializers.CharField(
        source="step.step", allow_null=True, default=None, help_text="The step it made (applied)"
    )
    code = serializers.CharField(help_text="Why it was refused or waits, e.g. step_order")
    detail = serializers.CharField()
    received_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class EventReceivedSerializer(EventOutSerializer):
    redelivery = serializers.BooleanField(
        help_text="True: this event id was stored before; nothing changed"
    )


class CaseEventView(APIView):
    permission_classes = [HasScope.of(TokenScope.AFTERSALES)]

    @extend_schema(
        operation_id="aftersales_case_event",
        request=EventInSerializer,
        responses={
            202: OpenApiResponse(
                EventReceivedSerializer, description="Stored; `status` says how far it got"
            ),
            200: OpenApiResponse(
                EventReceivedSerializer, description="A redelivery: the event as it stands"
            ),
            400: OpenApiResponse(_Refusal, description="Refused, nothing stored"),
            404: _Refusal,
        },
        summary="Send an event of the shop's systems about a case",
        description="The event is stored before the answer (202) and applied by a worker, "
        "in the order the case's events came; `GET` on the same path shows its outcome "
        "(docs/aftersales.md). An unknown kind (`event_kind`) or a bad event id "
        "(`event_id`) is refused at once, as is an id already stored with another kind "
        "(`event_conflict`). The same event id again stores nothing and answers 200 with "
        "the stored event. An event the case is not ready for waits (`waiting`) until the "
        "case moves; one it can never take is `refused` with the step's code "
        "(`step_order`, `cancel_late`, `over_refund`, `required`, …), nothing changed.",
    )
    def post(self, request: Request, number: str) -> Response:
        serializer = EventInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            receipt = event_receive(
                case_number=number,
                event_id=data["event_id"],
                kind=data["kind"],
                data=data.get("data") or {},
            )
        except DjangoValidationError as error:
            if error.code == "case":
                return _not_found(number)
            return refusal(error)
        receipt.event.redelivery = not receipt.stored  # type: ignore[attr-defined]
        return Response(
            EventReceivedSerializer(receipt.event).data,
            status=status.HTTP_202_ACCEPTED if receipt.stored else status.HTTP_200_OK,
        )

    @extend_schema(
        operation_id="aftersales_case_events",
        responses={200: EventOutSerializer(many=True), 404: _Refusal},
        summary="The shop's events about a case, oldest first, with their outcome",
    )
    def get(self, request: Request, number: str) -> Response:
        case = Case.objects.filter(number=number).only("pk", "number").first()
        if case is None:
            return _not_found(number)
        events = CaseEvent.objects.filter(case=case).select_related("case", "step").order_by("pk")
        return Response([EventOutSerializer(event).data for event in events])
