"""Filter sets shared by the list pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arende.core.models import AuditEvent, Department, Organisation, User


def _search_users(queryset, name, value):
    value = value.strip()
    if not value:
        return queryset
    condition = Q()
    for term in value.split():
        condition &= (
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(email__icontains=term)
            | Q(phone__icontains=term)
            | Q(title__icontains=term)
        )
    return queryset.filter(condition)


class UserFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method=_search_users)
    organisation = django_filters.ModelChoiceFilter(
        label=_("Organisation"), queryset=Organisation.objects.none()
    )
    department = django_filters.ModelChoiceFilter(
        label=_("Department"), queryset=Department.objects.none()
    )
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = User
        fields = ["q", "organisation", "department", "is_active"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        request_user = user or getattr(self.request, "user", None)
        if request_user is not None:
            self.filters["organisation"].queryset = Organisation.objects.visible_to(request_user)
            self.filters["department"].queryset = Department.objects.visible_to(
                request_user
            ).select_related("organisation")


class DepartmentFilter(django_filters.FilterSet):
    class Meta:
        model = Department
        fields = ["organisation", "parent", "is_active"]


class OrganisationFilter(django_filters.FilterSet):
    class Meta:
        model = Organisation
        fields = ["kind", "is_active"]


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(label=_("Action"), choices=AuditEvent.Action.choices)
    actor = django_filters.CharFilter(
        label=_("Actor"), field_name="actor_label", lookup_expr="icontains"
    )
    record = django_filters.CharFilter(
        label=_("Record"), field_name="object_label", lookup_expr="icontains"
    )
    record_type = django_filters.CharFilter(
        label=_("Record type"), field_name="content_type__model", lookup_expr="iexact"
    )
    object_id = django_filters.CharFilter(label=_("Record id"), field_name="object_id")
    request_id = django_filters.CharFilter(label=_("Request id"), field_name="request_id")
    since = django_filters.DateFilter(label=_("From"), field_name="at", lookup_expr="date__gte")
    until = django_filters.DateFilter(label=_("To"), field_name="at", lookup_expr="date__lte")

    class Meta:
        model = AuditEvent
        fields = [
            "action",
            "actor",
            "record",
            "record_type",
            "object_id",
            "request_id",
            "since",
            "until",
        ]
