"""REST API of operations: major incidents (with timeline, children and review), problems,
changes, planned maintenance, and the figures. The same rules as the pages: every read goes
through ``visible_to`` (another municipality's record answers 404 like a missing one) and every
write through the services, which check the permissions and write the audit log."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from arende.core.errors import DomainError, ValidationFailed
from arende.core.models import Organisation, User
from arende.operations import selectors
from arende.operations.models import (
    BlackoutPeriod,
    Change,
    ChangeApproval,
    ChangeTemplate,
    MajorIncident,
    PlannedMaintenance,
    PostIncidentReview,
    Problem,
    ProblemTicket,
    ReviewAction,
    TimelineEntry,
)
from arende.operations.services import changes as change_services
from arende.operations.services import incidents as incident_services
from arende.operations.services import maintenance as maintenance_services
from arende.operations.services import problems as problem_services
from arende.servicedesk.models import Service, Ticket


def _call(function: Callable[..., Any], **kwargs: Any) -> Any:
    """Call a service; a refusal for lack of rights answers 403, other refusals 400/409."""
    try:
        return function(**kwargs)
    except DomainError as error:
        if error.code == "forbidden":
            raise PermissionDenied(str(error.message)) from None
        raise


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied()


def _ticket(user: User, reference: str) -> Ticket:
    ticket = Ticket.objects.visible_to(user).filter(reference=reference.strip()).first()
    if ticket is None:
        raise ValidationFailed("No ticket with that reference.", field="ticket")
    return ticket


def detail_action(**kwargs: Any):
    kwargs.setdefault("methods", ["post"])
    return action(detail=True, filter_backends=[], pagination_class=None, **kwargs)


class ScopedPKs(serializers.PrimaryKeyRelatedField):
    """Organisations limited to those the caller can see."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Organisation.objects.all())
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Organisation.objects.none()
        return Organisation.objects.visible_to(request.user)


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, help_text="The version you saw; 409 if stale."
    )


class ReferenceSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="Ticket reference, e.g. 2021-000123.")


# Major incidents -------------------------------------------------------------------------------


class TimelineEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = TimelineEntry
        fields = ["id", "at", "kind", "body", "is_public", "author"]
        read_only_fields = ["id", "at", "author"]


class ReviewActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewAction
        fields = ["id", "description", "owner", "due_date", "status", "done_at"]
        read_only_fields = ["id", "status", "done_at"]


class ReviewSerializer(serializers.ModelSerializer):
    actions = ReviewActionSerializer(many=True, read_only=True)

    class Meta:
        model = PostIncidentReview
        fields = [
            "id", "status", "cause", "what_worked", "what_to_improve", "created_at",
            "completed_at", "version", "actions",
        ]  # fmt: skip
        read_only_fields = ["id", "status", "created_at", "completed_at", "actions"]


class MajorIncidentSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    parent_ticket = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    children = serializers.SerializerMethodField()
    time_to_restore_minutes = serializers.SerializerMethodField()
    time_to_mitigate_minutes = serializers.SerializerMethodField()

    class Meta:
        model = MajorIncident
        fields = [
            "id", "reference", "title", "description", "public_title", "public_summary",
            "status", "severity", "impact", "lead", "services", "organisations",
            "parent_ticket", "children", "started_at", "detected_at", "declared_at",
            "mitigated_at", "resolved_at", "resolution", "is_security", "security_type",
            "attack_source", "reported_to_authority", "caused_by_change",
            "time_to_restore_minutes", "time_to_mitigate_minutes", "version",
        ]  # fmt: skip
        read_only_fields = fields

    def get_children(self, obj: MajorIncident) -> list[str]:
        """References of the linked tickets you can see (only on the detail and the actions)."""
        request = self.context.get("request")
        if not obj.parent_ticket_id or request is None or not self.context.get("with_children"):
            return []
        return list(
            Ticket.objects.visible_to(request.user)
            .filter(parent_id=obj.parent_ticket_id)
            .order_by("pk")
            .values_list("reference", flat=True)
        )

    def get_time_to_restore_minutes(self, obj: MajorIncident) -> int | None:
        value = obj.time_to_restore
        return None if value is None else round(value.total_seconds() / 60)

    def get_time_to_mitigate_minutes(self, obj: MajorIncident) -> int | None:
        value = obj.time_to_mitigate
        return None if value is None else round(value.total_seconds() / 60)


class DeclareSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    services = serializers.PrimaryKeyRelatedField(many=True, queryset=Service.objects.all())
    organisations = ScopedPKs(many=True, required=False)
    severity = serializers.ChoiceField(choices=MajorIncident.Severity.choices, default=2)
    impact = serializers.ChoiceField(choices=MajorIncident.Impact.choices, default="outage")
    lead = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )
    parent_ticket = serializers.CharField(required=False, allow_blank=True, default="")
    started_at = serializers.DateTimeField(required=False, allow_null=True)
    detected_at = serializers.DateTimeField(required=False, allow_null=True)
    public_title = serializers.CharField(required=False, allow_blank=True, default="")
    public_summary = serializers.CharField(required=False, allow_blank=True, default="")
    is_security = serializers.BooleanField(default=False)
    security_type = serializers.ChoiceField(choices=MajorIncident.SecurityType.choices, default="")
    attack_source = serializers.CharField(required=False, allow_blank=True, default="")


class IncidentUpdateSerializer(VersionSerializer):
    title = serializers.CharField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    public_title = serializers.CharField(required=False, allow_blank=True)
    public_summary = serializers.CharField(required=False, allow_blank=True)
    severity = serializers.ChoiceField(choices=MajorIncident.Severity.choices, required=False)
    impact = serializers.ChoiceField(choices=MajorIncident.Impact.choices, required=False)
    lead = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )
    started_at = serializers.DateTimeField(required=False)
    detected_at = serializers.DateTimeField(required=False)
    is_security = serializers.BooleanField(required=False)
    security_type = serializers.ChoiceField(
        choices=MajorIncident.SecurityType.choices, required=False
    )
    attack_source = serializers.CharField(required=False, allow_blank=True)
    reported_to_authority = serializers.BooleanField(required=False)
    caused_by_change = serializers.PrimaryKeyRelatedField(
        queryset=Change.objects.all(), required=False, allow_null=True
    )
    services = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Service.objects.all(), required=False
    )
    organisations = ScopedPKs(many=True, required=False)


class EntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TimelineEntry.Kind.choices)
    body = serializers.CharField()
    is_public = serializers.BooleanField(default=False)


class IncidentStatusSerializer(VersionSerializer):
    status = serializers.ChoiceField(choices=MajorIncident.Status.choices)
    message = serializers.CharField(required=False, allow_blank=True, default="")


class IncidentResolveSerializer(VersionSerializer):
    resolution = serializers.CharField()
    public_message = serializers.CharField(required=False, allow_blank=True, default="")


class ReviewActionCreateSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=300)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    due_date = serializers.DateField()


class MajorIncidentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Major incidents visible to you, with their actions."""

    serializer_class = MajorIncidentSerializer
    filterset_fields = ["status", "severity", "is_security"]

    def get_queryset(self):
        return (
            MajorIncident.objects.visible_to(self.request.user)
            .select_related("parent_ticket")
            .prefetch_related("services", "organisations")
            .order_by("-started_at", "-pk")
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["with_children"] = self.action != "list"
        return context

    @extend_schema(request=DeclareSerializer, responses={201: MajorIncidentSerializer})
    def create(self, request):
        _require(request, "operations.add_majorincident")
        data = DeclareSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        reference = values.pop("parent_ticket")
        values["parent_ticket"] = _ticket(request.user, reference) if reference else None
        incident = _call(incident_services.major_incident_declare, actor=request.user, **values)
        return Response(self.get_serializer(incident).data, status=201)

    @extend_schema(request=IncidentUpdateSerializer, responses=MajorIncidentSerializer)
    def partial_update(self, request, pk=None):
        incident = self.get_object()
        data = IncidentUpdateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version", None)
        incident = _call(
            incident_services.major_incident_update, actor=request.user, incident=incident,
            version=version, **values,
        )  # fmt: skip
        return Response(self.get_serializer(incident).data)

    @extend_schema(request=None, responses=TimelineEntrySerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def timeline(self, request, pk=None):
        return Response(TimelineEntrySerializer(self.get_object().timeline.all(), many=True).data)

    @extend_schema(request=EntrySerializer, responses={201: TimelineEntrySerializer})
    @detail_action(url_path="timeline/add")
    def add_entry(self, request, pk=None):
        incident = self.get_object()
        data = EntrySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = _call(
            incident_services.major_incident_add_entry, actor=request.user, incident=incident,
            **data.validated_data,
        )  # fmt: skip
        return Response(TimelineEntrySerializer(entry).data, status=201)

    @extend_schema(request=IncidentStatusSerializer, responses=MajorIncidentSerializer)
    @detail_action(url_path="status")
    def set_status(self, request, pk=None):
        incident = self.get_object()
        data = IncidentStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = _call(
            incident_services.major_incident_set_status, actor=request.user, incident=incident,
            version=data.validated_data.get("version"), status=data.validated_data["status"],
            message=data.validated_data["message"],
        )  # fmt: skip
        return Response(self.get_serializer(incident).data)

    @extend_schema(request=ReferenceSerializer, responses=MajorIncidentSerializer)
    @detail_action(url_path="link-ticket")
    def link_ticket(self, request, pk=None):
        incident = self.get_object()
        data = ReferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = _ticket(request.user, data.validated_data["ticket"])
        _call(
            incident_services.major_incident_link_ticket,
            actor=request.user,
            incident=incident,
            ticket=ticket,
        )
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=ReferenceSerializer, responses=MajorIncidentSerializer)
    @detail_action(url_path="unlink-ticket")
    def unlink_ticket(self, request, pk=None):
        incident = self.get_object()
        data = ReferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = _ticket(request.user, data.validated_data["ticket"])
        _call(
            incident_services.major_incident_unlink_ticket,
            actor=request.user,
            incident=incident,
            ticket=ticket,
        )
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=IncidentResolveSerializer, responses=MajorIncidentSerializer)
    @detail_action()
    def resolve(self, request, pk=None):
        incident = self.get_object()
        data = IncidentResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = _call(
            incident_services.major_incident_resolve, actor=request.user, incident=incident,
            version=data.validated_data.get("version"),
            resolution=data.validated_data["resolution"],
            public_message=data.validated_data["public_message"],
        )  # fmt: skip
        return Response(self.get_serializer(incident).data)

    @extend_schema(methods=["get"], request=None, responses=ReviewSerializer)
    @extend_schema(methods=["patch"], request=ReviewSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["get", "patch"], filter_backends=[], pagination_class=None)
    def review(self, request, pk=None):
        incident = self.get_object()
        review = get_object_or_404(PostIncidentReview, incident=incident)
        if request.method == "PATCH":
            data = ReviewSerializer(review, data=request.data, partial=True)
            data.is_valid(raise_exception=True)
            values = data.validated_data
            review = _call(
                incident_services.review_update, actor=request.user, review=review,
                version=values.get("version"), cause=values.get("cause", review.cause),
                what_worked=values.get("what_worked", review.what_worked),
                what_to_improve=values.get("what_to_improve", review.what_to_improve),
            )  # fmt: skip
        return Response(ReviewSerializer(review).data)

    @extend_schema(request=VersionSerializer, responses=ReviewSerializer)
    @detail_action(url_path="review/complete")
    def review_complete(self, request, pk=None):
        review = get_object_or_404(PostIncidentReview, incident=self.get_object())
        data = VersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = _call(
            incident_services.review_complete, actor=request.user, review=review,
            version=data.validated_data.get("version"),
        )  # fmt: skip
        return Response(ReviewSerializer(review).data)

    @extend_schema(request=ReviewActionCreateSerializer, responses={201: ReviewActionSerializer})
    @detail_action(url_path="review/actions")
    def review_action(self, request, pk=None):
        review = get_object_or_404(PostIncidentReview, incident=self.get_object())
        data = ReviewActionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = _call(
            incident_services.review_action_add,
            actor=request.user,
            review=review,
            **data.validated_data,
        )
        return Response(ReviewActionSerializer(item).data, status=201)


# Problems --------------------------------------------------------------------------------------


class ProblemSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    tickets = serializers.SerializerMethodField()

    class Meta:
        model = Problem
        fields = [
            "id", "reference", "title", "description", "status", "root_cause", "workaround",
            "is_known_error", "owner", "services", "organisations", "major_incidents",
            "tickets", "created_at", "resolved_at", "version",
        ]  # fmt: skip
        read_only_fields = fields

    def get_tickets(self, obj: Problem) -> list[str]:
        visible = self.context.get("visible_ticket_ids")
        return [
            link.ticket.reference
            for link in obj.ticket_links.all()
            if visible is None or link.ticket_id in visible
        ]


class ProblemCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    organisations = ScopedPKs(many=True)
    services = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Service.objects.all(), required=False
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )


class KnownErrorSerializer(VersionSerializer):
    root_cause = serializers.CharField()
    workaround = serializers.CharField()


class ProblemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Problems and known errors visible to you."""

    serializer_class = ProblemSerializer
    filterset_fields = ["status", "is_known_error"]

    def get_queryset(self):
        return (
            Problem.objects.visible_to(self.request.user)
            .prefetch_related(
                "services", "organisations", "major_incidents", "ticket_links__ticket"
            )
            .order_by("-created_at", "-pk")
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "request", None) is not None and self.request.user.is_authenticated:
            context["visible_ticket_ids"] = set(
                Ticket.objects.visible_to(self.request.user)
                .filter(pk__in=ProblemTicket.objects.values("ticket_id"))
                .values_list("pk", flat=True)
            )
        return context

    @extend_schema(request=ProblemCreateSerializer, responses={201: ProblemSerializer})
    def create(self, request):
        _require(request, "operations.add_problem")
        data = ProblemCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        problem = _call(problem_services.problem_create, actor=request.user, **data.validated_data)
        return Response(self.get_serializer(problem).data, status=201)

    @extend_schema(request=KnownErrorSerializer, responses=ProblemSerializer)
    @detail_action(url_path="known-error")
    def known_error(self, request, pk=None):
        problem = self.get_object()
        data = KnownErrorSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        problem = _call(
            problem_services.problem_mark_known_error, actor=request.user, problem=problem,
            version=data.validated_data.get("version"),
            root_cause=data.validated_data["root_cause"],
            workaround=data.validated_data["workaround"],
        )  # fmt: skip
        return Response(self.get_serializer(problem).data)

    @extend_schema(request=ReferenceSerializer, responses=ProblemSerializer)
    @detail_action(url_path="link-ticket")
    def link_ticket(self, request, pk=None):
        problem = self.get_object()
        data = ReferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = _ticket(request.user, data.validated_data["ticket"])
        _call(
            problem_services.problem_link_ticket, actor=request.user, problem=problem, ticket=ticket
        )
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=VersionSerializer, responses=ProblemSerializer)
    @detail_action()
    def resolve(self, request, pk=None):
        problem = self.get_object()
        data = VersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        problem = _call(
            problem_services.problem_resolve, actor=request.user, problem=problem,
            version=data.validated_data.get("version"),
        )  # fmt: skip
        return Response(self.get_serializer(problem).data)


