"""Forms of the service catalogue editor: a service, a request type and its custom fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arende.core.errors import ValidationFailed
from arende.core.models import Role, User
from arende.servicedesk.models import Category, RequestType, Service, SupportGroup, Ticket
from arende.servicedesk.services.catalogue import FIELD_TYPES, check_field_definition


def _owners(current: User | None) -> Any:
    """IT staff (and whoever owns the service now, so that an edit does not drop them)."""
    condition = Q(is_active=True, role_assignments__role__is_it_staff=True)
    if current is not None:
        condition |= Q(pk=current.pk)
    return User.objects.filter(condition).distinct().order_by("first_name", "last_name", "pk")


class ServiceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the service is and who it is for."),
    )
    owner = forms.ModelChoiceField(
        label=_("Service owner"), queryset=User.objects.none(), required=False
    )
    default_group = forms.ModelChoiceField(
        label=_("Default group"),
        queryset=SupportGroup.objects.filter(is_active=True).order_by("line", "name"),
        required=False,
        help_text=_("New tickets about the service go to this group."),
    )
    is_public = forms.BooleanField(
        label=_("Shown in the portal"),
        required=False,
        help_text=_("Requesters can pick it when they report something."),
    )

    def __init__(self, *args: Any, service: Service | None = None, **kwargs: Any) -> None:
        if service is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": service.name,
                    "description": service.description,
                    "owner": service.owner_id,
                    "default_group": service.default_group_id,
                    "is_public": service.is_public,
                    "is_active": service.is_active,
                    "version": service.version,
                },
            )
        else:
            kwargs.setdefault("initial", {"is_public": True})
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _owners(service.owner if service else None)
        if service is not None:
            self.fields["is_active"] = forms.BooleanField(
                label=_("Active"),
                required=False,
                help_text=_(
                    "An inactive service cannot be chosen for new tickets; its old tickets keep it."
                ),
            )
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class RequestTypeForm(forms.Form):
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.all())
    name = forms.CharField(label=_("Name"), max_length=150)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to the requester in the portal."),
    )
    kind = forms.ChoiceField(label=_("Ticket kind"), choices=Ticket.Kind.choices)
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True).select_related("parent"),
        required=False,
    )
    approval = forms.ChoiceField(
        label=_("Approval"),
        choices=RequestType.Approval.choices,
        help_text=_("When set, the request waits for approval before work starts."),
    )
    approver_role = forms.ModelChoiceField(
        label=_("Approver role"),
        queryset=Role.objects.order_by("name"),
        required=False,
        help_text=_("Only for approval by a role: any holder of the role may approve."),
    )

    def __init__(
        self,
        *args: Any,
        request_type: RequestType | None = None,
        service: Service | None = None,
        seen: str = "",
        **kwargs: Any,
    ) -> None:
        if request_type is not None:
            kwargs.setdefault(
                "initial",
                {
                    "service": request_type.service_id,
                    "name": request_type.name,
                    "description": request_type.description,
                    "kind": request_type.kind,
                    "category": request_type.category_id,
                    "approval": request_type.approval,
                    "approver_role": request_type.approver_role_id,
                    "is_active": request_type.is_active,
                    "seen": seen,
                },
            )
        else:
            kwargs.setdefault(
                "initial",
                {
                    "service": service.pk if service else None,
                    "kind": Ticket.Kind.REQUEST,
                    "approval": RequestType.Approval.NONE,
                },
            )
        super().__init__(*args, **kwargs)
        if request_type is not None:
            self.fields["is_active"] = forms.BooleanField(
                label=_("Active"),
                required=False,
                help_text=_("An inactive request type is no longer offered in the portal."),
            )
            self.fields["seen"] = forms.CharField(widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("approval") == RequestType.Approval.ROLE and not data.get("approver_role"):
            self.add_error(
                "approver_role", _("Choose the role whose holders approve the requests.")
            )
        return data


class FieldDefinitionForm(forms.Form):
    """One custom field of a request type (a row of the field table)."""

    name = forms.CharField(
        label=_("Technical name"),
        max_length=50,
        required=False,
        help_text=_("a–z, digits and _; stored with each ticket."),
    )
    label = forms.CharField(label=_("Label"), max_length=200, required=False)
    type = forms.ChoiceField(
        label=_("Type"),
        choices=[
            ("text", _("Short text")),
            ("textarea", _("Long text")),
            ("choice", _("Choice")),
            ("date", _("Date")),
            ("number", _("Number")),
        ],
        initial="text",
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    choices = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only for a choice: one option per line."),
    )
    help = forms.CharField(label=_("Help text"), max_length=300, required=False)

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(name) for name in ("name", "label", "choices", "help"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.is_blank() or data.get("DELETE"):
            return data
        try:
            data["definition"] = check_field_definition(self.spec(data))
        except ValidationFailed as error:
            field = error.field if error.field in self.fields else None
            self.add_error(field, str(error.message))
        return data

    @staticmethod
    def spec(data: dict[str, Any]) -> dict[str, Any]:
        choices = [line.strip() for line in (data.get("choices") or "").splitlines()]
        return {
            "name": data.get("name", ""),
            "label": data.get("label", ""),
            "type": data.get("type") or "text",
            "required": bool(data.get("required")),
            "choices": [choice for choice in choices if choice],
            "help": data.get("help", ""),
        }

    @staticmethod
    def initial_for(definition: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": definition.get("name", ""),
            "label": definition.get("label", ""),
            "type": definition.get("type", "text")
            if definition.get("type") in FIELD_TYPES
            else "text",
            "required": bool(definition.get("required")),
            "choices": "\n".join(str(choice) for choice in definition.get("choices") or []),
            "help": definition.get("help", ""),
        }


class BaseFieldDefinitionFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        names: set[str] = set()
        for form in self.forms:
            definition = form.cleaned_data.get("definition")
            if definition is None or form.cleaned_data.get("DELETE"):
                continue
            if definition["name"] in names:
                form.add_error(
                    "name",
                    _("The technical name “%(name)s” is used by another field.")
                    % {"name": definition["name"]},
                )
            names.add(definition["name"])

    def definitions(self) -> list[dict[str, Any]]:
        return [
            form.cleaned_data["definition"]
            for form in self.forms
            if "definition" in form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


FieldDefinitionFormSet = forms.formset_factory(
    FieldDefinitionForm,
    formset=BaseFieldDefinitionFormSet,
    extra=2,
    can_delete=True,
    max_num=30,
    validate_max=True,
)


def field_formset(
    data: Any = None, *, definitions: list[dict[str, Any]] | None = None
) -> BaseFieldDefinitionFormSet:
    initial = [FieldDefinitionForm.initial_for(d) for d in definitions or []]
    return FieldDefinitionFormSet(data, initial=initial, prefix="fields")
