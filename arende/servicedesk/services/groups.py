"""Every write in the service desk goes through these functions."""

from __future__ import annotations

from django.db import transaction

from arende.core.audit import audit_record
from arende.core.models import User
from arende.core.versioning import audited_create
from arende.servicedesk.models import SupportGroup


@transaction.atomic
def support_group_create(
    *, actor: User | None, name: str, line: int, email: str = "", description: str = ""
) -> SupportGroup:
    group = SupportGroup(name=name.strip(), line=line, email=email, description=description)
    return audited_create(actor=actor, instance=group, fields=("name", "line", "email"))


@transaction.atomic
def support_group_add_member(*, actor: User | None, group: SupportGroup, user: User) -> None:
    if group.members.filter(pk=user.pk).exists():
        return
    group.members.add(user)
    audit_record(
        actor=actor,
        action="update",
        obj=group,
        verb="member_add",
        changes={"members": [None, str(user)]},
    )
