"""Map domain errors to REST answers that name the field."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from arende.core.errors import DomainError, StaleEdit


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, StaleEdit):
        return Response(
            {
                "detail": str(exc.message),
                "code": exc.code,
                "current_version": exc.current_version,
                "changed": exc.changed,
            },
            status=exc.status_code,
        )
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"detail": str(exc.message), "code": exc.code}
        if exc.field:
            body[exc.field] = [str(exc.message)]
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return Response(exc.message_dict if hasattr(exc, "error_dict") else exc.messages, 400)
    return drf_exception_handler(exc, context)