# Changes ---------------------------------------------------------------------------------------


class ChangeApprovalSerializer(serializers.ModelSerializer):
    role = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = ChangeApproval
        fields = ["id", "role", "decided_by", "decision", "comment", "at"]
        read_only_fields = fields


class ChangeSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    approvals = ChangeApprovalSerializer(many=True, read_only=True)
    approver_roles = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    caused_incidents = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Change
        fields = [
            "id", "reference", "title", "type", "template", "status", "description", "reason",
            "services", "organisations", "systems", "risk_answers", "risk_level",
            "planned_start", "planned_end", "implementation_plan", "backout_plan", "requester",
            "implementer", "approval_rule", "approver_roles", "approvals", "created_at",
            "submitted_at", "approved_at", "actual_start", "actual_end", "implementation_notes",
            "outcome", "review_notes", "reviewed_at", "caused_incidents", "version",
        ]  # fmt: skip
        read_only_fields = fields


class ChangeCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    type = serializers.ChoiceField(choices=Change.Type.choices)
    template = serializers.PrimaryKeyRelatedField(
        queryset=ChangeTemplate.objects.all(), required=False, allow_null=True
    )
    description = serializers.CharField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    organisations = ScopedPKs(many=True)
    services = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Service.objects.all(), required=False
    )
    systems = serializers.CharField(required=False, allow_blank=True, default="")
    risk_answers = serializers.DictField(child=serializers.BooleanField(), required=False)
    planned_start = serializers.DateTimeField()
    planned_end = serializers.DateTimeField()
    implementation_plan = serializers.CharField(required=False, allow_blank=True, default="")
    backout_plan = serializers.CharField(required=False, allow_blank=True, default="")
    implementer = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )


