"""The shop's orders API over HTTP: `GET ORDERS_API_URL` with the order number in place of
`{number}`, answered with the owner's `{"user_id", "phone", "email", "name"}` (any may be
empty) beside the order's snapshot fields (docs/aftersales.md), or 404."""

import logging
from urllib.parse import quote

import httpx
from django.conf import settings

from channels_ingest.http import http_client
from tickets.orders import OrderLookupError, OrderOwner

logger = logging.getLogger("kefu.ingest")

TIMEOUT_SECONDS = 5.0


class ShopOrdersApi:
    def owner(self, number: str) -> OrderOwner | None:
        body = self._get(number)
        if body is None:
            return None
        return OrderOwner(
            user_id=str(body.get("user_id") or ""),
            phone=str(body.get("phone") or ""),
            email=str(body.get("email") or ""),
        )

    def order(self, number: str) -> dict[str, object] | None:
        """The whole answer: the owner's fields and the order's snapshot, as the shop sent
        them (the after-sales app validates the snapshot before storing anything)."""
        return self._get(number)

    def _get(self, number: str) -> dict[str, object] | None:
        url = settings.ORDERS_API_URL.replace("{number}", quote(number, safe=""))
        headers = {"Accept": "application/json"}
        if settings.ORDERS_API_TOKEN:
            headers["Authorization"] = f"Bearer {settings.ORDERS_API_TOKEN}"
        try:
            response = http_client().get(url, headers=headers, timeout=TIMEOUT_SECONDS)
        except httpx.HTTPError as error:
            raise OrderLookupError(f"orders API unreachable: {error}") from error
        if response.status_code == 404:
            return None
        if response.status_code == 429 or response.status_code >= 500:
            raise OrderLookupError(f"orders API answered {response.status_code}")
        if response.status_code != 200:
            # Another 4xx will not change by asking again (a wrong token, a refused number).
            logger.warning("orders API answered %s for %s", response.status_code, number)
            return None
        try:
            body = response.json()
        except ValueError:
            logger.warning("orders API answered with a body that is not JSON for %s", number)
            return None
        if not isinstance(body, dict):
            logger.warning("orders API answered with something else than an object for %s", number)
            return None
        return body
