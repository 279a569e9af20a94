"""`POST /api/v1/orders`: the shop pushes an order (docs/aftersales.md, "Orders: fetch,
push, links")."""

from typing import cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.services.order_push import OrderPush, order_push
from kefu.json_input import LimitedJSONParser
from tickets.authentication import HasScope
from tickets.models import IntegrationToken, TokenScope

_Stored = inline_serializer("OrderStored", {"number": serializers.CharField()})
_Refused = inline_serializer(
    "OrderRefused", {"detail": serializers.CharField(), "code": serializers.CharField()}
)


class OrderPushView(APIView):
    permission_classes = [HasScope.of(TokenScope.ORDERS)]
    parser_classes = [LimitedJSONParser]

    @extend_schema(
        operation_id="order_push",
        request=OrderPush,
        responses={
            201: _Stored,
            200: _Stored,
            400: inline_serializer(
                "OrderFieldErrors",
                {"field": serializers.ListField(child=serializers.CharField())},
            ),
            409: _Refused,
        },
        summary="Store an order the shop pushes, by its number",
        description=(
            "The body is an order snapshot with the customer who placed it (`customer`: "
            "`user_id`, `phone`, `email`, at least one, and `name`). 201 when the order is "
            "new, 200 when it was stored before (updated, or unchanged when the same or an "
            "older snapshot comes again). 400 names each bad field (`items.0.quantity`, "
            "`customer.phone`); 409 when the order is another customer's, a shipment is "
            "another order's, or an item would shrink below what after-sales cases claim."
        ),
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            return Response(
                {"detail": _("The body must be a JSON object.")},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            result = order_push(
                body=request.data, token_name=cast(IntegrationToken, request.auth).name
            )
        except DjangoValidationError as error:
            if hasattr(error, "error_dict"):
                return Response(error.message_dict, status=status.HTTP_400_BAD_REQUEST)
            return Response(
                {"detail": " ".join(error.messages), "code": error.code or "refused"},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(
            {"number": result.order.number},
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
