"""Change services: the request for change from draft through the change board to its review.

Draft → submitted → approved / rejected → scheduled → in progress → implemented → reviewed,
or cancelled before work starts. A standard change (from a pre-approved template) is approved
when submitted. An emergency change may start before the board has decided; that is what the
figure "approved before start" is there to show.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from arende.core.audit import audit_record, audit_value
from arende.core.errors import ValidationFailed
from arende.core.models import Organisation, Role, RoleAssignment, User
from arende.operations.models import (
    BlackoutPeriod,
    Change,
    ChangeApproval,
    ChangeTemplate,
    MajorIncident,
    RiskLevel,
)
from arende.operations.services.common import delta, lock, m2m_names, org_ids, require_perm, snap
from arende.servicedesk.models import Service

ADD = "operations.add_change"
CHANGE = "operations.change_change"
APPROVE = "operations.approve_change"
MANAGE = "operations.manage_change"
Status = Change.Status


@dataclass(frozen=True)
class RiskQuestion:
    key: str
    text: Any
    weight: int


RISK_QUESTIONS = (
    RiskQuestion(
        "many_users", gettext_lazy("Does it affect many users or a whole organisation?"), 2
    ),
    RiskQuestion(
        "critical_service",
        gettext_lazy("Does it touch a critical service (telephony, network, e-mail)?"),
        2,
    ),
    RiskQuestion("office_hours", gettext_lazy("Is the work done in office hours?"), 1),
    RiskQuestion("untested", gettext_lazy("Has it not been tried in a test environment?"), 2),
    RiskQuestion("no_backout", gettext_lazy("Is it hard or impossible to back out?"), 3),
    RiskQuestion("supplier", gettext_lazy("Does the work depend on a supplier?"), 1),
)
HIGH_RISK_FROM, MEDIUM_RISK_FROM = 5, 2


def risk_level_for(answers: dict[str, bool]) -> str:
    """Sum of the weights of the questions answered yes: 0–1 low, 2–4 medium, 5+ high."""
    score = sum(question.weight for question in RISK_QUESTIONS if answers.get(question.key))
    if score >= HIGH_RISK_FROM:
        return RiskLevel.HIGH
    if score >= MEDIUM_RISK_FROM:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


def approvers_for(change_type: str, risk_level: str) -> tuple[list[str], str]:
    """Approver roles and rule: emergency – Change Manager or IT manager (any); normal with low
    risk – the Change Manager; normal with more risk – both (all); standard – none."""
    if change_type == Change.Type.STANDARD:
        return [], Change.ApprovalRule.ALL
    if change_type == Change.Type.EMERGENCY:
        return ["change_manager", "manager"], Change.ApprovalRule.ANY
    if risk_level == RiskLevel.LOW:
        return ["change_manager"], Change.ApprovalRule.ALL
    return ["change_manager", "manager"], Change.ApprovalRule.ALL


def blackouts_overlapping(start: datetime.datetime, end: datetime.datetime):
    return BlackoutPeriod.objects.filter(starts_at__lt=end, ends_at__gt=start)


def _audit(actor, change: Change, before: dict[str, Any], verb: str, **extra: Any) -> None:
    changed = delta(change, before)
    changed["version"] = [change.version - 1, change.version]
    changed.update(extra)
    audit_record(actor=actor, action="update", obj=change, verb=verb, changes=changed)


def _bump(change: Change) -> None:
    change.version += 1
    change.save()


def _check_window(start: datetime.datetime | None, end: datetime.datetime | None) -> None:
    if start is None:
        raise ValidationFailed(_("Give the planned start."), field="planned_start")
    if end is None or end <= start:
        raise ValidationFailed(_("The window must end after it starts."), field="planned_end")


@transaction.atomic
def change_create(
    *,
    actor: User | None,
    title: str,
    type: str,
    description: str,
    organisations: Iterable[Organisation],
    services: Iterable[Service],
    planned_start: datetime.datetime,
    planned_end: datetime.datetime,
    reason: str = "",
    template: ChangeTemplate | None = None,
    systems: str = "",
    risk_answers: dict[str, bool] | None = None,
    implementation_plan: str = "",
    backout_plan: str = "",
    implementer: User | None = None,
    at: datetime.datetime | None = None,
) -> Change:
    """Record a request for change as a draft."""
    title = title.strip()
    if not title:
        raise ValidationFailed(_("Give the change a short title."), field="title")
    if type not in Change.Type.values:
        raise ValidationFailed(_("Choose the type of change."), field="type")
    organisations, services = list(organisations), list(services)
    if not organisations:
        raise ValidationFailed(_("Choose at least one organisation."), field="organisations")
    require_perm(actor, ADD, [org.pk for org in organisations], every=True)
    _check_window(planned_start, planned_end)
    answers = {q.key: bool((risk_answers or {}).get(q.key)) for q in RISK_QUESTIONS}
    if type == Change.Type.STANDARD:
        if template is None or not template.is_active:
            raise ValidationFailed(
                _("A standard change is made from a pre-approved template."), field="template"
            )
        implementation_plan = implementation_plan or template.implementation_plan
        backout_plan = backout_plan or template.backout_plan
        services = services or list(template.services.all())
        risk = RiskLevel.LOW
    else:
        template = None
        risk = risk_level_for(answers)
    if not services:
        raise ValidationFailed(_("Choose at least one affected service."), field="services")
    if not description.strip():
        raise ValidationFailed(_("Describe the change."), field="description")
    change = Change.objects.create(
        title=title[:200],
        type=type,
        template=template,
        description=description.strip(),
        reason=reason.strip(),
        systems=systems.strip(),
        risk_answers=answers,
        risk_level=risk,
        planned_start=planned_start,
        planned_end=planned_end,
        implementation_plan=implementation_plan.strip(),
        backout_plan=backout_plan.strip(),
        requester=actor if actor is not None and actor.is_authenticated else None,
        implementer=implementer,
        created_at=at or timezone.now(),
    )
    change.organisations.set(organisations)
    change.services.set(services)
    audit_record(
        actor=actor,
        action="create",
        obj=change,
        changes={
            "title": [None, change.title],
            "type": [None, change.type],
            "risk_level": [None, change.risk_level],
            "planned_start": [None, audit_value(planned_start)],
            "planned_end": [None, audit_value(planned_end)],
            "organisations": [None, m2m_names(organisations)],
            "services": [None, m2m_names(services)],
            "status": [None, change.status],
        },
    )
    return change


EDITABLE = (
    "title",
    "description",
    "reason",
    "systems",
    "planned_start",
    "planned_end",
    "implementation_plan",
    "backout_plan",
    "implementer",
)


@transaction.atomic
def change_update(
    *,
    actor: User | None,
    change: Change,
    version: int | None,
    risk_answers: dict[str, bool] | None = None,
    services: Iterable[Service] | None = None,
    **changes: Any,
) -> Change:
    """Edit a change while it is a draft (after approval the window may still move, which
    sends it back to the board unless it is a standard change)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(_("This field cannot be changed here."), field=sorted(unknown)[0])
    change = lock(change, version)
    require_perm(actor, CHANGE, org_ids(change), every=False)
    if change.status not in (Status.DRAFT, Status.SUBMITTED, Status.APPROVED, Status.SCHEDULED):
        raise ValidationFailed(_("The change can no longer be edited."), field="status")
    fields = (*changes, "risk_answers", "risk_level", "status")
    before = snap(change, *fields)
    for name, value in changes.items():
        setattr(change, name, value.strip() if isinstance(value, str) else value)
    _check_window(change.planned_start, change.planned_end)
    if risk_answers is not None and change.type != Change.Type.STANDARD:
        change.risk_answers = {q.key: bool(risk_answers.get(q.key)) for q in RISK_QUESTIONS}
        change.risk_level = risk_level_for(change.risk_answers)
    extra: dict[str, Any] = {}
    if services is not None:
        services = list(services)
        if not services:
            raise ValidationFailed(_("Choose at least one affected service."), field="services")
        old = m2m_names(change.services.all())
        if old != m2m_names(services):
            change.services.set(services)
            extra["services"] = [old, m2m_names(services)]
    if not delta(change, before) and not extra:
        return change
    resubmit = change.type != Change.Type.STANDARD and change.status in (
        Status.APPROVED,
        Status.SCHEDULED,
    )
    if resubmit and (
        {"planned_start", "planned_end"} & set(delta(change, before))
        or "risk_level" in delta(change, before)
    ):
        change.status, change.approved_at = Status.SUBMITTED, None
        change.approvals.all().delete()
    _bump(change)
    _audit(actor, change, before, "update", **extra)
    return change


