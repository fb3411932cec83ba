"""Who may approve a request that needs approval, and which requests wait for a given person.

A request type asks for approval either by a role (a holder of ``approver_role`` for the
ticket's organisation, or for all organisations) or by the requester's department manager.
The department manager is the nearest manager up the department tree who is not the requester
(so a manager's own request goes to the manager above), which also covers units without a
manager of their own. Nobody approves their own request.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.translation import gettext as _

from arende.core.models import Department, RoleAssignment
from arende.servicedesk.models import RequestType, Ticket

if TYPE_CHECKING:
    from arende.core.models import User

Approval = RequestType.Approval
DepartmentMap = dict[int, tuple[int | None, int | None]]  # pk -> (parent_id, manager_id)


def _department_map(organisation_ids: Iterable[int]) -> DepartmentMap:
    rows = Department.objects.filter(organisation_id__in=set(organisation_ids)).values_list(
        "pk", "parent_id", "manager_id"
    )
    return {pk: (parent_id, manager_id) for pk, parent_id, manager_id in rows}


def _effective_manager_id(
    department_id: int | None, requester_id: int | None, departments: DepartmentMap
) -> int | None:
    seen: set[int] = set()
    while department_id is not None and department_id not in seen:
        seen.add(department_id)
        parent_id, manager_id = departments.get(department_id, (None, None))
        if manager_id is not None and manager_id != requester_id:
            return manager_id
        department_id = parent_id
    return None


def _ticket_department_id(ticket: Ticket) -> int | None:
    if ticket.department_id:
        return ticket.department_id
    return ticket.requester.department_id if ticket.requester_id else None


def department_approver_id(ticket: Ticket) -> int | None:
    """The user id of the manager who approves ``ticket`` (department-manager approval)."""
    return _effective_manager_id(
        _ticket_department_id(ticket),
        ticket.requester_id,
        _department_map([ticket.organisation_id]),
    )


def can_approve(user: User | None, ticket: Ticket) -> bool:
    """May ``user`` approve or reject ``ticket``? False when it does not await approval."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if ticket.status != Ticket.Status.PENDING_APPROVAL or ticket.request_type_id is None:
        return False
    if ticket.requester_id == user.pk:
        return False
    request_type = ticket.request_type
    if request_type.approval == Approval.ROLE:
        if request_type.approver_role_id is None:
            return False
        return (
            RoleAssignment.objects.filter(user_id=user.pk, role_id=request_type.approver_role_id)
            .filter(Q(organisation__isnull=True) | Q(organisation_id=ticket.organisation_id))
            .exists()
        )
    if request_type.approval == Approval.DEPARTMENT_MANAGER:
        return department_approver_id(ticket) == user.pk
    return False


def approver_description(ticket: Ticket) -> str:
    """Who the requester waits for, in plain words."""
    request_type = ticket.request_type
    if request_type is None:
        return ""
    if request_type.approval == Approval.ROLE and request_type.approver_role_id:
        return _("someone with the role “%(role)s”") % {"role": request_type.approver_role}
    if request_type.approval == Approval.DEPARTMENT_MANAGER:
        manager_id = department_approver_id(ticket)
        if manager_id is not None:
            from arende.core.models import User

            manager = User.objects.filter(pk=manager_id).first()
            if manager is not None:
                return _("your manager, %(name)s") % {"name": manager}
        return _("your manager")
    return ""


def tickets_awaiting_approval_by(user: User, *, limit: int = 200) -> list[Ticket]:
    """The requests ``user`` may approve now, oldest first, in a constant number of queries."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    condition = Q(pk__in=[])
    assignments = RoleAssignment.objects.filter(user_id=user.pk).values_list(
        "role_id", "organisation_id"
    )
    for role_id, organisation_id in assignments:
        by_role = Q(request_type__approval=Approval.ROLE, request_type__approver_role_id=role_id)
        if organisation_id is not None:
            by_role &= Q(organisation_id=organisation_id)
        condition |= by_role

    managed = list(
        Department.objects.filter(manager_id=user.pk).values_list("pk", "organisation_id")
    )
    departments: DepartmentMap = {}
    if managed:
        departments = _department_map(organisation_id for _pk, organisation_id in managed)
        children: dict[int | None, list[int]] = defaultdict(list)
        for pk, (parent_id, _manager_id) in departments.items():
            children[parent_id].append(pk)
        subtree: set[int] = set()
        stack = [pk for pk, _organisation_id in managed]
        while stack:
            pk = stack.pop()
            if pk not in subtree:
                subtree.add(pk)
                stack.extend(children.get(pk, []))
        condition |= Q(
            request_type__approval=Approval.DEPARTMENT_MANAGER, department_id__in=sorted(subtree)
        )

    candidates = (
        Ticket.objects.filter(status=Ticket.Status.PENDING_APPROVAL)
        .filter(condition)
        .exclude(requester_id=user.pk)
        .select_related("request_type", "request_type__service", "requester", "department")
        .order_by("created_at", "pk")[:limit]
    )
    return [
        ticket
        for ticket in candidates
        if ticket.request_type.approval == Approval.ROLE
        or _effective_manager_id(ticket.department_id, ticket.requester_id, departments) == user.pk
    ]
