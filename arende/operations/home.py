"""The operations panel on the start page: ongoing major incidents, changes waiting for the
person's decision, and the follow-up actions they own."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from arende.core.home import HomePanel
from arende.operations import selectors

SHOWN = 10


def operations_panel(user: Any) -> HomePanel | None:
    sees_incidents = user.has_perm("operations.view_majorincident")
    changes = list(selectors.changes_awaiting_decision_by(user)[:SHOWN])
    actions = list(selectors.open_actions_of(user)[:SHOWN])
    if not (sees_incidents or changes or actions):
        return None
    incidents = None
    if sees_incidents:
        # Whether or not one is going on is news for everyone who works in IT.
        incidents = list(selectors.ongoing_incidents(user)[:SHOWN])
    return HomePanel(
        "operations/home/_panel.html",
        {
            "incidents": incidents,
            "changes": changes,
            "actions": actions,
            "today": timezone.localdate(),
        },
        order=20,
    )
