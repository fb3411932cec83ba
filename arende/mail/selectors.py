"""Reads of the mail app, always scoped to what the user may see."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from arende.core.models import User
from arende.mail.models import InboundMessage, Notification, NotificationPreference

MANAGE_PERM = "mail.manage_inbound"
LIST_FIELDS = (
    "id", "mailbox__name", "from_address", "from_name", "subject", "received_at", "state",
    "reason", "error", "size", "ticket__reference", "organisation_id",
)  # fmt: skip


def inbound_messages(user: User, *, state: str | None = None) -> QuerySet[InboundMessage]:
    """Messages of the mailboxes of the organisations where ``user`` handles mail (raw bytes
    left out: a list never needs them)."""
    queryset = (
        InboundMessage.objects.visible_to(user)
        .select_related("mailbox", "ticket")
        .defer("raw", "notes")
    )
    if state:
        queryset = queryset.filter(state=state)
    return queryset.order_by("-received_at", "-id")


def inbound_message(user: User, pk: int) -> InboundMessage | None:
    return (
        InboundMessage.objects.visible_to(user)
        .select_related("mailbox", "ticket")
        .filter(pk=pk)
        .first()
    )


def state_counts(user: User) -> dict[str, int]:
    rows = (
        InboundMessage.objects.visible_to(user)
        .order_by()
        .values("state")
        .annotate(count=Count("id"))
    )
    return {row["state"]: row["count"] for row in rows}


def notification_preferences(user: User) -> dict[str, bool]:
    stored = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "enabled"))
    return {kind: stored.get(kind, True) for kind in Notification.STAFF_KINDS}
