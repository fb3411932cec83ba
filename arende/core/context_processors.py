from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from arende.core.navigation import items_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None:
        return {"nav_items": []}
    return {"nav_items": items_for(user, request.path)}
