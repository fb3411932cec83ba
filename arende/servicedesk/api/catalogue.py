"""Read-only lists for integrations that fill in forms: groups, services, categories."""

from __future__ import annotations

from django.db.models import Prefetch, Q
from django.utils.functional import cached_property
from rest_framework import serializers, viewsets

from arende.core.models import User
from arende.servicedesk.api.serializers import public_services_only
from arende.servicedesk.models import Category, Service, SupportGroup


class SupportGroupSerializer(serializers.ModelSerializer):
    members = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = SupportGroup
        fields = ["id", "name", "line", "email", "description", "members", "is_active"]
        read_only_fields = fields


class SupportGroupViewSet(viewsets.ReadOnlyModelViewSet):
    """Support groups of the first and second line (for staff)."""

    serializer_class = SupportGroupSerializer
    filterset_fields = ["line", "is_active"]

    def get_queryset(self):
        if not self.request.user.has_perm("servicedesk.view_supportgroup"):
            return SupportGroup.objects.none()
        return SupportGroup.objects.prefetch_related(
            Prefetch("members", queryset=User.objects.only("pk"))
        ).order_by("line", "name")


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name", "description", "owner", "default_group", "is_public", "is_active"]
        read_only_fields = fields


class ServiceViewSet(viewsets.ReadOnlyModelViewSet):
    """The service catalogue. Requesters see the active services shown in the portal."""

    serializer_class = ServiceSerializer
    filterset_fields = ["is_public", "is_active"]

    def get_queryset(self):
        queryset = Service.objects.order_by("name")
        if public_services_only(self.request.user):
            queryset = queryset.filter(is_active=True, is_public=True)
        return queryset


class CategorySerializer(serializers.ModelSerializer):
    path = serializers.SerializerMethodField(help_text="The names from the root, e.g. 'A › B'.")

    class Meta:
        model = Category
        fields = ["id", "name", "path", "parent", "service", "is_active"]
        read_only_fields = fields

    def get_path(self, obj: Category) -> str:
        tree = self.context.get("category_tree") or {}
        names, node, seen = [], obj.pk, set()
        while node is not None and node in tree and node not in seen:
            seen.add(node)
            name, node = tree[node]
            names.append(name)
        return " › ".join(reversed(names)) or obj.name


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Ticket categories (a tree). Requesters see those of the services shown in the portal."""

    serializer_class = CategorySerializer
    filterset_fields = ["service", "parent", "is_active"]

    def get_queryset(self):
        queryset = Category.objects.order_by("name", "pk")
        if public_services_only(self.request.user):
            queryset = queryset.filter(is_active=True).filter(
                Q(service__isnull=True) | Q(service__is_active=True, service__is_public=True)
            )
        return queryset

    @cached_property
    def _category_tree(self) -> dict[int, tuple[str, int | None]]:
        return {
            pk: (name, parent)
            for pk, name, parent in Category.objects.values_list("pk", "name", "parent_id")
        }

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "request", None) is not None and self.action in ("list", "retrieve"):
            context["category_tree"] = self._category_tree
        return context