class ChangeUpdateSerializer(VersionSerializer):
    title = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True)
    systems = serializers.CharField(required=False, allow_blank=True)
    planned_start = serializers.DateTimeField(required=False)
    planned_end = serializers.DateTimeField(required=False)
    implementation_plan = serializers.CharField(required=False, allow_blank=True)
    backout_plan = serializers.CharField(required=False, allow_blank=True)
    implementer = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )
    services = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Service.objects.all(), required=False
    )
    risk_answers = serializers.DictField(child=serializers.BooleanField(), required=False)


class DecideSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ImplementSerializer(VersionSerializer):
    notes = serializers.CharField()
    actual_start = serializers.DateTimeField(required=False, allow_null=True)
    actual_end = serializers.DateTimeField(required=False, allow_null=True)


class ChangeReviewSerializer(VersionSerializer):
    outcome = serializers.ChoiceField(choices=Change.Outcome.choices)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    incidents = serializers.PrimaryKeyRelatedField(
        many=True, queryset=MajorIncident.objects.all(), required=False
    )


class ChangeCancelSerializer(VersionSerializer):
    reason = serializers.CharField()


class ChangeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Requests for change visible to you, and their workflow."""

    serializer_class = ChangeSerializer
    filterset_fields = ["status", "type", "risk_level", "outcome"]

    def get_queryset(self):
        return (
            Change.objects.visible_to(self.request.user)
            .prefetch_related(
                "services", "organisations", "approver_roles", "approvals__role", "caused_incidents"
            )
            .order_by("-planned_start", "-pk")
        )

    def _answer(self, change: Change) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=change.pk)).data)

    @extend_schema(request=ChangeCreateSerializer, responses={201: ChangeSerializer})
    def create(self, request):
        _require(request, "operations.add_change")
        data = ChangeCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.setdefault("services", [])
        change = _call(change_services.change_create, actor=request.user, **values)
        return Response(self.get_serializer(change).data, status=201)

    @extend_schema(request=ChangeUpdateSerializer, responses=ChangeSerializer)
    def partial_update(self, request, pk=None):
        change = self.get_object()
        data = ChangeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        change = _call(
            change_services.change_update, actor=request.user, change=change,
            version=values.pop("version", None), **values,
        )  # fmt: skip
        return self._answer(change)

    def _versioned(self, request, function, **extra):
        change = self.get_object()
        data = VersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = _call(
            function,
            actor=request.user,
            change=change,
            version=data.validated_data.get("version"),
            **extra,
        )
        return self._answer(change)

    @extend_schema(request=VersionSerializer, responses=ChangeSerializer)
    @detail_action()
    def submit(self, request, pk=None):
        return self._versioned(request, change_services.change_submit)

    @extend_schema(request=DecideSerializer, responses=ChangeSerializer)
    @detail_action()
    def decide(self, request, pk=None):
        change = self.get_object()
        data = DecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = _call(
            change_services.change_decide, actor=request.user, change=change, **data.validated_data
        )
        return self._answer(change)

    @extend_schema(request=VersionSerializer, responses=ChangeSerializer)
    @detail_action()
    def schedule(self, request, pk=None):
        return self._versioned(request, change_services.change_schedule)

    @extend_schema(request=VersionSerializer, responses=ChangeSerializer)
    @detail_action()
    def start(self, request, pk=None):
        return self._versioned(request, change_services.change_start)

    @extend_schema(request=ImplementSerializer, responses=ChangeSerializer)
    @detail_action()
    def implement(self, request, pk=None):
        change = self.get_object()
        data = ImplementSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        change = _call(
            change_services.change_implement, actor=request.user, change=change,
            version=values.pop("version", None), **values,
        )  # fmt: skip
        return self._answer(change)

    @extend_schema(request=ChangeReviewSerializer, responses=ChangeSerializer)
    @detail_action()
    def review(self, request, pk=None):
        change = self.get_object()
        data = ChangeReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        visible = set(MajorIncident.objects.visible_to(request.user).values_list("pk", flat=True))
        incidents = [incident for incident in values.pop("incidents", []) if incident.pk in visible]
        change = _call(
            change_services.change_review, actor=request.user, change=change,
            version=values.pop("version", None), incidents=incidents, **values,
        )  # fmt: skip
        return self._answer(change)

    @extend_schema(request=ChangeCancelSerializer, responses=ChangeSerializer)
    @detail_action()
    def cancel(self, request, pk=None):
        change = self.get_object()
        data = ChangeCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = _call(
            change_services.change_cancel, actor=request.user, change=change,
            version=data.validated_data.get("version"), reason=data.validated_data["reason"],
        )  # fmt: skip
        return self._answer(change)


class ChangeTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChangeTemplate
        fields = [
            "id",
            "name",
            "description",
            "implementation_plan",
            "backout_plan",
            "services",
            "is_active",
        ]
        read_only_fields = fields


class ChangeTemplateViewSet(viewsets.ReadOnlyModelViewSet):
    """Pre-approved standard change templates."""

    serializer_class = ChangeTemplateSerializer

    def get_queryset(self):
        if not self.request.user.has_perm("operations.view_change"):
            return ChangeTemplate.objects.none()
        return ChangeTemplate.objects.prefetch_related("services").order_by("name")


class BlackoutPeriodSerializer(serializers.ModelSerializer):
    class Meta:
        model = BlackoutPeriod
        fields = ["id", "name", "reason", "starts_at", "ends_at"]
        read_only_fields = fields


class BlackoutPeriodViewSet(viewsets.ReadOnlyModelViewSet):
    """Periods when no change but an emergency may be carried out."""

    serializer_class = BlackoutPeriodSerializer

    def get_queryset(self):
        if not self.request.user.has_perm("operations.view_change"):
            return BlackoutPeriod.objects.none()
        return BlackoutPeriod.objects.order_by("starts_at")


# Planned maintenance ---------------------------------------------------------------------------


class MaintenanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlannedMaintenance
        fields = [
            "id", "title", "public_description", "internal_note", "services", "organisations",
            "starts_at", "ends_at", "is_public", "is_cancelled", "change", "version",
        ]  # fmt: skip
        read_only_fields = ["id", "is_cancelled", "version"]


class MaintenanceCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    public_description = serializers.CharField(required=False, allow_blank=True, default="")
    internal_note = serializers.CharField(required=False, allow_blank=True, default="")
    services = serializers.PrimaryKeyRelatedField(many=True, queryset=Service.objects.all())
    organisations = ScopedPKs(many=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    is_public = serializers.BooleanField(default=True)
    change = serializers.PrimaryKeyRelatedField(
        queryset=Change.objects.all(), required=False, allow_null=True
    )


class PlannedMaintenanceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Planned maintenance windows visible to you."""

    serializer_class = MaintenanceSerializer

    def get_queryset(self):
        return (
            PlannedMaintenance.objects.visible_to(self.request.user)
            .prefetch_related("services", "organisations")
            .order_by("-starts_at", "-pk")
        )

    @extend_schema(request=MaintenanceCreateSerializer, responses={201: MaintenanceSerializer})
    def create(self, request):
        _require(request, "operations.add_plannedmaintenance")
        data = MaintenanceCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        window = _call(
            maintenance_services.maintenance_create, actor=request.user, **data.validated_data
        )
        return Response(MaintenanceSerializer(window).data, status=201)

    @extend_schema(request=VersionSerializer, responses=MaintenanceSerializer)
    @detail_action()
    def cancel(self, request, pk=None):
        window = self.get_object()
        data = VersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        window = _call(
            maintenance_services.maintenance_cancel, actor=request.user, window=window,
            version=data.validated_data.get("version"),
        )  # fmt: skip
        return Response(MaintenanceSerializer(window).data)


