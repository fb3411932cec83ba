"""Serializers of the service desk API: the two views of a ticket, the actions' bodies."""

from __future__ import annotations

import copy
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

from arende.core.models import Department, Organisation, User
from arende.servicedesk.models import (
    Attachment,
    Category,
    Impact,
    LineSpan,
    RequestType,
    Service,
    SupportGroup,
    Ticket,
    TicketActivity,
    TicketLink,
    Urgency,
)

WORK = "servicedesk.work_ticket"
INTERNAL = "servicedesk.view_internal_note"


def sees_internal(user: User, ticket: Ticket) -> bool:
    """May ``user`` read internal notes and internal fields of ``ticket``?"""
    return user.has_perm(INTERNAL, ticket)


def can_work(user: User, ticket: Ticket) -> bool:
    return user.has_perm(WORK, ticket)


def is_own(user: User, ticket: Ticket) -> bool:
    return ticket.requester_id is not None and ticket.requester_id == user.pk


# Errors, as the exception handler in arende.core.api_errors writes them -----------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class StaleEditSerializer(ErrorSerializer):
    current_version = serializers.IntegerField()
    changed = serializers.DictField(
        child=serializers.ListField(),
        help_text="Each field changed meanwhile: [value you saw, value now].",
    )


ERRORS = {
    400: OpenApiResponse(
        description="Invalid input; the body names the field (e.g. {'reason': [...]})."
    ),
    403: OpenApiResponse(ErrorSerializer, description="You may not do this to the ticket."),
    404: OpenApiResponse(ErrorSerializer, description="No such ticket (or not visible to you)."),
}
VERSIONED_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(
        StaleEditSerializer,
        description="The ticket changed after the version you sent; nothing was saved.",
    ),
}


# Reading tickets -------------------------------------------------------------------------------


class LineSpanSerializer(serializers.ModelSerializer):
    group_name = serializers.CharField(source="group.name", default=None, allow_null=True)
    assignee_name = serializers.CharField(source="assignee", default=None, allow_null=True)
    by_name = serializers.CharField(source="by", default=None, allow_null=True)

    class Meta:
        model = LineSpan
        fields = [
            "line",
            "group",
            "group_name",
            "assignee",
            "assignee_name",
            "reason",
            "note",
            "started_at",
            "ended_at",
            "by",
            "by_name",
        ]
        read_only_fields = fields


REQUESTER_FIELDS = [
    "view",
    "id",
    "reference",
    "kind",
    "channel",
    "status",
    "status_label",
    "title",
    "description",
    "requester",
    "requester_label",
    "contact_name",
    "contact_email",
    "contact_phone",
    "organisation",
    "department",
    "service",
    "category",
    "request_type",
    "custom_fields",
    "impact",
    "urgency",
    "priority",
    "resolution",
    "merged_into_reference",
    "created_at",
    "updated_at",
    "resolved_at",
    "closed_at",
    "version",
]
STAFF_FIELDS = [
    "line",
    "group",
    "group_name",
    "assignee",
    "assignee_name",
    "watchers",
    "parent",
    "merged_into",
    "first_response_at",
    "escalated_at",
    "resolved_in_first_line",
    "sla_due_at",
    "sla_state",
]


