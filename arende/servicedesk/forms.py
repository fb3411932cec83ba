"""Forms of the agent workspace: the ticket page's actions, bulk actions and saved views.

Forms only parse and check input; the services decide. Every action form carries the version
of the ticket it was shown for, so that a stale edit is refused instead of overwriting.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from arende.core.errors import DomainError
from arende.core.html import esc
from arende.core.models import User
from arende.servicedesk.choices import (
    active_groups,
    group_choices,
    group_members,
    member_choices,
)
from arende.servicedesk.models import Category, Service, SupportGroup, Ticket, TicketLink
from arende.servicedesk.services.tickets import MANUAL_TRANSITIONS

Status = Ticket.Status


def _attrs(attrs: dict) -> str:
    """``django/forms/widgets/attrs.html``: in order; True alone, False left out."""
    parts = []
    for name, value in attrs.items():
        if value is True:
            parts.append(f" {esc(name)}")
        elif value is not False:
            parts.append(f' {esc(name)}="{esc(value)}"')
    return "".join(parts)


class FastSelect(forms.Select):
    """Django's ``<select>``, written in Python instead of one template include per option.

    The markup is the same as ``django/forms/widgets/select.html`` (attributes, optgroups, the
    selected option), the cost a fraction: the queue and ticket pages render a dozen selects
    with up to a hundred options each, and the per-option templates (and the option
    dictionaries built for them) were most of their time. The choices are read directly, as
    ``ChoiceWidget.optgroups`` reads them.
    """

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        final_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            final_attrs["multiple"] = True
        values = set(self.format_value(value))
        has_selected = False
        parts = [f'<select name="{esc(name)}"{_attrs(final_attrs)}>']
        for group_value, group_label in self.choices:
            if isinstance(group_label, (list, tuple)):
                parts.append(f'<optgroup label="{esc(group_value)}">')
                options = group_label
            else:
                options = [(group_value, group_label)]
            for option_value, option_label in options:
                option_value = "" if option_value is None else str(option_value)
                selected = (
                    not has_selected or self.allow_multiple_selected
                ) and option_value in values
                has_selected |= selected
                parts.append(
                    f'<option value="{esc(option_value)}"{" selected" if selected else ""}>'
                    f"{esc(option_label)}</option>"
                )
            if isinstance(group_label, (list, tuple)):
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


class _FastInput:
    """``django/forms/widgets/input.html`` in Python (text, hidden, e-mail, number, date…)."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        value_attr = ""
        if widget["value"] is not None:
            value_attr = f' value="{esc(widget["value"])}"'
        return mark_safe(  # noqa: S308 - every value is escaped
            f'<input type="{esc(widget["type"])}" name="{esc(widget["name"])}"'
            f"{value_attr}{_attrs(widget['attrs'])}>"
        )


class FastTextarea(forms.Textarea):
    """``django/forms/widgets/textarea.html`` in Python."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        return mark_safe(  # noqa: S308 - every value is escaped
            f'<textarea name="{esc(widget["name"])}"{_attrs(widget["attrs"])}>\n'
            f"{esc(widget['value'] or '')}</textarea>"
        )


_FAST_WIDGETS: dict[type, type] = {forms.Select: FastSelect, forms.Textarea: FastTextarea}
for _input in (forms.TextInput, forms.HiddenInput, forms.EmailInput, forms.NumberInput):
    _FAST_WIDGETS[_input] = type(f"Fast{_input.__name__}", (_FastInput, _input), {})
for _input in (forms.DateInput,):
    _FAST_WIDGETS[_input] = type(f"Fast{_input.__name__}", (_FastInput, _input), {})


def use_fast_selects(form: forms.BaseForm) -> None:
    """Render the form's plain widgets (select, input, textarea) in Python: same HTML.

    Only widgets of exactly these Django classes are switched (the subclass adds nothing but
    ``render``); anything custom keeps its template.
    """
    for field in form.fields.values():
        fast = _FAST_WIDGETS.get(type(field.widget))
        if fast is not None:
            field.widget.__class__ = fast


class _PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.email


def _offer(field: forms.ModelChoiceField, choices: list[tuple[int, str]]) -> None:
    """Show ``choices`` (cached lists, see ``servicedesk.choices``); the field's queryset still
    checks what is submitted."""
    empty = [] if field.empty_label is None else [("", field.empty_label)]
    field.choices = [*empty, *choices]


def _group_field(field: forms.ModelChoiceField, line: int | None = None) -> None:
    field.queryset = active_groups(line)
    _offer(field, group_choices(line))


def _member_field(field: forms.ModelChoiceField, line: int | None = None) -> None:
    field.queryset = group_members(line)
    _offer(field, member_choices(line))


def apply_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal next to the field it names (or above the form)."""
    field = getattr(form, "field_aliases", {}).get(error.field, error.field)
    form.add_error(field if field in form.fields else None, str(error.message))


