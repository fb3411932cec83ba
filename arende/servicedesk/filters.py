"""Filter sets of the service desk, shared by the agent workspace and the API.

The querysets handed to these filters are already scoped (``Ticket.objects.visible_to``); the
choices offered here are scoped to the requesting user as well, so that a filter form never
lists an organisation, department or person the user cannot see.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_filters.fields import ModelChoiceField

from arende.core.access import scope_for
from arende.core.models import Department, Organisation, User
from arende.servicedesk.choices import CHOICES
from arende.servicedesk.forms import use_fast_selects
from arende.servicedesk.models import Category, Priority, Service, SupportGroup, Ticket


class _DepartmentChoiceField(ModelChoiceField):
    """Department names repeat between municipalities; name the organisation too."""

    def label_from_instance(self, obj: Department) -> str:
        organisation = obj.organisation
        return f"{organisation.short_name or organisation.name} › {obj.name}"


class _DepartmentFilter(django_filters.ModelChoiceFilter):
    field_class = _DepartmentChoiceField


def _start_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight in the local time zone, so a date filter can use the index on created_at."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _created_from(queryset: QuerySet, name: str, value: datetime.date | None) -> QuerySet:
    if not value:
        return queryset
    return queryset.filter(created_at__gte=_start_of_day(value))


def _created_to(queryset: QuerySet, name: str, value: datetime.date | None) -> QuerySet:
    if not value:
        return queryset
    return queryset.filter(created_at__lt=_start_of_day(value + datetime.timedelta(days=1)))


def _requester_text(queryset: QuerySet, name: str, value: str) -> QuerySet:
    """Every word must match the requester's name, e-mail or phone, or the contact's."""
    condition = Q()
    for term in value.split():
        condition &= (
            Q(requester__first_name__icontains=term)
            | Q(requester__last_name__icontains=term)
            | Q(requester__email__icontains=term)
            | Q(requester__phone__icontains=term)
            | Q(contact_name__icontains=term)
            | Q(contact_email__icontains=term)
            | Q(contact_phone__icontains=term)
        )
    return queryset.filter(condition) if condition else queryset


def category_with_descendants(category: Category) -> list[int]:
    """The category and every category below it (one query for the whole tree)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Category.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, stack = [], [category.pk]
    while stack:
        pk = stack.pop()
        if pk in found:  # a corrupt cycle must not hang the request
            continue
        found.append(pk)
        stack.extend(children.get(pk, []))
    return found


def _category(queryset: QuerySet, name: str, value: Category | None) -> QuerySet:
    if not value:
        return queryset
    return queryset.filter(category_id__in=category_with_descendants(value))