@transaction.atomic
def change_submit(
    *, actor: User | None, change: Change, version: int | None, at: datetime.datetime | None = None
) -> Change:
    """Send the change to the board; a standard change is approved at once."""
    change = lock(change, version)
    require_perm(actor, CHANGE, org_ids(change), every=False)
    if change.status != Status.DRAFT:
        raise ValidationFailed(_("Only a draft can be submitted."), field="status")
    if change.type != Change.Type.STANDARD and not change.backout_plan:
        raise ValidationFailed(_("Write a backout plan before submitting."), field="backout_plan")
    if not change.implementation_plan:
        raise ValidationFailed(
            _("Write an implementation plan before submitting."), field="implementation_plan"
        )
    now = at or timezone.now()
    before = snap(change, "status", "submitted_at", "approved_at", "approval_rule")
    codes, rule = approvers_for(change.type, change.risk_level)
    change.approval_rule = rule
    change.approver_roles.set(Role.objects.filter(code__in=codes))
    change.submitted_at = now
    if change.type == Change.Type.STANDARD:
        change.status, change.approved_at = Status.APPROVED, now
        ChangeApproval.objects.create(
            change=change,
            decision=ChangeApproval.Decision.APPROVED,
            comment=_("Standard change: pre-approved (%(template)s).")
            % {"template": change.template},
            at=now,
        )
    else:
        change.status = Status.SUBMITTED
    _bump(change)
    _audit(actor, change, before, "submit", approver_roles=[None, codes])
    return change


