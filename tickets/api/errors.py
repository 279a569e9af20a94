"""API errors are JSON with a clear message; anything unexpected is logged and answered 500
as JSON too (never an HTML debug page to an integration)."""

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger("kefu.api")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is not None and 400 <= response.status_code < 500:
        request = context.get("request")
        logger.warning(
            "API refused %s %s: %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
            response.data,
        )
    return response
