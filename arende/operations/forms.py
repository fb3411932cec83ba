"""Forms of the operations pages. They parse and check input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arende.core.errors import DomainError
from arende.core.models import Organisation, RoleAssignment, User
from arende.operations.models import (
    Change,
    ChangeTemplate,
    MajorIncident,
    TimelineEntry,
)
from arende.operations.services.changes import RISK_QUESTIONS
from arende.servicedesk.models import Service

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


def datetime_field(label: Any, *, required: bool = True, **kwargs: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=DateTimeInput(),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        **kwargs,
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.email


def it_staff() -> Any:
    """People of the IT unit: those with an IT-staff role for all organisations."""
    return User.objects.filter(
        is_active=True,
        pk__in=RoleAssignment.objects.filter(
            organisation__isnull=True, role__is_it_staff=True
        ).values("user_id"),
    ).order_by("first_name", "last_name", "pk")


def services() -> Any:
    return Service.objects.filter(is_active=True).order_by("name")


def organisations_for(user: User) -> Any:
    """The organisations the user can see, without the joint board (the IT unit itself)."""
    return (
        Organisation.objects.visible_to(user)
        .filter(is_active=True)
        .exclude(kind=Organisation.Kind.JOINT_BOARD)
        .order_by("name")
    )


def apply_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal next to the field it names (or above the form)."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))


class OpsForm(forms.Form):
    """Every form here gets its own id prefix, so that several fit on one page."""

    prefix_name = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self.prefix_name:
            kwargs.setdefault("auto_id", f"id_{self.prefix_name}_%s")
        super().__init__(*args, **kwargs)


class VersionedForm(OpsForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)


# Major incidents -------------------------------------------------------------------------------


class IncidentForm(VersionedForm):
    prefix_name = "incident"
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Internal description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    services = forms.ModelMultipleChoiceField(
        label=_("Affected services"), queryset=Service.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    organisations = forms.ModelMultipleChoiceField(
        label=_("Affected organisations"), queryset=Organisation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    severity = forms.TypedChoiceField(
        label=_("Severity"), choices=MajorIncident.Severity.choices, coerce=int, initial=2
    )
    impact = forms.ChoiceField(label=_("Impact"), choices=MajorIncident.Impact.choices)
    lead = PersonChoiceField(label=_("Incident lead"), queryset=User.objects.none(), required=False)
    started_at = datetime_field(_("Started"), required=False)
    detected_at = datetime_field(_("Detected"), required=False)
    public_title = forms.CharField(
        label=_("Public title"),
        max_length=200,
        required=False,
        help_text=_("Shown on the public status page. Leave empty to keep it off the page."),
    )
    public_summary = forms.CharField(
        label=_("Public summary"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Plain words for everyone: what does not work, and for whom."),
    )
    is_security = forms.BooleanField(label=_("Security incident"), required=False)
    security_type = forms.ChoiceField(
        label=_("Kind of security incident"),
        choices=MajorIncident.SecurityType.choices,
        required=False,
    )
    attack_source = forms.CharField(label=_("Attack source"), max_length=200, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = services()
        self.fields["organisations"].queryset = organisations_for(user)
        self.fields["lead"].queryset = it_staff()


class DeclareForm(IncidentForm):
    prefix_name = "declare"
    parent_ticket = forms.CharField(
        label=_("From ticket"),
        required=False,
        max_length=20,
        help_text=_("Reference of the first ticket, e.g. 2021-000123. It becomes the parent."),
    )
    field_order = ["parent_ticket", "title"]


class EditIncidentForm(IncidentForm):
    prefix_name = "edit"
    caused_by_change = forms.ModelChoiceField(
        label=_("Caused by change"), queryset=Change.objects.none(), required=False
    )
    reported_to_authority = forms.BooleanField(
        label=_("Reported to the authority (MSB/IMY)"), required=False
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["caused_by_change"].queryset = Change.objects.visible_to(user).order_by(
            "-planned_start"
        )
        self.fields["started_at"].required = True
        self.fields["detected_at"].required = True


class TimelineForm(OpsForm):
    prefix_name = "entry"
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(k.value, k.label) for k in TimelineEntry.Kind if k != TimelineEntry.Kind.STATUS],
    )
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}))
    is_public = forms.BooleanField(
        label=_("Public: show on the status page"),
        required=False,
        help_text=_("Internal entries are never shown outside the IT unit."),
    )


class IncidentStatusForm(VersionedForm):
    prefix_name = "status"
    status = forms.ChoiceField(label=_("New status"), choices=())
    message = forms.CharField(
        label=_("Public update"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown on the status page when written."),
    )

    def __init__(self, *args: Any, incident: MajorIncident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from arende.operations.services.incidents import FORWARD

        allowed = FORWARD.get(incident.status, set())
        self.fields["status"].choices = [
            (value, label) for value, label in MajorIncident.Status.choices if value in allowed
        ]


class ReferenceForm(OpsForm):
    prefix_name = "link"
    reference = forms.CharField(
        label=_("Ticket reference"), max_length=20, help_text=_("For example 2021-000123.")
    )


class ResolveForm(VersionedForm):
    prefix_name = "resolve"
    resolution = forms.CharField(
        label=_("Resolution"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent once to everyone whose ticket is linked."),
    )
    public_message = forms.CharField(
        label=_("Public update"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown on the status page when written."),
    )


class ReviewForm(VersionedForm):
    prefix_name = "review"
    cause = forms.CharField(
        label=_("Cause"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    what_worked = forms.CharField(
        label=_("What worked"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    what_to_improve = forms.CharField(
        label=_("What to improve"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReviewActionForm(OpsForm):
    prefix_name = "action"
    description = forms.CharField(label=_("Action"), max_length=300)
    owner = PersonChoiceField(label=_("Owner"), queryset=User.objects.none())
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = it_staff()


# Problems --------------------------------------------------------------------------------------


class ProblemForm(VersionedForm):
    prefix_name = "problem"
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    organisations = forms.ModelMultipleChoiceField(
        label=_("Organisations"), queryset=Organisation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    services = forms.ModelMultipleChoiceField(
        label=_("Services"), queryset=Service.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    owner = PersonChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisations"].queryset = organisations_for(user)
        self.fields["services"].queryset = services()
        self.fields["owner"].queryset = it_staff()


class KnownErrorForm(VersionedForm):
    prefix_name = "known"
    root_cause = forms.CharField(label=_("Root cause"), widget=forms.Textarea(attrs={"rows": 3}))
    workaround = forms.CharField(label=_("Workaround"), widget=forms.Textarea(attrs={"rows": 3}))


# Changes ---------------------------------------------------------------------------------------


class ChangeForm(OpsForm):
    prefix_name = "change"
    title = forms.CharField(label=_("Title"), max_length=200)
    type = forms.ChoiceField(label=_("Type"), choices=Change.Type.choices, initial="normal")
    template = forms.ModelChoiceField(
        label=_("Standard change template"),
        queryset=ChangeTemplate.objects.filter(is_active=True),
        required=False,
        help_text=_("Only for a standard change."),
    )
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
    services = forms.ModelMultipleChoiceField(
        label=_("Affected services"), queryset=Service.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    organisations = forms.ModelMultipleChoiceField(
        label=_("Affected organisations"), queryset=Organisation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    systems = forms.CharField(
        label=_("Affected systems"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One system per line."),
    )
    planned_start = datetime_field(_("Planned start"))
    planned_end = datetime_field(_("Planned end"))
    implementation_plan = forms.CharField(
        label=_("Implementation plan"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    backout_plan = forms.CharField(
        label=_("Backout plan"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    implementer = PersonChoiceField(
        label=_("Implementer"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = services()
        self.fields["organisations"].queryset = organisations_for(user)
        self.fields["implementer"].queryset = it_staff()
        for question in RISK_QUESTIONS:
            self.fields[f"risk_{question.key}"] = forms.BooleanField(
                label=question.text, required=False
            )

    def risk_fields(self) -> list[forms.BoundField]:
        return [self[f"risk_{question.key}"] for question in RISK_QUESTIONS]

    def plain_fields(self) -> list[forms.BoundField]:
        return [field for field in self if not field.name.startswith("risk_")]

    def risk_answers(self) -> dict[str, bool]:
        return {q.key: bool(self.cleaned_data.get(f"risk_{q.key}")) for q in RISK_QUESTIONS}


class ChangeEditForm(ChangeForm):
    """The request for change as it stands, to edit before the work starts."""

    prefix_name = "edit"
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)

    def __init__(self, *args: Any, user: User, change: Change | None = None, **kwargs: Any) -> None:
        if change is not None and not args:
            initial = {
                name: getattr(change, name)
                for name in (
                    "title", "description", "reason", "systems", "planned_start", "planned_end",
                    "implementation_plan", "backout_plan",
                )
            }  # fmt: skip
            initial["version"] = change.version
            initial["implementer"] = change.implementer_id
            initial["services"] = [service.pk for service in change.services.all()]
            for key, value in (change.risk_answers or {}).items():
                initial[f"risk_{key}"] = value
            kwargs["initial"] = initial
        super().__init__(*args, user=user, **kwargs)
        for name in ("type", "template", "organisations"):
            del self.fields[name]
        self.fields["services"].required = True
        if change is not None and change.type == Change.Type.STANDARD:
            for question in RISK_QUESTIONS:
                del self.fields[f"risk_{question.key}"]

    def risk_answers(self) -> dict[str, bool] | None:
        if not any(name.startswith("risk_") for name in self.fields):
            return None
        return super().risk_answers()


class DecisionForm(OpsForm):
    prefix_name = "decision"
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when rejecting."),
    )


class ImplementForm(VersionedForm):
    prefix_name = "implement"
    actual_start = datetime_field(_("Actual start"), required=False)
    actual_end = datetime_field(_("Actual end"))
    notes = forms.CharField(
        label=_("Implementation notes"), widget=forms.Textarea(attrs={"rows": 3})
    )


class ChangeReviewForm(VersionedForm):
    prefix_name = "pir"
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[c for c in Change.Outcome.choices if c[0]],
        widget=forms.RadioSelect,
    )
    incidents = forms.ModelMultipleChoiceField(
        label=_("Major incidents caused by the change"),
        queryset=MajorIncident.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(
        label=_("Review notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, user: User, change: Change, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        since = change.actual_start or change.planned_start
        self.fields["incidents"].queryset = (
            MajorIncident.objects.visible_to(user)
            .filter(Q(started_at__gte=since) | Q(caused_by_change=change))
            .order_by("started_at")
        )


class CancelForm(VersionedForm):
    prefix_name = "cancel"
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


# Planned maintenance ---------------------------------------------------------------------------


class MaintenanceForm(OpsForm):
    prefix_name = "maintenance"
    title = forms.CharField(label=_("Title"), max_length=200)
    public_description = forms.CharField(
        label=_("Public description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown on the public status page."),
    )
    internal_note = forms.CharField(
        label=_("Internal note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    services = forms.ModelMultipleChoiceField(
        label=_("Services"), queryset=Service.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    organisations = forms.ModelMultipleChoiceField(
        label=_("Organisations"), queryset=Organisation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    starts_at = datetime_field(_("Starts"))
    ends_at = datetime_field(_("Ends"))
    is_public = forms.BooleanField(label=_("Show on the status page"), required=False, initial=True)
    change = forms.ModelChoiceField(
        label=_("Change"), queryset=Change.objects.none(), required=False
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = services()
        self.fields["organisations"].queryset = organisations_for(user)
        self.fields["change"].queryset = Change.objects.visible_to(user).order_by("-planned_start")


class ProblemLinkForm(ReferenceForm):
    prefix_name = "plink"