def _roles_held(actor: User, change: Change) -> set[int]:
    """The approver roles of the change that ``actor`` holds, for all organisations or for one
    the change affects."""
    return set(
        RoleAssignment.objects.filter(
            Q(organisation__isnull=True) | Q(organisation__in=org_ids(change)),
            user=actor,
            role__in=change.approver_roles.all(),
        ).values_list("role_id", flat=True)
    )


@transaction.atomic
def change_decide(
    *,
    actor: User,
    change: Change,
    approve: bool,
    comment: str = "",
    at: datetime.datetime | None = None,
) -> Change:
    """One board member's decision, for a role they hold. A rejection stops the change; it is
    approved when every role has approved (rule "all") or when one has (rule "any")."""
    change = lock(change, None)
    require_perm(actor, APPROVE, org_ids(change), every=False)
    allowed = (Status.SUBMITTED,) if approve else (Status.SUBMITTED, Status.IN_PROGRESS)
    if change.status not in allowed and not (
        change.type == Change.Type.EMERGENCY
        and change.status in (Status.IN_PROGRESS, Status.IMPLEMENTED)
        and change.approved_at is None
    ):
        raise ValidationFailed(_("The change is not waiting for a decision."), field="status")
    if not approve and not comment.strip():
        raise ValidationFailed(_("Say why the change is rejected."), field="comment")
    decided = set(change.approvals.values_list("role_id", flat=True))
    open_roles = _roles_held(actor, change) - decided
    if not open_roles:
        raise ValidationFailed(
            _("You hold none of the approver roles that are still to decide."), code="forbidden"
        )
    now = at or timezone.now()
    role = Role.objects.filter(pk__in=open_roles).order_by("pk").first()
    ChangeApproval.objects.create(
        change=change,
        role=role,
        decided_by=actor,
        decision=ChangeApproval.Decision.APPROVED if approve else ChangeApproval.Decision.REJECTED,
        comment=comment.strip(),
        at=now,
    )
    before = snap(change, "status", "approved_at")
    if not approve:
        if change.status == Status.SUBMITTED:
            change.status = Status.REJECTED
    else:
        approved_roles = set(
            change.approvals.filter(decision=ChangeApproval.Decision.APPROVED).values_list(
                "role_id", flat=True
            )
        )
        needed = set(change.approver_roles.values_list("pk", flat=True))
        done = (
            bool(approved_roles & needed)
            if change.approval_rule == Change.ApprovalRule.ANY
            else needed <= approved_roles
        )
        if done:
            change.approved_at = now
            if change.status == Status.SUBMITTED:
                change.status = Status.APPROVED
    _bump(change)
    _audit(
        actor,
        change,
        before,
        "approve" if approve else "reject",
        decision=[None, {"role": role.code, "approve": approve, "comment": comment.strip()}],
    )
    return change


@transaction.atomic
def change_schedule(*, actor: User | None, change: Change, version: int | None) -> Change:
    """Put an approved change in the calendar. A blackout period stops all but emergencies."""
    change = lock(change, version)
    require_perm(actor, MANAGE, org_ids(change), every=False)
    if change.status != Status.APPROVED:
        raise ValidationFailed(_("Only an approved change can be scheduled."), field="status")
    if change.type != Change.Type.EMERGENCY:
        blackout = blackouts_overlapping(change.planned_start, change.planned_end).first()
        if blackout is not None:
            raise ValidationFailed(
                _("The window falls in the blackout period “%(name)s”; move it first.")
                % {"name": blackout.name},
                field="planned_start",
            )
    before = snap(change, "status")
    change.status = Status.SCHEDULED
    _bump(change)
    _audit(actor, change, before, "schedule")
    return change


