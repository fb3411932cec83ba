"""Domain errors. Services raise these; forms and the API turn them into 400/409 answers."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain was broken. ``message`` is shown to the user as it is."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.code = code


class ValidationFailed(DomainError):
    """The input is not acceptable; ``field`` names the culprit when there is one."""


class StaleEdit(DomainError):
    """The record changed after the editor loaded it; nothing was saved.

    ``changed`` maps each field changed meanwhile to ``[value the editor saw, value now]``.
    """

    status_code = 409

    def __init__(self, message: str, *, current_version: int, changed: dict[str, Any]) -> None:
        super().__init__(message, field="version", code="stale")
        self.current_version = current_version
        self.changed = changed