class TicketFilter(django_filters.FilterSet):
    """Filters on every field of a ticket list. Pass ``request`` (or ``user``) for the choices."""

    status = django_filters.ChoiceFilter(label=_("Status"), choices=Ticket.Status.choices)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Ticket.Kind.choices)
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Ticket.Channel.choices)
    priority = django_filters.ChoiceFilter(label=_("Priority"), choices=Priority.choices)
    line = django_filters.ChoiceFilter(label=_("Support line"), choices=Ticket.Line.choices)
    group = django_filters.ModelChoiceFilter(
        label=_("Group"), queryset=SupportGroup.objects.none(), null_label=_("No group")
    )
    assignee = django_filters.ModelChoiceFilter(
        label=_("Assignee"), queryset=User.objects.none(), null_label=_("Unassigned")
    )
    organisation = django_filters.ModelChoiceFilter(
        label=_("Organisation"), queryset=Organisation.objects.none()
    )
    department = _DepartmentFilter(label=_("Department"), queryset=Department.objects.none())
    service = django_filters.ModelChoiceFilter(
        label=_("Service"), queryset=Service.objects.none(), null_label=_("No service")
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"), queryset=Category.objects.none(), method=_category
    )
    created_from = django_filters.DateFilter(
        label=_("Created from"),
        method=_created_from,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_to = django_filters.DateFilter(
        label=_("Created to"), method=_created_to, widget=forms.DateInput(attrs={"type": "date"})
    )
    requester = django_filters.CharFilter(
        label=_("Requester"),
        method=_requester_text,
        help_text=_("Name, e-mail or phone of the requester or contact."),
    )

    class Meta:
        model = Ticket
        fields = [
            "status",
            "kind",
            "channel",
            "priority",
            "line",
            "group",
            "assignee",
            "organisation",
            "department",
            "service",
            "category",
            "created_from",
            "created_to",
            "requester",
        ]

    def __init__(self, *args, user: User | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.viewer = user or getattr(self.request, "user", None)

    def _scope_choices(self) -> None:
        """The choice lists, scoped to the viewer; set when the form is first built (a queue
        page without filters never builds it)."""
        viewer = self.viewer
        if viewer is None:
            return
        self.filters["group"].queryset = SupportGroup.objects.filter(is_active=True)
        self.filters["assignee"].queryset = (
            User.objects.visible_to(viewer)
            .filter(pk__in=SupportGroup.members.through.objects.values("user_id"))
            .order_by("first_name", "last_name", "pk")
        )
        self.filters["organisation"].queryset = Organisation.objects.visible_to(viewer).order_by(
            "name"
        )
        self.filters["department"].queryset = (
            Department.objects.visible_to(viewer)
            .select_related("organisation")
            .order_by("organisation__name", "name")
        )
        self.filters["service"].queryset = Service.objects.all()
        self.filters["category"].queryset = Category.objects.select_related("parent__parent")

    @classmethod
    def in_use(cls, data) -> bool:
        """Whether ``data`` (a QueryDict) sets any filter; if not, there is nothing to check."""
        return any(str(value).strip() for name in cls.base_filters for value in data.getlist(name))

    def _choices_key(self) -> str:
        """What the scoped choice lists depend on: the viewer, their scopes, the language."""
        viewer = self.viewer
        scopes = []
        for model in (User, Organisation, Department):
            scope = scope_for(viewer, f"core.view_{model._meta.model_name}")
            scopes.append("all" if scope.all_organisations else sorted(scope.organisation_ids))
        signature = (viewer.organisation_id, viewer.is_superuser, scopes)
        digest = hashlib.sha256(repr(signature).encode()).hexdigest()[:16]
        return f"ticket-filters:{viewer.pk}:{get_language()}:{digest}"

    def _shown_lists(self) -> dict[str, list[tuple[str, str]]]:
        """The model choice lists as the fields would list them (labels, empty and "none"
        options), read once and cached."""
        if not hasattr(self, "_lists"):
            form = self._form
            self._lists = CHOICES.get(
                self._choices_key(),
                lambda: {
                    name: [(str(value), str(label)) for value, label in field.choices]
                    for name, field in form.fields.items()
                    if isinstance(field, forms.ModelChoiceField)
                },
            )
        return self._lists

    @property
    def form(self):
        if not hasattr(self, "_form"):
            self._scope_choices()
            form = super().form
            use_fast_selects(form)  # same HTML, without a template per option
            if self.viewer is not None:
                # Shown from the cache when rendered (an API request only validates); the
                # querysets still check a submitted value.
                for name, field in form.fields.items():
                    if isinstance(field, forms.ModelChoiceField):
                        field.widget.choices = _ShownChoices(self._shown_lists, name)
        return self._form


class _ShownChoices(BaseChoiceIterator):
    """A widget's choices, fetched from the filter set's cached lists when first iterated
    (a ``BaseChoiceIterator``, so that Django keeps it lazy)."""

    def __init__(self, lists: Callable[[], dict[str, list]], name: str) -> None:
        self.lists, self.name = lists, name

    def __iter__(self):
        return iter(self.lists()[self.name])
