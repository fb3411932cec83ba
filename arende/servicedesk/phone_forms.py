"""The switchboard's call form: who called, what about, log it or solve it on the spot."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from arende.core.models import Department, Organisation, User
from arende.servicedesk.models import Impact, Ticket, Urgency
from arende.servicedesk.portal_forms import ServiceDeskForm


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Department) -> str:
        return f"{obj.organisation} › {obj.name}"


class PhoneTicketForm(ServiceDeskForm):
    """Step 2 and 3 of a call. ``caller`` is a user the switchboard may see, or empty for an
    unknown caller, whose name or phone number and organisation are then asked for."""

    LOG = "log"
    SOLVE = "solve"

    caller = forms.ModelChoiceField(
        label=_("Caller"), queryset=User.objects.none(), required=False, widget=forms.HiddenInput
    )
    contact_name = forms.CharField(label=_("Caller's name"), max_length=200, required=False)
    contact_phone = forms.CharField(label=_("Phone number"), max_length=40, required=False)
    contact_email = forms.EmailField(label=_("E-mail"), required=False)
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none(), required=False
    )
    department = DepartmentChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("Don't know"),
    )
    title = forms.CharField(
        label=_("Short summary"),
        max_length=200,
        error_messages={"required": _("Write a short summary of the call.")},
    )
    description = forms.CharField(
        label=_("Details"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("If you solve it on the call, write what you did: the caller will see it."),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=Ticket.Kind.choices,
        initial=Ticket.Kind.INCIDENT,
        widget=forms.RadioSelect,
    )
    impact = forms.TypedChoiceField(
        label=_("How many are affected?"),
        choices=Impact.choices,
        coerce=int,
        initial=Impact.LOW,
    )
    urgency = forms.TypedChoiceField(
        label=_("How urgent?"),
        choices=Urgency.choices,
        coerce=int,
        initial=Urgency.MEDIUM,
    )
    action = forms.ChoiceField(
        choices=[(LOG, _("Log ticket")), (SOLVE, _("Solved on the call"))],
        initial=LOG,
        required=False,
    )

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.viewer = viewer
        self.fields["caller"].queryset = User.objects.visible_to(viewer).filter(is_active=True)
        organisations = Organisation.objects.visible_to(viewer).filter(is_active=True)
        self.fields["organisation"].queryset = organisations
        self.fields["department"].queryset = (
            Department.objects.visible_to(viewer)
            .filter(is_active=True, organisation__in=organisations)
            .select_related("organisation")
            .order_by("organisation__name", "name")
        )
        for name in ("department", "organisation", "contact_name", "contact_phone"):
            self.fields[name].hide_optional = True
        self.fields["organisation"].empty_label = _("Choose…")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        caller = data.get("caller")
        if caller is None:
            if not (data.get("contact_name") or data.get("contact_phone")):
                self.add_error(
                    "contact_name", _("Write the caller's name or phone number (or both).")
                )
            organisation = data.get("organisation")
            if organisation is None:
                self.add_error("organisation", _("Choose the caller's organisation."))
            department = data.get("department")
            if organisation and department and department.organisation_id != organisation.pk:
                self.add_error("department", _("The department belongs to another organisation."))
        target = caller if caller is not None else data.get("organisation")
        if target is not None and not self.viewer.has_perm("servicedesk.add_ticket", target):
            self.add_error(None, _("You cannot log tickets for this organisation."))
        if data.get("action") not in (self.LOG, self.SOLVE):
            data["action"] = self.LOG
        return data

    def ticket_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        arguments: dict[str, Any] = {
            "title": data["title"],
            "description": data.get("description", ""),
            "kind": data["kind"],
            "impact": data["impact"],
            "urgency": data["urgency"],
        }
        if data.get("caller") is not None:
            arguments["requester"] = data["caller"]
        else:
            arguments.update(
                contact_name=data.get("contact_name", ""),
                contact_phone=data.get("contact_phone", ""),
                contact_email=data.get("contact_email", ""),
                organisation=data["organisation"],
                department=data.get("department"),
            )
        return arguments
