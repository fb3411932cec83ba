"""REST API for organisations, departments, users and the audit log.

Every queryset goes through ``visible_to``; writes go through the services, so the API obeys
the same rules and leaves the same audit trail as the UI.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from arende.core import access, services
from arende.core.filters import AuditEventFilter, DepartmentFilter, OrganisationFilter, UserFilter
from arende.core.models import AuditEvent, Department, Organisation, User


class ScopedModelPermission(permissions.BasePermission):
    """Writes need the model's add/change permission for the object's organisation."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        meta = obj._meta
        return request.user.has_perm(f"{meta.app_label}.change_{meta.model_name}", obj)


class VersionedSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(
        required=False,
        help_text="The version the edit was made on; required for updates. A stale one gives 409.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "version" not in attrs:
            raise serializers.ValidationError({"version": _("The version is required.")})
        return attrs


class OrganisationSerializer(VersionedSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "short_name", "kind", "org_number", "host", "is_active", "version"]
        read_only_fields = ["id"]
        extra_kwargs = {"org_number": {"validators": []}, "name": {"validators": []}}


class DepartmentSerializer(VersionedSerializer):
    class Meta:
        model = Department
        fields = ["id", "organisation", "parent", "name", "code", "manager", "is_active", "version"]
        read_only_fields = ["id"]
        validators: list = []


class UserSerializer(VersionedSerializer):
    full_name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "full_name",
            "organisation",
            "department",
            "phone",
            "title",
            "language",
            "is_active",
            "version",
        ]
        read_only_fields = ["id", "is_active"]
        extra_kwargs = {"email": {"validators": []}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["organisation"].queryset = Organisation.objects.visible_to(request.user)
            self.fields["department"].queryset = Department.objects.visible_to(request.user)


class OrganisationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = OrganisationSerializer
    permission_classes = [ScopedModelPermission]
    filterset_class = OrganisationFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return Organisation.objects.visible_to(self.request.user).order_by("name")

    def perform_create(self, serializer):
        if not access.scope_for(self.request.user, "core.add_organisation").all_organisations:
            raise PermissionDenied(_("You may not create organisations."))
        data = dict(serializer.validated_data)
        data.pop("version", None)
        data.pop("is_active", None)
        serializer.instance = services.organisation_create(actor=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        version = data.pop("version")
        serializer.instance = services.organisation_update(
            actor=self.request.user, organisation=serializer.instance, version=version, **data
        )


class DepartmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = DepartmentSerializer
    permission_classes = [ScopedModelPermission]
    filterset_class = DepartmentFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return Department.objects.visible_to(self.request.user).order_by("organisation", "name")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        data.pop("is_active", None)
        if not self.request.user.has_perm("core.add_department", data["organisation"]):
            raise PermissionDenied(_("You may not create departments in that organisation."))
        serializer.instance = services.department_create(actor=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        version = data.pop("version")
        serializer.instance = services.department_update(
            actor=self.request.user, department=serializer.instance, version=version, **data
        )


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = UserSerializer
    permission_classes = [ScopedModelPermission]
    filterset_class = UserFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            User.objects.visible_to(self.request.user)
            .select_related("organisation", "department")
            .order_by("last_name", "first_name", "pk")
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        organisation = data.get("organisation")
        allowed = (
            self.request.user.has_perm("core.add_user", organisation)
            if organisation is not None
            else access.scope_for(self.request.user, "core.add_user").all_organisations
        )
        if not allowed:
            raise PermissionDenied(_("You may not create users in that organisation."))
        serializer.instance = services.user_create(actor=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        version = data.pop("version")
        target = data.get("organisation")
        if target is not None and not self.request.user.has_perm("core.change_user", target):
            raise PermissionDenied(_("You may not move users to that organisation."))
        serializer.instance = services.user_update(
            actor=self.request.user, user=serializer.instance, version=version, **data
        )


class AuditEventSerializer(serializers.ModelSerializer):
    record_type = serializers.CharField(source="content_type.model", default="", read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor",
            "actor_label",
            "action",
            "verb",
            "record_type",
            "object_id",
            "object_label",
            "organisation",
            "changes",
            "request_id",
            "ip_address",
        ]


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter

    def get_queryset(self):
        if not self.request.user.has_perm("core.view_auditevent"):
            return AuditEvent.objects.none()
        return AuditEvent.objects.visible_to(self.request.user).select_related("content_type")
