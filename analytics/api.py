"""`POST /api/v1/orders/daily`: the shop reports how many orders it took per day, the
denominator of contacts per order (docs/metrics.md, docs/integrations.md)."""

from typing import Any, cast

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.services import ORDER_DAYS_MAX, order_volume_store
from kefu.json_input import LimitedJSONParser
from tickets.authentication import HasScope
from tickets.models import IntegrationToken, TokenScope


class _Day(serializers.Serializer[Any]):
    day = serializers.DateField()
    orders = serializers.IntegerField(min_value=0)


class OrderDays(serializers.Serializer[Any]):
    days = serializers.ListField(child=_Day(), min_length=1, max_length=ORDER_DAYS_MAX)


class OrderVolumeView(APIView):
    permission_classes = [HasScope.of(TokenScope.ORDERS)]
    parser_classes = [LimitedJSONParser]

    @extend_schema(
        operation_id="orders_daily",
        request=OrderDays,
        responses={
            200: inline_serializer("OrderDaysStored", {"stored": serializers.IntegerField()}),
            400: inline_serializer(
                "OrderDaysErrors", {"detail": serializers.CharField(required=False)}
            ),
        },
        summary="Report the shop's orders per day",
        description=(
            '`days`: up to 400 objects `{"day": "2026-12-01", "orders": 48211}`, the '
            "orders placed on each of the shop's local days (Asia/Shanghai unless configured "
            "otherwise). A day sent again replaces its count. 400 names each bad field, or "
            "says which day is in the future or given twice; nothing is stored then."
        ),
    )
    def post(self, request: Request) -> Response:
        form = OrderDays(data=request.data)
        if not form.is_valid():
            return Response(form.errors, status=status.HTTP_400_BAD_REQUEST)
        days = [(row["day"], row["orders"]) for row in form.validated_data["days"]]
        try:
            stored = order_volume_store(days=days, source=cast(IntegrationToken, request.auth).name)
        except ValueError as error:
            return Response(
                {"detail": _("Not stored: %(reason)s.") % {"reason": error}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response({"stored": stored})