# Figures ---------------------------------------------------------------------------------------


def _year(request) -> int:
    try:
        year = int(request.query_params.get("year", ""))
    except ValueError:
        return timezone.localdate().year
    return year if 2000 <= year <= 2100 else timezone.localdate().year


class OperationsFiguresView(APIView):
    """The follow-up share and the change figures per month of a year (your scope)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT),
            OpenApiParameter("days", OpenApiTypes.INT, description="Working days (default 10)."),
        ],
        responses=inline_serializer(
            "OperationsFigures",
            {
                "year": serializers.IntegerField(),
                "followup": serializers.DictField(),
                "changes": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request):
        user = request.user
        if not user.has_perm("operations.view_majorincident") and not user.has_perm(
            "operations.view_change"
        ):
            raise PermissionDenied
        year = _year(request)
        try:
            days = max(1, min(60, int(request.query_params.get("days", "10"))))
        except ValueError:
            days = 10
        incidents = MajorIncident.objects.visible_to(user)
        start = datetime.datetime(year, 1, 1, tzinfo=timezone.get_current_timezone())
        followup = selectors.followup_share(
            incidents.filter(resolved_at__gte=start, resolved_at__lt=start.replace(year=year + 1)),
            working_days=days,
        )
        months = selectors.change_figures(Change.objects.visible_to(user), incidents, year=year)
        return Response(
            {
                "year": year,
                "followup": {
                    "working_days": days,
                    "total": followup.total,
                    "in_time": followup.in_time,
                    "pending": followup.pending,
                    "share": followup.share,
                },
                "changes": [
                    {
                        "month": row.month,
                        "started": row.started,
                        "approved_before_start": row.approved_before_start,
                        "approved_share": row.approved_share,
                        "reviewed": row.reviewed,
                        "successful": row.successful,
                        "successful_share": row.successful_share,
                        "unforeseen_disruptions": row.disruptions,
                    }
                    for row in months
                ],
            }
        )


class AvailabilityView(APIView):
    """Availability per month of one service (downtime from the major incidents you can see)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT),
            OpenApiParameter("service", OpenApiTypes.INT, required=True),
        ],
        responses=inline_serializer(
            "Availability",
            {
                "service": serializers.IntegerField(),
                "year": serializers.IntegerField(),
                "months": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request):
        if not request.user.has_perm("operations.view_majorincident"):
            raise PermissionDenied
        service = get_object_or_404(Service, pk=request.query_params.get("service") or 0)
        year = _year(request)
        months = selectors.availability(
            service,
            year=year,
            incidents=MajorIncident.objects.visible_to(request.user),
            maintenance=PlannedMaintenance.objects.visible_to(request.user),
        )
        return Response(
            {
                "service": service.pk,
                "year": year,
                "months": [
                    {
                        "month": row.month,
                        "downtime_minutes": row.downtime_minutes,
                        "maintenance_minutes": row.maintenance_minutes,
                        "availability_percent": round(row.availability, 4),
                        "incidents": row.incidents,
                        "mttr_minutes": row.mttr_minutes,
                    }
                    for row in months
                ],
            }
        )
