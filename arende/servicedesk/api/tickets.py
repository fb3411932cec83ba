"""The ticket endpoints: list, detail, create, edit, the workflow actions, timeline, files."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from arende.core.errors import ValidationFailed
from arende.core.models import User
from arende.servicedesk import services
from arende.servicedesk.api.serializers import (
    ERRORS,
    TICKET_DETAIL_VIEW,
    TICKET_VIEW,
    VERSIONED_ERRORS,
    AssignSerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    BodySerializer,
    CancelSerializer,
    EscalateSerializer,
    HandBackSerializer,
    LinkRequestSerializer,
    ParentSerializer,
    ReasonSerializer,
    RequesterTicketSerializer,
    ResolveSerializer,
    StaffTicketSerializer,
    StatusSerializer,
    TargetSerializer,
    TicketActivitySerializer,
    TicketCreateSerializer,
    TicketLinkSerializer,
    TicketRenderer,
    TicketUpdateSerializer,
    WatcherSerializer,
    WatchRequestSerializer,
    can_work,
    is_own,
    ordered_watchers,
    sees_internal,
)
from arende.servicedesk.filters import TicketFilter
from arende.servicedesk.models import (
    Attachment,
    Ticket,
    TicketActivity,
)
from arende.servicedesk.services.tickets import ticket_add_attachment

# The ticket endpoints ------------------------------------------------------------------------


class TicketPagination(LimitOffsetPagination):
    """``limit``/``offset`` pages whose ``count`` stops at ``COUNT_CAP`` (said so in the body).

    Counting every ticket of a large unit reads the whole table (a tenth of a second at a
    million tickets) for a figure no client needs exactly; ``count_is_capped: true`` says that
    there are more than ``count``. Paging goes on past the cap: ``next`` is given while rows
    remain.
    """

    COUNT_CAP = 10_000

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is None:
            return None
        self.offset = self.get_offset(request)
        cap = max(self.COUNT_CAP, self.offset + self.limit)
        counted = queryset.order_by()[: cap + 1].count()
        self.count_is_capped = counted > cap
        self.count = min(counted, cap)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        if self.count == 0 or self.offset > self.count:
            return []
        return list(queryset[self.offset : self.offset + self.limit])

    def get_next_link(self):
        if self.count_is_capped and self.offset + self.limit >= self.count:
            # More rows than were counted: there is a next page.
            url = self.request.build_absolute_uri()
            url = replace_query_param(url, self.limit_query_param, self.limit)
            return replace_query_param(url, self.offset_query_param, self.offset + self.limit)
        return super().get_next_link()

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_is_capped"] = self.count_is_capped
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count"]["description"] = (
            f"Number of tickets, counted up to {self.COUNT_CAP:,} (or offset + limit)."
        )
        schema["properties"]["count_is_capped"] = {
            "type": "boolean",
            "description": "True when there are more tickets than `count`.",
        }
        return schema


# What the representations read: the ticket's own columns, and of its related rows only the
# names shown (a whole user row has a dozen columns, each compiled and loaded fifty times).
_READ_COLUMNS = (
    *(field.name for field in Ticket._meta.concrete_fields),
    "group__name",
    *(
        f"{person}__{name}"
        for person in ("assignee", "requester")
        for name in ("first_name", "last_name", "email")
    ),
    "merged_into__reference",
)


TICKET_LIST_VIEW = PolymorphicProxySerializer(
    component_name="TicketView",
    serializers={"staff": StaffTicketSerializer, "requester": RequesterTicketSerializer},
    resource_type_field_name="view",
    many=True,
)


def ticket_action(**kwargs):
    """A POST action on one ticket (no list filters, no pagination)."""
    kwargs.setdefault("methods", ["post"])
    return action(detail=True, filter_backends=[], pagination_class=None, **kwargs)


@extend_schema_view(
    list=extend_schema(summary="Tickets visible to you", responses=TICKET_LIST_VIEW),
    retrieve=extend_schema(
        summary="One ticket", responses={200: TICKET_DETAIL_VIEW, 404: ERRORS[404]}
    ),
    create=extend_schema(
        summary="Report a ticket",
        request=TicketCreateSerializer,
        responses={201: TICKET_DETAIL_VIEW, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit title, description, kind, service, category, impact or urgency",
        request=TicketUpdateSerializer,
        responses={200: TICKET_VIEW, **VERSIONED_ERRORS},
    ),
)
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tickets: the same scoping as the pages, every change through the ticket services."""

    serializer_class = RequesterTicketSerializer
    filterset_class = TicketFilter
    pagination_class = TicketPagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        queryset = Ticket.objects.visible_to(self.request.user)
        if self.action in ("list", "retrieve"):
            queryset = (
                queryset.select_related("group", "assignee", "requester", "merged_into")
                .only(*_READ_COLUMNS)
                .prefetch_related(Prefetch("watchers", queryset=User.objects.only("pk")))
            )
        return queryset

    def filter_queryset(self, queryset):
        # Without any filter in the address there is nothing to check or apply (building the
        # filter form just to find that out cost a tenth of the list).
        if self.action == "list" and not TicketFilter.in_use(self.request.query_params):
            return queryset
        return super().filter_queryset(queryset)

    def get_serializer_class(self):
        if self.action == "create":
            return TicketCreateSerializer
        if self.action == "partial_update":
            return TicketUpdateSerializer
        return super().get_serializer_class()

    # helpers ---------------------------------------------------------------------------------

    def _validated(self, request) -> dict[str, Any]:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _ticket_for_work(self) -> Ticket:
        ticket = self.get_object()
        if not can_work(self.request.user, ticket):
            raise PermissionDenied(_("Only the service desk can do this."))
        return ticket

    def _ticket_for_requester_or_work(self) -> Ticket:
        ticket = self.get_object()
        user = self.request.user
        if not (is_own(user, ticket) or can_work(user, ticket)):
            raise PermissionDenied(_("Only the requester or the service desk can do this."))
        return ticket

    def _ticket_for_internal(self) -> Ticket:
        """The ticket, for a reader of its internal side (watchers, children)."""
        ticket = self.get_object()
        if not sees_internal(self.request.user, ticket):
            raise PermissionDenied(_("Only the service desk can do this."))
        return ticket

    def _other_ticket(self, value: str, *, to_work: bool, field: str = "target") -> Ticket:
        value = value.strip()
        visible = Ticket.objects.visible_to(self.request.user)
        lookup = {"pk": int(value)} if value.isdigit() and len(value) < 10 else {"reference": value}
        target = visible.filter(**lookup).first() if value else None
        if target is None:
            raise ValidationFailed(_("There is no ticket with that reference."), field=field)
        if to_work and not can_work(self.request.user, target):
            raise ValidationFailed(_("You cannot work on that ticket."), field=field)
        return target

    def _render(self, ticket: Ticket, *, code: int = status.HTTP_200_OK) -> Response:
        return Response(TicketRenderer(self.request)(ticket), status=code)

    def _activity_response(self, activity: TicketActivity) -> Response:
        return Response(
            TicketActivitySerializer(activity, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    # list, detail, create, edit ----------------------------------------------------------------

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        render = TicketRenderer(request)
        rows = [render(ticket) for ticket in (page if page is not None else queryset)]
        if page is not None:
            return self.get_paginated_response(rows)
        return Response(rows)

    def retrieve(self, request, *args, **kwargs):
        return Response(TicketRenderer(request, detail=True)(self.get_object()))

    def create(self, request, *args, **kwargs):
        data = self._validated(request)
        user = request.user
        requester = data.pop("requester", None)
        contact = {
            name: data.pop(name, "") for name in ("contact_name", "contact_email", "contact_phone")
        }
        organisation = data.pop("organisation", None)
        department = data.pop("department", None)
        channel = data.pop("channel", None)
        on_behalf = (
            (requester is not None and requester.pk != user.pk)
            or any(contact.values())
            or organisation is not None
            or department is not None
        )
        if requester is None and not any(contact.values()):
            requester = user
        target_organisation = organisation or (requester.organisation if requester else None)
        staff = target_organisation is not None and user.has_perm(
            "servicedesk.add_ticket", target_organisation
        )
        if on_behalf and not staff:
            raise PermissionDenied(_("You may only report tickets for yourself."))
        ticket = services.ticket_create(
            actor=user,
            channel=channel if (staff and channel) else Ticket.Channel.API,
            requester=requester,
            organisation=organisation,
            department=department,
            **contact,
            **data,
        )
        return Response(
            TicketRenderer(request, detail=True)(ticket), status=status.HTTP_201_CREATED
        )

    def partial_update(self, request, *args, **kwargs):
        ticket = self._ticket_for_work()
        data = self._validated(request)
        version = data.pop("version")
        ticket = services.ticket_update(actor=request.user, ticket=ticket, version=version, **data)
        return self._render(ticket)

    # actions of the workflow -----------------------------------------------------------------

    @extend_schema(
        summary="Give the ticket to a group and/or a person in its line",
        request=AssignSerializer,
        responses={200: TICKET_VIEW, **VERSIONED_ERRORS},
    )
    @ticket_action(serializer_class=AssignSerializer)
    def assign(self, request, pk=None):
        ticket = self._ticket_for_work()
        data = self._validated(request)
        ticket = services.ticket_assign(
            actor=request.user,
            ticket=ticket,
            version=data["version"],
            group=data.get("group"),
            assignee=data.get("assignee"),
        )
        return self._render(ticket)

    @extend_schema(
        summary="Escalate to a second-line group, saying why",
        request=EscalateSerializer,
        responses={200: TICKET_VIEW, **VERSIONED_ERRORS},
    )
    @ticket_action(serializer_class=EscalateSerializer)
    def escalate(self, request, pk=None):
        ticket = self._ticket_for_work()
        data = self._validated(request)
        ticket = services.ticket_escalate(
            actor=request.user,
            ticket=ticket,
            version=data["version"],
            group=data["group"],
            reason=data["reason"],
            assignee=data.get("assignee"),
        )
        return self._render(ticket)

    @extend_schema(
        summary="Hand a second-line ticket back to the first line",
        request=HandBackSerializer,
        responses={200: TICKET_VIEW, **VERSIONED_ERRORS},
    )
    @ticket_action(serializer_class=HandBackSerializer, url_path="hand-back")
    def hand_back(self, request, pk=None):
        ticket = self._ticket_for_work()
        data = self._validated(request)
        ticket = services.ticket_hand_back(
            actor=request.user,
            ticket=ticket,
            version=data["version"],
            reason=data["reason"],
            group=data.get("group"),
        )
        return self._render(ticket)

    @extend_schema(
        summary="Set the status (assigned, in progress, waiting)",
        request=StatusSerializer,
        responses={200: TICKET_VIEW, **VERSIONED_ERRORS},
    )
    @ticket_action(serializer_class=StatusSerializer, url_path="status")
    def set_status(self, request, pk=None):
        ticket = self._ticket_for_work()
        data = self._validated(request)
        ticket = services.ticket_set_status(
            actor=request.user, ticket=ticket, version=data["version"], status=data["status"]
        )
        return self._render(ticket)

    @extend_schema(
        summary="Resolve the ticket",
        request=ResolveSerializer,
        responses={200: TICKET_VIEW, **VERSIONED_ERRORS},
    )
    @ticket_action(serializer_class=ResolveSerializer)
    def resolve(self, request, pk=None):
        ticket = self._ticket_for_work()
        data = self._validated(request)
        ticket = services.ticket_resolve(
            actor=request.user,
            ticket=ticket,
            version=data["version"],
            resolution=data["resolution"],
        )
        return self._render(ticket)

    @extend_schema(
        summary="Reopen a resolved ticket (the requester or staff)",
        request=ReasonSerializer,
        responses={200: TICKET_VIEW, **ERRORS},
    )
    @ticket_action(serializer_class=ReasonSerializer)
    def reopen(self, request, pk=None):
        ticket = self._ticket_for_requester_or_work()
        data = self._validated(request)
        ticket = services.ticket_reopen(actor=request.user, ticket=ticket, reason=data["reason"])
        return self._render(ticket)

    @extend_schema(
        summary="Cancel the ticket (the requester or staff)",
        request=CancelSerializer,
        responses={200: TICKET_VIEW, **VERSIONED_ERRORS},
    )
    @ticket_action(serializer_class=CancelSerializer)
    def cancel(self, request, pk=None):
        ticket = self._ticket_for_requester_or_work()
        data = self._validated(request)
        ticket = services.ticket_cancel(
            actor=request.user, ticket=ticket, version=data["version"], reason=data["reason"]
        )
        return self._render(ticket)

    @extend_schema(
        summary="Fold this duplicate into another ticket",
        request=TargetSerializer,
        responses={200: TICKET_VIEW, **ERRORS},
    )
    @ticket_action(serializer_class=TargetSerializer)
    def merge(self, request, pk=None):
        ticket = self._ticket_for_work()
        data = self._validated(request)
        target = self._other_ticket(data["target"], to_work=True)
        ticket = services.ticket_merge(actor=request.user, source=ticket, target=target)
        return self._render(ticket)

    @extend_schema(
        summary="Link this ticket to another one",
        request=LinkRequestSerializer,
        responses={201: TicketLinkSerializer, **ERRORS},
    )
    @ticket_action(serializer_class=LinkRequestSerializer)
    def link(self, request, pk=None):
        ticket = self._ticket_for_work()
        data = self._validated(request)
        target = self._other_ticket(data["target"], to_work=False)
        link = services.ticket_link(
            actor=request.user, source=ticket, target=target, kind=data["kind"]
        )
        return Response(TicketLinkSerializer(link).data, status=status.HTTP_201_CREATED)

    # parent, children and watchers -------------------------------------------------------------

    @extend_schema(
        summary="Set or clear the parent ticket",
        description="The parent is named by reference or id and must be a ticket you can see; "
        "an empty or null parent removes it. A ticket cannot be placed under itself or one of "
        "its own descendants.",
        request=ParentSerializer,
        responses={200: TICKET_VIEW, **VERSIONED_ERRORS},
    )
    @ticket_action(serializer_class=ParentSerializer)
    def parent(self, request, pk=None):
        ticket = self._ticket_for_work()
        data = self._validated(request)
        reference = (data.get("parent") or "").strip()
        parent = self._other_ticket(reference, to_work=False, field="parent") if reference else None
        ticket = services.ticket_set_parent(
            actor=request.user, ticket=ticket, version=data["version"], parent=parent
        )
        return self._render(ticket)

    @extend_schema(
        summary="The ticket's children (staff only)",
        description="Only the children you can see; the other municipality's are left out.",
        responses={200: TICKET_LIST_VIEW, 403: ERRORS[403], 404: ERRORS[404]},
    )
    @ticket_action(methods=["get"], serializer_class=StaffTicketSerializer)
    def children(self, request, pk=None):
        ticket = self._ticket_for_internal()
        children = (
            Ticket.objects.visible_to(request.user)
            .filter(parent=ticket)
            .select_related("group", "assignee", "requester", "merged_into")
            .prefetch_related(Prefetch("watchers", queryset=User.objects.only("pk")))
            .order_by("reference")
        )
        render = TicketRenderer(request)
        return Response([render(child) for child in children])

    @extend_schema(
        methods=["GET"],
        summary="Who follows the ticket (staff only)",
        responses={200: WatcherSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a watcher",
        description="Staff add anyone of the ticket's organisation (or staff who may see the "
        "ticket); anyone else who sees the ticket may only add themselves. Answers with the "
        "watchers (only the service desk sees the whole list).",
        request=WatchRequestSerializer,
        responses={200: WatcherSerializer(many=True), **ERRORS},
    )
    @ticket_action(methods=["get", "post"], serializer_class=WatchRequestSerializer)
    def watchers(self, request, pk=None):
        if request.method == "GET":
            ticket = self._ticket_for_internal()
            return Response(WatcherSerializer(ordered_watchers(ticket), many=True).data)
        ticket = self.get_object()
        person = self._validated(request)["user"]
        self._check_may_watch(ticket, person)
        ticket = services.ticket_set_watching(
            actor=request.user, ticket=ticket, user=person, watching=True
        )
        return self._watchers_response(ticket)

    @extend_schema(
        summary="Remove a watcher",
        description="Staff remove anyone; anyone else only themselves.",
        parameters=[OpenApiParameter("user_id", int, OpenApiParameter.PATH)],
        request=None,
        responses={200: WatcherSerializer(many=True), **ERRORS},
    )
    @ticket_action(
        methods=["delete"],
        url_path=r"watchers/(?P<user_id>[0-9]+)",
        url_name="watcher",
        serializer_class=WatcherSerializer,
    )
    def remove_watcher(self, request, pk=None, user_id=None):
        ticket = self.get_object()
        person = get_object_or_404(ordered_watchers(ticket), pk=user_id)
        self._check_may_watch(ticket, person)
        ticket = services.ticket_set_watching(
            actor=request.user, ticket=ticket, user=person, watching=False
        )
        return self._watchers_response(ticket)

    def _check_may_watch(self, ticket: Ticket, person: User) -> None:
        user = self.request.user
        if person.pk != user.pk and not can_work(user, ticket):
            raise PermissionDenied(_("You may only start or stop following a ticket yourself."))

    def _watchers_response(self, ticket: Ticket) -> Response:
        watchers = ordered_watchers(ticket)
        if not sees_internal(self.request.user, ticket):
            watchers = watchers.filter(pk=self.request.user.pk)
        return Response(WatcherSerializer(watchers, many=True).data)

    # conversation ------------------------------------------------------------------------------

    @extend_schema(
        summary="A public reply (the requester or staff)",
        request=BodySerializer,
        responses={201: TicketActivitySerializer, **ERRORS},
    )
    @ticket_action(serializer_class=BodySerializer)
    def reply(self, request, pk=None):
        ticket = self._ticket_for_requester_or_work()
        data = self._validated(request)
        activity = services.ticket_reply(
            actor=request.user, ticket=ticket, body=data["body"], channel=Ticket.Channel.API
        )
        return self._activity_response(activity)

    @extend_schema(
        summary="An internal note (staff only; never shown to the requester)",
        request=BodySerializer,
        responses={201: TicketActivitySerializer, **ERRORS},
    )
    @ticket_action(serializer_class=BodySerializer)
    def note(self, request, pk=None):
        ticket = self._ticket_for_work()
        data = self._validated(request)
        activity = services.ticket_add_note(actor=request.user, ticket=ticket, body=data["body"])
        return self._activity_response(activity)

    @extend_schema(
        summary="The timeline: replies, notes, changes",
        description="Internal notes and internal changes are left out for readers who may not "
        "read the internal notes of the ticket's organisation.",
        responses={200: TicketActivitySerializer(many=True), 404: ERRORS[404]},
    )
    @ticket_action(methods=["get"], serializer_class=TicketActivitySerializer)
    def activities(self, request, pk=None):
        ticket = self.get_object()
        activities = TicketActivity.objects.filter(ticket=ticket).select_related("actor")
        attachments = Attachment.objects.order_by("uploaded_at", "pk")
        if not sees_internal(request.user, ticket):
            activities = activities.filter(is_public=True).exclude(kind=TicketActivity.Kind.NOTE)
            attachments = attachments.filter(is_public=True)
        activities = activities.prefetch_related(
            Prefetch("attachments", queryset=attachments, to_attr="visible_attachments")
        )
        return Response(
            TicketActivitySerializer(
                activities, many=True, context=self.get_serializer_context()
            ).data
        )

    # attachments ---------------------------------------------------------------------------

    def _visible_attachments(self, ticket: Ticket):
        attachments = Attachment.objects.filter(ticket=ticket).select_related("uploaded_by")
        if not sees_internal(self.request.user, ticket):
            attachments = attachments.filter(is_public=True).exclude(
                activity__isnull=False, activity__is_public=False
            )
        return attachments.order_by("uploaded_at", "pk")

    @extend_schema(
        methods=["GET"],
        summary="The ticket's attachments",
        responses={200: AttachmentSerializer(many=True), 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="Upload an attachment (multipart)",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer, **ERRORS},
    )
    @ticket_action(
        methods=["get", "post"],
        serializer_class=AttachmentUploadSerializer,
        parser_classes=[MultiPartParser, FormParser],
    )
    def attachments(self, request, pk=None):
        if request.method == "GET":
            ticket = self.get_object()
            return Response(AttachmentSerializer(self._visible_attachments(ticket), many=True).data)
        ticket = self._ticket_for_requester_or_work()
        data = self._validated(request)
        is_public = data["is_public"] if can_work(request.user, ticket) else True
        try:
            attachment = ticket_add_attachment(
                actor=request.user, ticket=ticket, uploaded_file=data["file"], is_public=is_public
            )
        except ValidationFailed as error:
            if error.field == "attachments":  # the service's form field; here it is "file"
                error.field = "file"
            raise
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Download an attachment",
        parameters=[OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            404: ERRORS[404],
        },
    )
    @ticket_action(
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>[0-9]+)",
        url_name="attachment-download",
    )
    def attachment_download(self, request, pk=None, attachment_id=None):
        ticket = self.get_object()
        attachment = get_object_or_404(self._visible_attachments(ticket), pk=attachment_id)
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.filename,
            content_type=attachment.content_type,
        )
