"""Every write to organisations, departments, users and roles goes through these functions."""

from __future__ import annotations

import socket
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from arende.core import access
from arende.core.audit import audit_record
from arende.core.errors import ValidationFailed
from arende.core.models import Department, Heartbeat, Organisation, Role, RoleAssignment, User
from arende.core.validators import normalise_org_number
from arende.core.versioning import audited_create, versioned_update

ORGANISATION_FIELDS = ("name", "short_name", "kind", "org_number", "host", "is_active")
DEPARTMENT_FIELDS = ("organisation", "parent", "name", "code", "manager", "is_active")
USER_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "organisation",
    "department",
    "phone",
    "title",
    "language",
    "is_active",
)
USER_EDITABLE = tuple(field for field in USER_FIELDS if field != "is_active")


def _org_number(value: str) -> str:
    from django.core.exceptions import ValidationError

    if not value.strip():
        return ""
    try:
        return normalise_org_number(value)
    except ValidationError as error:
        raise ValidationFailed(error.messages[0], field="org_number") from None


# Organisations ------------------------------------------------------------------------------


@transaction.atomic
def organisation_create(
    *,
    actor: User | None,
    name: str,
    kind: str,
    org_number: str = "",
    short_name: str = "",
    host: Organisation | None = None,
) -> Organisation:
    organisation = Organisation(
        name=name.strip(),
        short_name=short_name.strip(),
        kind=kind,
        org_number=_org_number(org_number),
        host=host,
    )
    return audited_create(actor=actor, instance=organisation, fields=ORGANISATION_FIELDS)


def organisation_update(
    *, actor: User | None, organisation: Organisation, version: int, **changes: Any
) -> Organisation:
    if "org_number" in changes:
        changes["org_number"] = _org_number(changes["org_number"])

    def check(candidate: Organisation) -> None:
        if candidate.host_id == candidate.pk:
            raise ValidationFailed(_("An organisation cannot host itself."), field="host")

    return versioned_update(
        actor=actor,
        instance=organisation,
        version=version,
        changes=changes,
        allowed=ORGANISATION_FIELDS,
        check=check,
    )


# Departments --------------------------------------------------------------------------------


def _check_department(candidate: Department) -> None:
    parent = candidate.parent
    if parent is None:
        return
    if parent.organisation_id != candidate.organisation_id:
        raise ValidationFailed(
            _("The parent department belongs to another organisation."), field="parent"
        )
    if candidate.pk is not None:
        node, seen = parent, set()
        while node is not None and node.pk not in seen:
            if node.pk == candidate.pk:
                raise ValidationFailed(
                    _("A department cannot be placed under itself or its own sub-department."),
                    field="parent",
                )
            seen.add(node.pk)
            node = node.parent


@transaction.atomic
def department_create(
    *,
    actor: User | None,
    organisation: Organisation,
    name: str,
    parent: Department | None = None,
    code: str = "",
    manager: User | None = None,
) -> Department:
    department = Department(
        organisation=organisation, parent=parent, name=name.strip(), code=code, manager=manager
    )
    _check_department(department)
    return audited_create(actor=actor, instance=department, fields=DEPARTMENT_FIELDS)


def department_update(
    *, actor: User | None, department: Department, version: int, **changes: Any
) -> Department:
    return versioned_update(
        actor=actor,
        instance=department,
        version=version,
        changes=changes,
        allowed=DEPARTMENT_FIELDS,
        check=_check_department,
    )


# Users --------------------------------------------------------------------------------------


def _check_user(candidate: User) -> None:
    if candidate.department_id and (
        candidate.department.organisation_id != candidate.organisation_id
    ):
        raise ValidationFailed(
            _("The department belongs to another organisation than the user."),
            field="department",
        )
    duplicate = User.objects.filter(email__iexact=candidate.email).exclude(pk=candidate.pk)
    if duplicate.exists():
        raise ValidationFailed(_("A user with this e-mail address already exists."), field="email")


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    email: str,
    first_name: str,
    last_name: str,
    organisation: Organisation | None = None,
    department: Department | None = None,
    phone: str = "",
    title: str = "",
    language: str = "sv",
    password: str | None = None,
    password_hash: str | None = None,
) -> User:
    """Create an account. ``password_hash`` (already hashed) lets bulk imports hash once."""
    user = User(
        email=User.objects.normalize_email(email.strip()).lower(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        organisation=organisation,
        department=department,
        phone=phone.strip(),
        title=title.strip(),
        language=language,
    )
    if password_hash is not None:
        user.password = password_hash
    else:
        user.set_password(password)
    _check_user(user)
    try:
        with transaction.atomic():
            return audited_create(actor=actor, instance=user, fields=USER_FIELDS)
    except IntegrityError:
        raise ValidationFailed(
            _("A user with this e-mail address already exists."), field="email"
        ) from None


def user_update(*, actor: User | None, user: User, version: int, **changes: Any) -> User:
    if "email" in changes:
        changes["email"] = User.objects.normalize_email(str(changes["email"]).strip()).lower()
    return versioned_update(
        actor=actor,
        instance=user,
        version=version,
        changes=changes,
        allowed=USER_EDITABLE,
        check=_check_user,
    )


def user_set_active(*, actor: User | None, user: User, version: int, active: bool) -> User:
    """Deactivate (or reactivate) an account. Users are never deleted: the audit log names them."""
    return versioned_update(
        actor=actor,
        instance=user,
        version=version,
        changes={"is_active": active},
        allowed=("is_active",),
    )


@transaction.atomic
def user_set_password(*, actor: User | None, user: User, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor=actor, action="update", obj=user, verb="password_set")


# Roles --------------------------------------------------------------------------------------


@transaction.atomic
def role_assign(
    *,
    actor: User | None,
    user: User,
    role: Role,
    organisation: Organisation | None = None,
) -> RoleAssignment:
    existing = RoleAssignment.objects.filter(
        user=user, role=role, organisation=organisation
    ).first()
    if existing is not None:
        return existing
    assignment = RoleAssignment.objects.create(
        user=user,
        role=role,
        organisation=organisation,
        granted_by=actor if actor is not None and actor.is_authenticated else None,
    )
    scope = str(organisation) if organisation else "*"
    audit_record(
        actor=actor,
        action="grant",
        obj=user,
        verb="role_assign",
        changes={"role": [None, role.code], "organisation": [None, scope]},
    )
    access.clear_cache(user)
    return assignment


@transaction.atomic
def role_revoke(*, actor: User | None, assignment: RoleAssignment) -> None:
    user = assignment.user
    scope = str(assignment.organisation) if assignment.organisation_id else "*"
    role_code = assignment.role.code
    assignment.delete()
    audit_record(
        actor=actor,
        action="revoke",
        obj=user,
        verb="role_revoke",
        changes={"role": [role_code, None], "organisation": [scope, None]},
    )
    access.clear_cache(user)


# System -------------------------------------------------------------------------------------


def heartbeat_record(*, name: str = "heartbeat") -> Heartbeat:
    """Note that a periodic job ran. Not audited: it is telemetry, written every minute."""
    with transaction.atomic():
        beat, _created = Heartbeat.objects.select_for_update().get_or_create(
            name=name, defaults={"last_run_at": timezone.now()}
        )
        beat.last_run_at = timezone.now()
        beat.worker = socket.gethostname()[:200]
        beat.runs += 1
        beat.save()
    return beat
