"""Per-request facts (request id, client IP) that the audit log records.

Held in context variables so that a service called deep below a view can read them without
every caller passing them down; outside a request (jobs, commands) they are empty.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip_address: str | None = None


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "arende_request_context",
    default=RequestContext(),  # noqa: B039 - frozen, immutable
)


def current() -> RequestContext:
    return _current.get()


def activate(context: RequestContext) -> contextvars.Token:
    return _current.set(context)


def deactivate(token: contextvars.Token) -> None:
    _current.reset(token)