class TicketActionForm(forms.Form):
    """Base of every form on the ticket page: knows its ticket and carries its version."""

    action: str = ""
    field_aliases: dict[str, str] = {}

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, ticket: Ticket, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_{self.action}_%s")
        initial = {"version": ticket.version, **self.initial_for(ticket)}
        initial.update(kwargs.pop("initial", None) or {})
        super().__init__(*args, initial=initial, **kwargs)
        self.ticket = ticket
        self.user = user
        use_fast_selects(self)

    def initial_for(self, ticket: Ticket) -> dict[str, Any]:
        return {}

    def rebased(self, ticket: Ticket) -> TicketActionForm:
        """The same input on top of the ticket as it is now (after a stale edit)."""
        data = self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)
        data["version"] = str(ticket.version)
        return type(self)(data, ticket=ticket, user=self.user)


class ReplyForm(TicketActionForm):
    action = "reply"
    body = forms.CharField(
        label=_("Reply to the requester"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Public: the requester sees this reply."),
    )


class NoteForm(TicketActionForm):
    action = "note"
    body = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Internal: only the IT unit sees this note."),
    )


class TakeForm(TicketActionForm):
    action = "take"


class AssignForm(TicketActionForm):
    action = "assign"
    group = forms.ModelChoiceField(label=_("Group"), queryset=SupportGroup.objects.none())
    assignee = _PersonChoiceField(
        label=_("Assignee"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody (the group)"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _group_field(self.fields["group"], self.ticket.line)
        _member_field(self.fields["assignee"], self.ticket.line)

    def initial_for(self, ticket: Ticket) -> dict[str, Any]:
        return {"group": ticket.group_id, "assignee": ticket.assignee_id}


class EscalateForm(TicketActionForm):
    action = "escalate"
    group = forms.ModelChoiceField(
        label=_("Second-line group"), queryset=SupportGroup.objects.none()
    )
    assignee = _PersonChoiceField(
        label=_("Assignee"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody (the group)"),
    )
    reason = forms.CharField(
        label=_("Reason for escalating"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What has been tried, and why first line cannot solve it."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _group_field(self.fields["group"], 2)
        _member_field(self.fields["assignee"], 2)


class HandBackForm(TicketActionForm):
    action = "hand_back"
    group = forms.ModelChoiceField(
        label=_("First-line group"),
        queryset=SupportGroup.objects.none(),
        required=False,
        empty_label=_("The service desk"),
    )
    reason = forms.CharField(
        label=_("Reason for handing back"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _group_field(self.fields["group"], 1)


class StatusForm(TicketActionForm):
    action = "status"
    status = forms.ChoiceField(label=_("New status"), choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = MANUAL_TRANSITIONS.get(self.ticket.status, set())
        self.fields["status"].choices = [
            (value, label) for value, label in Status.choices if value in allowed
        ]


class ResolveForm(TicketActionForm):
    action = "resolve"
    resolution = forms.CharField(
        label=_("Resolution"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The requester sees this text."),
    )


class ReopenForm(TicketActionForm):
    action = "reopen"
    reason = forms.CharField(
        label=_("Reason for reopening"), widget=forms.Textarea(attrs={"rows": 2})
    )


class CancelForm(TicketActionForm):
    action = "cancel"
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The requester sees this text."),
    )


class EditForm(TicketActionForm):
    """The descriptive fields. Only the fields the user changed are sent to the service."""

    action = "edit"
    title = forms.CharField(label=_("Title"), max_length=200, show_hidden_initial=True)
    kind = forms.ChoiceField(label=_("Kind"), choices=Ticket.Kind.choices, show_hidden_initial=True)
    impact = forms.TypedChoiceField(
        label=_("Impact"),
        choices=Ticket._meta.get_field("impact").choices,
        coerce=int,
        show_hidden_initial=True,
    )
    urgency = forms.TypedChoiceField(
        label=_("Urgency"),
        choices=Ticket._meta.get_field("urgency").choices,
        coerce=int,
        show_hidden_initial=True,
    )
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Service.objects.none(),
        required=False,
        show_hidden_initial=True,
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        required=False,
        show_hidden_initial=True,
    )
    EDITABLE = ("title", "kind", "impact", "urgency", "service", "category")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(is_active=True)
        self.fields["category"].queryset = Category.objects.filter(is_active=True).select_related(
            "parent__parent"
        )

    def initial_for(self, ticket: Ticket) -> dict[str, Any]:
        return {
            "title": ticket.title,
            "kind": ticket.kind,
            "impact": ticket.impact,
            "urgency": ticket.urgency,
            "service": ticket.service_id,
            "category": ticket.category_id,
        }

    def changes(self) -> dict[str, Any]:
        """The fields the user changed compared with what the page showed them."""
        return {
            name: self.cleaned_data[name] for name in self.changed_data if name in self.EDITABLE
        }

    def rebased(self, ticket: Ticket) -> TicketActionForm:
        # Keep what the user changed, take everything else from the ticket as it is now, so
        # that sending the form again cannot undo someone else's change unseen.
        changed = set(self.changed_data)
        current = self.initial_for(ticket)
        data = self.data.copy()
        for name in self.EDITABLE:
            value = "" if current[name] is None else str(current[name])
            data[self[name].html_initial_name] = value
            if name not in changed:
                data[self.add_prefix(name)] = value
        data["version"] = str(ticket.version)
        return type(self)(data, ticket=ticket, user=self.user)


class LinkForm(TicketActionForm):
    action = "link"
    field_aliases = {"target": "reference"}
    kind = forms.ChoiceField(label=_("Relation"), choices=TicketLink.Kind.choices)
    reference = forms.CharField(
        label=_("Other ticket"),
        max_length=20,
        help_text=_("Its reference, e.g. 2026-000123."),
    )


class MergeForm(TicketActionForm):
    action = "merge"
    field_aliases = {"target": "reference", "source": None}
    reference = forms.CharField(
        label=_("Merge into ticket"),
        max_length=20,
        help_text=_("This ticket is cancelled as a duplicate; its requester watches the other."),
    )


class ParentForm(TicketActionForm):
    action = "parent"
    field_aliases = {"parent": "reference"}
    reference = forms.CharField(
        label=_("Parent ticket"),
        max_length=20,
        required=False,
        help_text=_("Its reference, e.g. 2026-000123. Leave empty to remove the parent."),
    )


class WatchForm(TicketActionForm):
    action = "watch"
    field_aliases = {"user": "email"}
    email = forms.EmailField(label=_("E-mail address of the person"))
    remove = forms.BooleanField(label=_("Stop following instead"), required=False)


ACTION_FORMS: dict[str, type[TicketActionForm]] = {
    form.action: form
    for form in (
        ReplyForm,
        NoteForm,
        TakeForm,
        AssignForm,
        EscalateForm,
        HandBackForm,
        StatusForm,
        ResolveForm,
        ReopenForm,
        CancelForm,
        EditForm,
        LinkForm,
        MergeForm,
        ParentForm,
        WatchForm,
    )
}


# The queue page --------------------------------------------------------------------------------


class BulkForm(forms.Form):
    """An action on the selected rows. Each row is sent as ``pk:version``."""

    ASSIGN, STATUS = "assign", "status"

    tickets = forms.MultipleChoiceField(label=_("Tickets"), choices=(), required=True)
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[(ASSIGN, _("Assign")), (STATUS, _("Set status"))],
    )
    group = forms.ModelChoiceField(
        label=_("Group"),
        queryset=SupportGroup.objects.none(),
        required=False,
        empty_label=_("Keep the group"),
    )
    assignee = _PersonChoiceField(
        label=_("Assignee"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody (the group)"),
    )
    status = forms.ChoiceField(label=_("Status"), choices=(), required=False)
    query = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_bulk_%s")
        super().__init__(*args, **kwargs)
        _group_field(self.fields["group"])
        _member_field(self.fields["assignee"])
        manual = set().union(*MANUAL_TRANSITIONS.values())
        self.fields["status"].choices = [("", _("Choose a status"))] + [
            (value, label) for value, label in Status.choices if value in manual
        ]
        use_fast_selects(self)

    def clean_tickets(self) -> list[tuple[int, int]]:
        rows = []
        for value in self.data.getlist(self.add_prefix("tickets")):
            pk, _sep, version = str(value).partition(":")
            if not (pk.isdigit() and version.isdigit()):
                raise forms.ValidationError(_("Select the tickets again."))
            rows.append((int(pk), int(version)))
        if not rows:
            raise forms.ValidationError(_("Select at least one ticket."))
        return rows

    def full_clean(self) -> None:
        # The rows are free values (pk:version), not fixed choices.
        self.fields["tickets"].choices = [
            (value, value) for value in self.data.getlist(self.add_prefix("tickets"))
        ]
        super().full_clean()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") == self.STATUS and not data.get("status"):
            self.add_error("status", _("Choose the new status."))
        if data.get("action") == self.ASSIGN and not data.get("group") and not data.get("assignee"):
            self.add_error("group", _("Choose a group or an assignee."))
        return data


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name of the view"), max_length=100)
    query = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_view_%s")
        super().__init__(*args, **kwargs)
        use_fast_selects(self)