class _PlannedRepresentation:
    """DRF's ``Serializer.to_representation`` with its per-field lookup planned once.

    A list of fifty tickets of forty fields each spent most of its time in DRF's generic
    attribute lookup. Plain model fields (a column of the ticket under its own name) are read
    with ``getattr``; a primary-key field of a foreign key reads the key's column, as DRF's
    pk-only optimisation does; every other field (dotted sources, methods, callables) goes
    through DRF's own ``get_attribute``. Each value is still converted by its field's
    ``to_representation``, so the output is DRF's (a test compares the two).
    """

    COLUMN, FOREIGN_KEY, GENERIC = range(3)
    _built_fields: dict[type, dict[str, Any]] = {}

    def get_fields(self) -> dict[str, Any]:
        # ModelSerializer introspects the model for each of forty fields on every request;
        # the result depends on the class alone, so it is built once and copied (as DRF
        # copies declared fields).
        built = self._built_fields.get(type(self))
        if built is None:
            built = self._built_fields[type(self)] = super().get_fields()
        return copy.deepcopy(built)

    def _plan(self) -> list[tuple[str, Any, int, str | None]]:
        plan = self.__dict__.get("_representation_plan")
        if plan is None:
            meta = self.Meta.model._meta
            columns = {f.name for f in meta.concrete_fields if not f.is_relation}
            foreign_keys = {
                f.name: f.attname for f in meta.concrete_fields if f.many_to_one and f.concrete
            }
            zone = timezone.get_current_timezone()
            plan = []
            for field in self._readable_fields:
                source = field.source if field.source_attrs == [field.source] else None
                if isinstance(field, serializers.DateTimeField) and not hasattr(field, "timezone"):
                    field.timezone = zone  # looked up once, not per value (same result)
                if source in columns:
                    plan.append((field.field_name, field, self.COLUMN, source))
                elif (
                    source in foreign_keys
                    and type(field) is serializers.PrimaryKeyRelatedField
                    and field.pk_field is None
                ):
                    plan.append((field.field_name, field, self.FOREIGN_KEY, foreign_keys[source]))
                else:
                    plan.append((field.field_name, field, self.GENERIC, None))
            self.__dict__["_representation_plan"] = plan
        return plan

    def to_representation(self, instance) -> dict[str, Any]:
        ret = {}
        for name, field, how, column in self._plan():
            if how == self.FOREIGN_KEY:
                ret[name] = getattr(instance, column)  # the related row's key, or None
                continue
            if how == self.COLUMN:
                attribute = getattr(instance, column)
            else:
                try:
                    attribute = field.get_attribute(instance)
                except SkipField:
                    continue
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[name] = None if check_for_none is None else field.to_representation(attribute)
        return ret


class RequesterTicketSerializer(_PlannedRepresentation, serializers.ModelSerializer):
    """The requester's view of a ticket: nothing internal."""

    view = serializers.SerializerMethodField(
        help_text="'requester' or 'staff': which view of the ticket this is."
    )
    status_label = serializers.CharField()
    requester_label = serializers.CharField()
    merged_into_reference = serializers.CharField(
        source="merged_into.reference", default=None, allow_null=True
    )

    class Meta:
        model = Ticket
        fields = REQUESTER_FIELDS
        read_only_fields = fields

    def get_view(self, obj: Ticket) -> str:
        return "requester"


class StaffTicketSerializer(RequesterTicketSerializer):
    """The service desk's view: adds line, group, assignee, watchers and the line times."""

    group_name = serializers.CharField(source="group.name", default=None, allow_null=True)
    assignee_name = serializers.CharField(source="assignee", default=None, allow_null=True)

    class Meta(RequesterTicketSerializer.Meta):
        fields = [*REQUESTER_FIELDS, *STAFF_FIELDS]
        read_only_fields = fields

    def get_view(self, obj: Ticket) -> str:
        return "staff"


class WatcherSerializer(serializers.ModelSerializer):
    """Someone who follows a ticket besides its requester."""

    name = serializers.CharField(source="__str__")

    class Meta:
        model = User
        fields = ["id", "name", "email"]
        read_only_fields = fields


class StaffTicketDetailSerializer(StaffTicketSerializer):
    """The staff view of one ticket, with its history through the lines and the reasons,
    its parent's reference, its children and who follows it (a few queries, detail only)."""

    line_history = serializers.SerializerMethodField()
    parent_reference = serializers.SerializerMethodField(
        help_text="The parent ticket's reference; null without a parent or when it is not "
        "visible to you."
    )
    child_count = serializers.SerializerMethodField(
        help_text="Children visible to you; list them at /api/tickets/{id}/children/."
    )
    watcher_details = serializers.SerializerMethodField()

    class Meta(StaffTicketSerializer.Meta):
        fields = [
            *StaffTicketSerializer.Meta.fields,
            "line_history",
            "parent_reference",
            "child_count",
            "watcher_details",
        ]
        read_only_fields = fields

    def _user(self) -> User | None:
        request = self.context.get("request")
        return getattr(request, "user", None)

    @extend_schema_field(LineSpanSerializer(many=True))
    def get_line_history(self, obj: Ticket) -> list[dict[str, Any]]:
        spans = LineSpan.objects.filter(ticket=obj).select_related("group", "assignee", "by")
        return LineSpanSerializer(spans, many=True).data

    def get_parent_reference(self, obj: Ticket) -> str | None:
        if obj.parent_id is None:
            return None
        parent = Ticket.objects.visible_to(self._user()).filter(pk=obj.parent_id)
        return parent.values_list("reference", flat=True).first()

    def get_child_count(self, obj: Ticket) -> int:
        return Ticket.objects.visible_to(self._user()).filter(parent=obj).count()

    @extend_schema_field(WatcherSerializer(many=True))
    def get_watcher_details(self, obj: Ticket) -> list[dict[str, Any]]:
        return WatcherSerializer(ordered_watchers(obj), many=True).data


