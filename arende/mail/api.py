"""Read-only API of incoming mail (for monitoring), scoped like the pages. Never the raw bytes
or anything secret."""

from __future__ import annotations

from rest_framework import permissions, serializers, viewsets

from arende.mail import selectors
from arende.mail.models import InboundMessage


class InboundMessageSerializer(serializers.ModelSerializer):
    mailbox = serializers.CharField(source="mailbox.name", read_only=True)
    ticket = serializers.CharField(source="ticket.reference", read_only=True, allow_null=True)

    class Meta:
        model = InboundMessage
        fields = [
            "id", "mailbox", "message_id", "from_address", "from_name", "subject", "size",
            "received_at", "state", "reason", "error", "ticket",
        ]  # fmt: skip
        read_only_fields = fields


class CanManageInbound(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm(selectors.MANAGE_PERM))


class InboundMessageViewSet(viewsets.ReadOnlyModelViewSet):
    """Incoming e-mail: what became of each message (processed, ignored, quarantined)."""

    serializer_class = InboundMessageSerializer
    permission_classes = [permissions.IsAuthenticated, CanManageInbound]
    filterset_fields = ["state", "mailbox"]

    def get_queryset(self):
        return selectors.inbound_messages(self.request.user)
