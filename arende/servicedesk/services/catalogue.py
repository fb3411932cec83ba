"""Service catalogue services: create and edit services and request types, deactivate them.

The catalogue is shared by every organisation the IT unit serves, so only someone who holds
the catalogue permission for all organisations (the IT manager, the administrator) may change
it. Services carry a version; request types do not (no migration for them), so an edit of a
request type names the values its editor saw, and it is refused when any of them has changed
since: the same optimistic check, with what changed in the refusal.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from arende.core.access import scope_for
from arende.core.audit import audit_record, audit_value, diff
from arende.core.errors import StaleEdit, ValidationFailed
from arende.core.models import Role, User
from arende.core.versioning import audited_create, raise_validation, versioned_update
from arende.servicedesk.models import Category, RequestType, Service, SupportGroup, Ticket

CATALOGUE_PERM = "servicedesk.change_service"
SERVICE_FIELDS = ("name", "description", "owner", "default_group", "is_public", "is_active")
REQUEST_TYPE_FIELDS = (
    "service",
    "name",
    "description",
    "kind",
    "category",
    "fields",
    "approval",
    "approver_role",
    "is_active",
)
FIELD_TYPES = ("text", "textarea", "choice", "date", "number")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
MAX_FIELDS = 30


def may_edit_catalogue(user: Any) -> bool:
    """The catalogue permission held for every organisation (not just one municipality)."""
    return bool(
        user is not None
        and user.is_authenticated
        and scope_for(user, CATALOGUE_PERM).all_organisations
    )


def _require_editor(actor: User | None) -> None:
    if actor is not None and not may_edit_catalogue(actor):
        raise ValidationFailed(
            _("Only the IT manager or an administrator may change the service catalogue."),
            code="forbidden",
        )


# Services --------------------------------------------------------------------------------------


@transaction.atomic
def service_create(
    *,
    actor: User | None,
    name: str,
    description: str = "",
    owner: User | None = None,
    default_group: SupportGroup | None = None,
    is_public: bool = True,
) -> Service:
    _require_editor(actor)
    service = Service(
        name=name.strip(),
        description=description.strip(),
        owner=owner,
        default_group=default_group,
        is_public=is_public,
    )
    return audited_create(actor=actor, instance=service, fields=SERVICE_FIELDS)


def service_update(
    *, actor: User | None, service: Service, version: int, **changes: Any
) -> Service:
    """Edit a service as it was at ``version``; ``is_active=False`` deactivates it."""
    _require_editor(actor)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    return versioned_update(
        actor=actor, instance=service, version=version, changes=changes, allowed=SERVICE_FIELDS
    )


# Request types ---------------------------------------------------------------------------------


def check_field_definition(spec: Any) -> dict[str, Any]:
    """One custom field of a request type, checked and normalised; a refusal names the part
    that is wrong (``name``, ``label``, ``type`` or ``choices``).

    A field is ``{"name", "label", "type", "required"}``, with ``"choices"`` (two or more) for
    a choice and an optional ``"help"``; the portal builds its form from these.
    """
    if not isinstance(spec, dict):
        raise ValidationFailed(_("This is not a field definition."))
    name = str(spec.get("name") or "").strip()
    label = str(spec.get("label") or "").strip()
    kind = str(spec.get("type") or "text").strip()
    if not FIELD_NAME.fullmatch(name):
        raise ValidationFailed(
            _(
                "The technical name must start with a letter a–z and hold only a–z, digits and "
                "_ (at most 50 characters)."
            ),
            field="name",
        )
    if not label:
        raise ValidationFailed(
            _("Give the field a label (the question the requester sees)."), field="label"
        )
    if len(label) > 200:
        raise ValidationFailed(_("The label is longer than 200 characters."), field="label")
    if kind not in FIELD_TYPES:
        raise ValidationFailed(
            _("The type must be one of text, textarea, choice, date or number."), field="type"
        )
    field: dict[str, Any] = {
        "name": name,
        "label": label,
        "type": kind,
        "required": bool(spec.get("required")),
    }
    help_text = str(spec.get("help") or "").strip()
    if help_text:
        field["help"] = help_text
    choices = spec.get("choices") or []
    if kind == "choice":
        if not isinstance(choices, list):
            raise ValidationFailed(_("The options must be a list."), field="choices")
        choices = [str(choice).strip() for choice in choices if str(choice).strip()]
        if len(choices) < 2:
            raise ValidationFailed(_("A choice needs at least two options."), field="choices")
        if len(set(choices)) != len(choices):
            raise ValidationFailed(_("An option is given twice."), field="choices")
        field["choices"] = choices
    elif choices:
        raise ValidationFailed(_("Only a field of the type choice has options."), field="choices")
    return field


def validate_field_definitions(definitions: Any) -> list[dict[str, Any]]:
    """The custom fields of a request type, checked and normalised (see
    ``check_field_definition``); a refusal says which field, by its number, is wrong."""
    if not isinstance(definitions, list):
        raise ValidationFailed(_("The fields must be a list."), field="fields")
    if len(definitions) > MAX_FIELDS:
        raise ValidationFailed(
            _("A request type can have at most %(count)d fields.") % {"count": MAX_FIELDS},
            field="fields",
        )
    cleaned: list[dict[str, Any]] = []
    for number, spec in enumerate(definitions, start=1):
        try:
            field = check_field_definition(spec)
        except ValidationFailed as error:
            raise ValidationFailed(
                _("Field %(number)d: %(problem)s") % {"number": number, "problem": error.message},
                field="fields",
            ) from None
        if any(other["name"] == field["name"] for other in cleaned):
            raise ValidationFailed(
                _("Field %(number)d: the technical name “%(name)s” is used twice.")
                % {"number": number, "name": field["name"]},
                field="fields",
            )
        cleaned.append(field)
    return cleaned


def _check_request_type(request_type: RequestType) -> None:
    if request_type.kind not in Ticket.Kind.values:
        raise ValidationFailed(_("Choose a ticket kind."), field="kind")
    if request_type.approval == RequestType.Approval.ROLE:
        if request_type.approver_role_id is None:
            raise ValidationFailed(
                _("Choose the role whose holders approve the requests."), field="approver_role"
            )
    else:
        request_type.approver_role = None
    request_type.fields = validate_field_definitions(request_type.fields)


def request_type_seen(request_type: RequestType) -> dict[str, Any]:
    """The editable values as an editor sees them: sent back with the edit (see the module).
    The custom fields stay as they are: their order matters to the portal."""
    return {
        name: request_type.fields if name == "fields" else audit_value(getattr(request_type, name))
        for name in REQUEST_TYPE_FIELDS
    }


def request_type_token(request_type: RequestType) -> str:
    return json.dumps(request_type_seen(request_type), sort_keys=True, ensure_ascii=False)


@transaction.atomic
def request_type_create(
    *,
    actor: User | None,
    service: Service,
    name: str,
    description: str = "",
    kind: str = Ticket.Kind.REQUEST,
    category: Category | None = None,
    fields: list[dict[str, Any]] | None = None,
    approval: str = RequestType.Approval.NONE,
    approver_role: Role | None = None,
) -> RequestType:
    _require_editor(actor)
    request_type = RequestType(
        service=service,
        name=name.strip(),
        description=description.strip(),
        kind=kind,
        category=category,
        fields=fields or [],
        approval=approval,
        approver_role=approver_role,
    )
    _check_request_type(request_type)
    return audited_create(actor=actor, instance=request_type, fields=REQUEST_TYPE_FIELDS)


@transaction.atomic
def request_type_update(
    *, actor: User | None, request_type: RequestType, seen: str, **changes: Any
) -> RequestType:
    """Edit a request type if it still has the values its editor saw (``seen``, the token of
    ``request_type_token``); ``is_active=False`` deactivates it."""
    _require_editor(actor)
    unknown = set(changes) - set(REQUEST_TYPE_FIELDS)
    if unknown:
        raise ValidationFailed(_("This field cannot be changed here."), field=sorted(unknown)[0])
    current = RequestType.objects.select_for_update().get(pk=request_type.pk)
    try:
        then = json.loads(seen)
    except (TypeError, ValueError):
        then = None
    now = request_type_seen(current)
    if then != now:
        raise StaleEdit(
            _(
                "Someone else saved this request type after you opened it. Nothing was saved. "
                "Review the changes below and make your edit again."
            ),
            current_version=0,
            changed=diff(then if isinstance(then, dict) else {}, now),
        )
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    for name, value in changes.items():
        setattr(current, name, value)
    _check_request_type(current)
    try:
        current.full_clean()
    except ValidationError as error:
        raise_validation(error)
    delta = diff(now, request_type_seen(current))
    if not delta:
        return current
    current.save()
    audit_record(actor=actor, action="update", obj=current, changes=delta)
    return current