def ordered_watchers(ticket: Ticket):
    return ticket.watchers.order_by("first_name", "last_name", "pk")


TICKET_VIEW = PolymorphicProxySerializer(
    component_name="TicketView",
    serializers={"staff": StaffTicketSerializer, "requester": RequesterTicketSerializer},
    resource_type_field_name="view",
)
TICKET_DETAIL_VIEW = PolymorphicProxySerializer(
    component_name="TicketDetailView",
    serializers={"staff": StaffTicketDetailSerializer, "requester": RequesterTicketSerializer},
    resource_type_field_name="view",
)


class TicketRenderer:
    """Renders each ticket in the view its reader is entitled to (decided per ticket)."""

    def __init__(self, request, *, detail: bool = False) -> None:
        context = {"request": request}
        self.user = request.user
        staff_class = StaffTicketDetailSerializer if detail else StaffTicketSerializer
        self.staff = staff_class(context=context)
        self.requester = RequesterTicketSerializer(context=context)

    def __call__(self, ticket: Ticket) -> dict[str, Any]:
        serializer = self.staff if sees_internal(self.user, ticket) else self.requester
        return serializer.to_representation(ticket)


# Writing tickets -------------------------------------------------------------------------------


def public_services_only(user: User) -> bool:
    return not user.has_perm("servicedesk.view_service")


class TicketCreateSerializer(serializers.Serializer):
    """A new ticket. Requesters report for themselves; staff may log one for someone else."""

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=Ticket.Kind.choices, default=Ticket.Kind.INCIDENT)
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.filter(is_active=True), required=False, allow_null=True
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(is_active=True), required=False, allow_null=True
    )
    request_type = serializers.PrimaryKeyRelatedField(
        queryset=RequestType.objects.filter(is_active=True), required=False, allow_null=True
    )
    custom_fields = serializers.DictField(
        required=False, default=dict, help_text="Values of the request type's own fields."
    )
    impact = serializers.ChoiceField(choices=Impact.choices, default=Impact.LOW)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.MEDIUM)
    channel = serializers.ChoiceField(
        choices=Ticket.Channel.choices,
        required=False,
        help_text="Staff only (e.g. 'phone' for a logged call); otherwise always 'api'.",
    )
    requester = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(),
        required=False,
        allow_null=True,
        help_text="Staff only: the user the ticket is for. Defaults to yourself.",
    )
    contact_name = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Staff only."
    )
    contact_email = serializers.EmailField(
        required=False, allow_blank=True, default="", help_text="Staff only."
    )
    contact_phone = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Staff only."
    )
    organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.none(),
        required=False,
        allow_null=True,
        help_text="Staff only; required for a contact without an account.",
    )
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.none(), required=False, allow_null=True, help_text="Staff only."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            user = request.user
            self.fields["requester"].queryset = User.objects.visible_to(user)
            self.fields["organisation"].queryset = Organisation.objects.visible_to(user)
            self.fields["department"].queryset = Department.objects.visible_to(user)
            if public_services_only(user):
                self.fields["service"].queryset = Service.objects.filter(
                    is_active=True, is_public=True
                )


