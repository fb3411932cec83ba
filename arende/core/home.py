"""The start page's panels: what needs the person who logged in, from every domain.

Core knows no domain; each domain app registers a provider in its ``AppConfig.ready`` (the
service desk: queues and own tickets; operations: incidents, changes and actions). A provider
looks at the user and returns a panel to show, or None when it has nothing for them, so a
requester, an agent and the IT manager each get a start page of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HomePanel:
    """One section of the start page: rendered with ``template`` and ``context``."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    # Lower comes first: what a person must act on before what they may look at.
    order: int = 100


PanelProvider = Callable[[Any], HomePanel | None]

_providers: list[PanelProvider] = []


def register(provider: PanelProvider) -> PanelProvider:
    """Add a provider once (``ready`` may run more than once in tests)."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def panels_for(user: Any) -> list[HomePanel]:
    panels = [panel for provider in _providers if (panel := provider(user)) is not None]
    return sorted(panels, key=lambda panel: panel.order)