@transaction.atomic
def change_start(
    *, actor: User | None, change: Change, version: int | None, at: datetime.datetime | None = None
) -> Change:
    """Work begins: the actual start is stamped."""
    change = lock(change, version)
    require_perm(actor, CHANGE, org_ids(change), every=False)
    startable = {Status.APPROVED, Status.SCHEDULED}
    if change.type == Change.Type.EMERGENCY:
        startable.add(Status.SUBMITTED)
    if change.status not in startable:
        raise ValidationFailed(
            _("Only an approved change can start (an emergency change may start while it waits)."),
            field="status",
        )
    before = snap(change, "status", "actual_start")
    change.status, change.actual_start = Status.IN_PROGRESS, at or timezone.now()
    _bump(change)
    _audit(actor, change, before, "start")
    return change


@transaction.atomic
def change_implement(
    *,
    actor: User | None,
    change: Change,
    version: int | None,
    notes: str,
    actual_end: datetime.datetime | None = None,
    actual_start: datetime.datetime | None = None,
) -> Change:
    """The implementation record: when it really started and ended, and what was done."""
    change = lock(change, version)
    require_perm(actor, CHANGE, org_ids(change), every=False)
    if change.status != Status.IN_PROGRESS:
        raise ValidationFailed(_("Only a change in progress can be completed."), field="status")
    if not notes.strip():
        raise ValidationFailed(_("Describe what was done."), field="implementation_notes")
    before = snap(change, "status", "actual_start", "actual_end", "implementation_notes")
    change.actual_start = actual_start or change.actual_start
    change.actual_end = actual_end or timezone.now()
    if change.actual_end < change.actual_start:
        raise ValidationFailed(_("The change cannot end before it started."), field="actual_end")
    change.status, change.implementation_notes = Status.IMPLEMENTED, notes.strip()
    _bump(change)
    _audit(actor, change, before, "implement")
    return change


@transaction.atomic
def change_review(
    *,
    actor: User | None,
    change: Change,
    version: int | None,
    outcome: str,
    notes: str = "",
    incidents: Iterable[MajorIncident] = (),
    at: datetime.datetime | None = None,
) -> Change:
    """The post-implementation review. "Caused a disruption" names the major incident(s); they
    are marked as caused by this change."""
    change = lock(change, version)
    require_perm(actor, MANAGE, org_ids(change), every=False)
    if change.status != Status.IMPLEMENTED:
        raise ValidationFailed(_("Only an implemented change can be reviewed."), field="status")
    if outcome not in (
        Change.Outcome.SUCCESSFUL,
        Change.Outcome.FAILED,
        Change.Outcome.CAUSED_DISRUPTION,
    ):
        raise ValidationFailed(_("Choose the outcome."), field="outcome")
    incidents = list(incidents)
    if outcome == Change.Outcome.CAUSED_DISRUPTION and not (
        incidents or change.caused_incidents.exists()
    ):
        raise ValidationFailed(_("Name the major incident the change caused."), field="incidents")
    before = snap(change, "status", "outcome", "review_notes", "reviewed_at")
    change.status, change.outcome = Status.REVIEWED, outcome
    change.review_notes, change.reviewed_at = notes.strip(), at or timezone.now()
    _bump(change)
    linked = []
    for incident in incidents:
        if incident.caused_by_change_id != change.pk:
            previous = incident.caused_by_change
            MajorIncident.objects.filter(pk=incident.pk).update(caused_by_change=change)
            audit_record(
                actor=actor,
                action="update",
                obj=incident,
                verb="caused_by_change",
                changes={"caused_by_change": [audit_value(previous), str(change)]},
            )
            linked.append(incident.reference)
    _audit(actor, change, before, "review", **({"incidents": [None, linked]} if linked else {}))
    return change


@transaction.atomic
def change_cancel(
    *, actor: User | None, change: Change, version: int | None, reason: str
) -> Change:
    change = lock(change, version)
    require_perm(actor, CHANGE, org_ids(change), every=False)
    if change.status not in (
        Status.DRAFT,
        Status.SUBMITTED,
        Status.APPROVED,
        Status.SCHEDULED,
        Status.REJECTED,
    ):
        raise ValidationFailed(_("A change that has started cannot be cancelled."), field="status")
    if not reason.strip():
        raise ValidationFailed(_("Say why the change is cancelled."), field="reason")
    before = snap(change, "status")
    change.status = Status.CANCELLED
    _bump(change)
    _audit(actor, change, before, "cancel", cancel_reason=[None, reason.strip()])
    return change
