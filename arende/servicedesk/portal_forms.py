"""Forms of the requester portal: report or order, reply, reopen, cancel, rate, approve.

The wording is for people who are not IT people: "How many are affected?" rather than
"impact", "Can you work?" rather than "urgency".
"""

from __future__ import annotations

import decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from arende.core.errors import ValidationFailed
from arende.servicedesk.attachments import ACCEPT_ATTRIBUTE, ALLOWED_DESCRIPTION, check_upload
from arende.servicedesk.models import Impact, RequestType, Service, Ticket, Urgency

CUSTOM_PREFIX = "cf_"

IMPACT_CHOICES = [
    (str(Impact.LOW), _("Only me")),
    (str(Impact.MEDIUM), _("Several people, for example my team or my unit")),
    (str(Impact.HIGH), _("Many people, for example a whole workplace or department")),
]
URGENCY_CHOICES = [
    (str(Urgency.LOW), _("Yes, it can wait a while")),
    (str(Urgency.MEDIUM), _("Yes, but it is hard")),
    (str(Urgency.HIGH), _("No, my work has stopped")),
]
SCORE_CHOICES = [
    ("5", _("5 – Very satisfied")),
    ("4", _("4 – Satisfied")),
    ("3", _("3 – Neither satisfied nor dissatisfied")),
    ("2", _("2 – Dissatisfied")),
    ("1", _("1 – Very dissatisfied")),
]


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; each is checked against the attachment rules."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT_ATTRIBUTE}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data]
        files = [item for item in files if item]
        errors: list[ValidationError] = []
        for item in files:
            try:
                check_upload(item)
            except ValidationFailed as error:
                errors.append(ValidationError(error.message))
        if errors:
            errors.append(
                ValidationError(
                    _(
                        "Nothing has been sent yet. Choose the files again (leave out the ones "
                        "that were refused) and send."
                    )
                )
            )
            raise ValidationError(errors)
        return files


def attachment_field() -> MultipleFileField:
    return MultipleFileField(
        label=_("Attach files"),
        help_text=_("For example a screenshot. At most 10 MB a file. You can attach %(types)s.")
        % {"types": ALLOWED_DESCRIPTION},
    )


class ServiceDeskForm(forms.Form):
    """Shows a domain error from a service on the field it names."""

    def add_domain_error(self, error: ValidationFailed) -> None:
        field = error.field
        if field and f"{CUSTOM_PREFIX}{field}" in self.fields:
            field = f"{CUSTOM_PREFIX}{field}"
        if field not in self.fields:
            field = None
        self.add_error(field, error.message)


def _custom_field(spec: dict[str, Any]) -> forms.Field:
    label = spec.get("label") or spec["name"]
    required = bool(spec.get("required"))
    options: dict[str, Any] = {
        "label": label,
        "required": required,
        "help_text": spec.get("help", ""),
        "error_messages": {"required": _("Fill in “%(label)s”.") % {"label": label}},
    }
    kind = spec.get("type", "text")
    if kind == "textarea":
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), **options)
    if kind == "choice":
        choices = [(str(choice), str(choice)) for choice in spec.get("choices", [])]
        if len(choices) <= 5:
            return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **options)
        return forms.ChoiceField(choices=[("", _("Choose…")), *choices], **options)
    if kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **options)
    if kind == "number":
        return forms.DecimalField(
            widget=forms.NumberInput(attrs={"inputmode": "decimal"}), **options
        )
    return forms.CharField(max_length=500, **options)


def _json_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else str(value.normalize())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class PortalTicketForm(ServiceDeskForm):
    """Report a problem, or order/ask for something through a request type with own fields."""

    title = forms.CharField(
        label=_("Short summary"),
        max_length=200,
        error_messages={"required": _("Write a short summary.")},
    )
    description = forms.CharField(
        label=_("Describe it in your own words"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    impact = forms.ChoiceField(
        label=_("How many are affected?"),
        choices=IMPACT_CHOICES,
        widget=forms.RadioSelect,
        initial=str(Impact.LOW),
    )
    urgency = forms.ChoiceField(
        label=_("Can you work?"),
        choices=URGENCY_CHOICES,
        widget=forms.RadioSelect,
        initial=str(Urgency.MEDIUM),
    )

    def __init__(
        self,
        *args: Any,
        request_type: RequestType | None = None,
        service: Service | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.request_type = request_type
        if request_type is None:
            self.fields["title"].label = _("What is the problem? Write a short summary")
            self.fields["title"].help_text = _(
                "For example: “The printer on floor 2 does not print”."
            )
            self.fields["description"].label = _("What happened?")
            self.fields["description"].help_text = _(
                "What were you doing, what did you expect, and what happened instead? "
                "Copy any error message."
            )
            self.fields["description"].required = True
            self.fields["description"].error_messages["required"] = _("Tell us what happened.")
            self.fields["service"] = forms.ModelChoiceField(
                label=_("Which service is it about?"),
                queryset=Service.objects.filter(is_public=True, is_active=True),
                required=False,
                empty_label=_("I don't know"),
                initial=service,
            )
        else:
            self.initial.setdefault("title", request_type.name)
            self.fields["description"].label = _("Anything else we should know?")
            for spec in request_type.fields or []:
                if spec.get("name"):
                    self.fields[f"{CUSTOM_PREFIX}{spec['name']}"] = _custom_field(spec)
        self.fields["attachments"] = attachment_field()
        order = ["title"]
        order += [name for name in self.fields if name.startswith(CUSTOM_PREFIX)]
        order += ["service", "description", "impact", "urgency", "attachments"]
        self.order_fields(order)

    @property
    def custom_field_names(self) -> list[str]:
        return [name for name in self.fields if name.startswith(CUSTOM_PREFIX)]

    def custom_values(self) -> dict[str, Any]:
        return {
            name[len(CUSTOM_PREFIX) :]: _json_value(self.cleaned_data.get(name))
            for name in self.custom_field_names
        }

    def ticket_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        arguments: dict[str, Any] = {
            "title": data["title"],
            "description": data.get("description", ""),
            "impact": int(data["impact"]),
            "urgency": int(data["urgency"]),
        }
        if self.request_type is not None:
            arguments["request_type"] = self.request_type
            arguments["custom_fields"] = self.custom_values()
        else:
            arguments["kind"] = Ticket.Kind.INCIDENT
            arguments["service"] = data.get("service")
        return arguments


class ReplyForm(ServiceDeskForm):
    body = forms.CharField(
        label=_("Your message"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write a message.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"] = attachment_field()


class ReopenForm(ServiceDeskForm):
    reason = forms.CharField(
        label=_("What is still not working?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Tell us what is still not working.")},
    )


class CancelForm(ServiceDeskForm):
    reason = forms.CharField(
        label=_("Why?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class RatingForm(ServiceDeskForm):
    score = forms.ChoiceField(
        label=_("How satisfied are you with the help you got?"),
        choices=SCORE_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a rating from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ApprovalForm(ServiceDeskForm):
    comment = forms.CharField(
        label=_("Comment (required if you say no)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["comment"].hide_optional = True

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("comment") or "").strip():
            self.add_error("comment", _("Say why you turn the request down."))
        return data