class TicketUpdateSerializer(serializers.Serializer):
    """The descriptive fields staff may edit; priority follows impact and urgency."""

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=Ticket.Kind.choices, required=False)
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.filter(is_active=True), required=False, allow_null=True
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(is_active=True), required=False, allow_null=True
    )
    impact = serializers.ChoiceField(choices=Impact.choices, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    version = serializers.IntegerField(
        help_text="The version the edit was made on. A stale one gives 409 with what changed."
    )


def _version_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        help_text="The ticket version you saw. A stale one gives 409 with what changed."
    )


def _active_groups():
    return SupportGroup.objects.filter(is_active=True)


class AssignSerializer(serializers.Serializer):
    group = serializers.PrimaryKeyRelatedField(
        queryset=_active_groups(), required=False, allow_null=True
    )
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True, support_groups__isnull=False).distinct(),
        required=False,
        allow_null=True,
        help_text="A member of the group.",
    )
    version = _version_field()


class EscalateSerializer(serializers.Serializer):
    group = serializers.PrimaryKeyRelatedField(
        queryset=_active_groups(), help_text="A second-line group."
    )
    reason = serializers.CharField(allow_blank=True, help_text="Why first line escalates.")
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True, support_groups__isnull=False).distinct(),
        required=False,
        allow_null=True,
    )
    version = _version_field()


class HandBackSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)
    group = serializers.PrimaryKeyRelatedField(
        queryset=_active_groups(),
        required=False,
        allow_null=True,
        help_text="A first-line group; the service desk when left out.",
    )
    version = _version_field()


class BodySerializer(serializers.Serializer):
    body = serializers.CharField(allow_blank=True)


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(
        allow_blank=True, help_text="What was done, for the requester."
    )
    version = _version_field()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField()
    version = _version_field()


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=Ticket.Status.choices,
        help_text="By hand: assigned, in progress or waiting. Resolve, reopen and cancel have "
        "actions of their own; a status that may not follow the current one gives 400.",
    )
    version = _version_field()


class TargetSerializer(serializers.Serializer):
    target = serializers.CharField(help_text="The other ticket: its reference or its id.")


class LinkRequestSerializer(TargetSerializer):
    kind = serializers.ChoiceField(choices=TicketLink.Kind.choices)


class ParentSerializer(serializers.Serializer):
    parent = serializers.CharField(
        allow_blank=True,
        allow_null=True,
        help_text="The parent ticket: its reference or its id. Empty or null removes the parent.",
    )
    version = _version_field()


class WatchRequestSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(),
        help_text="The person who is to follow the ticket. A requester may only name "
        "themselves; staff anyone they can see of the ticket's organisation, or staff "
        "who may see the ticket.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["user"].queryset = User.objects.visible_to(request.user).filter(
                is_active=True
            )


class TicketLinkSerializer(serializers.ModelSerializer):
    target_reference = serializers.CharField(source="target.reference")

    class Meta:
        model = TicketLink
        fields = ["id", "source", "target", "target_reference", "kind", "created_at"]
        read_only_fields = fields


# Timeline and attachments ----------------------------------------------------------------------


class ActivityAttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size"]
        read_only_fields = fields


class TicketActivitySerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    actor_name = serializers.CharField(source="actor", default=None, allow_null=True)
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = TicketActivity
        fields = [
            "id",
            "at",
            "kind",
            "kind_label",
            "is_public",
            "actor",
            "actor_name",
            "body",
            "data",
            "channel",
            "attachments",
        ]
        read_only_fields = fields

    @extend_schema_field(ActivityAttachmentSerializer(many=True))
    def get_attachments(self, obj: TicketActivity) -> list[dict[str, Any]]:
        # Filled by the view with only the attachments the reader may see.
        return ActivityAttachmentSerializer(getattr(obj, "visible_attachments", []), many=True).data


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by_name = serializers.CharField(source="uploaded_by", default=None, allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "filename",
            "content_type",
            "size",
            "is_public",
            "activity",
            "uploaded_by",
            "uploaded_by_name",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj: Attachment) -> str:
        return f"/api/tickets/{obj.ticket_id}/attachments/{obj.pk}/"


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="At most 10 MB; documents, images, text, e-mail.")
    is_public = serializers.BooleanField(
        required=False,
        default=True,
        help_text="Staff only: false keeps the file from the requester. Requesters' files are "
        "always visible to them.",
    )
