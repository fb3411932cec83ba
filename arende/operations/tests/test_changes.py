"""The change process: board approval (all / any), standard changes, blackouts, review, figures."""

from __future__ import annotations

import datetime

import pytest

from arende.core.errors import StaleEdit, ValidationFailed
from arende.core.models import AuditEvent
from arende.operations import selectors
from arende.operations.models import BlackoutPeriod, Change, ChangeTemplate, MajorIncident
from arende.operations.services import changes as services
from arende.operations.services.incidents import major_incident_declare

pytestmark = pytest.mark.django_db
TZ = datetime.timezone(datetime.timedelta(hours=2))


def _change(ops, *, type="normal", start=None, hours=2, answers=None, actor=None, **kwargs):
    start = start or datetime.datetime(2021, 5, 10, 18, tzinfo=TZ)
    values = dict(
        actor=actor or ops["specialist"],
        title="Uppgradera växelns programvara",
        type=type,
        description="Ny version av växelns programvara.",
        reason="Säkerhetsrättningar",
        organisations=[ops["herrljunga"], ops["vargarda"]],
        services=[ops["phone"]],
        systems="MX-ONE\nOperatörskoppling",
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=hours),
        implementation_plan="1. Säkerhetskopiera 2. Uppgradera",
        backout_plan="Återställ säkerhetskopian",
        risk_answers=answers or {},
    )
    values.update(kwargs)
    return services.change_create(**values)


def test_risk_from_the_questionnaire():
    assert services.risk_level_for({}) == "low"
    assert services.risk_level_for({"office_hours": True}) == "low"
    assert services.risk_level_for({"many_users": True}) == "medium"
    assert services.risk_level_for({"many_users": True, "no_backout": True}) == "high"


def test_low_risk_normal_change_needs_the_change_manager(ops):
    change = _change(ops)
    assert change.risk_level == "low" and change.status == "draft"
    change = services.change_submit(actor=ops["specialist"], change=change, version=change.version)
    assert change.status == "submitted"
    with pytest.raises(ValidationFailed):  # the IT manager is not an approver of this one
        services.change_decide(actor=ops["manager"], change=change, approve=True)
    with pytest.raises(ValidationFailed):  # a specialist cannot approve at all
        services.change_decide(actor=ops["specialist"], change=change, approve=True)
    change = services.change_decide(actor=ops["cm"], change=change, approve=True)
    assert change.status == "approved" and change.approved_at is not None


def test_rule_all_needs_every_role_and_a_rejection_stops_it(ops):
    change = _change(ops, answers={"many_users": True, "critical_service": True})
    assert change.risk_level == "medium"
    change = services.change_submit(actor=ops["specialist"], change=change, version=None)
    change = services.change_decide(actor=ops["cm"], change=change, approve=True)
    assert change.status == "submitted"
    with pytest.raises(ValidationFailed):  # one decision per role
        services.change_decide(actor=ops["cm"], change=change, approve=True)
    change = services.change_decide(actor=ops["manager"], change=change, approve=True)
    assert change.status == "approved"

    other = services.change_submit(
        actor=ops["specialist"], change=_change(ops, answers={"no_backout": True}), version=None
    )
    with pytest.raises(ValidationFailed):  # a rejection needs a reason
        services.change_decide(actor=ops["manager"], change=other, approve=False)
    other = services.change_decide(
        actor=ops["manager"], change=other, approve=False, comment="Ingen reservplan"
    )
    assert other.status == "rejected"


def test_emergency_rule_any_and_may_start_before_approval(ops):
    change = _change(ops, type="emergency")
    change = services.change_submit(actor=ops["specialist"], change=change, version=None)
    assert change.approval_rule == "any"
    change = services.change_start(actor=ops["specialist"], change=change, version=None)
    assert change.status == "in_progress" and change.approved_at is None
    change = services.change_decide(actor=ops["manager"], change=change, approve=True)
    assert change.approved_at is not None and change.status == "in_progress"


def test_standard_change_is_pre_approved(ops):
    template = ChangeTemplate.objects.create(
        name="Byte av hänvisning",
        implementation_plan="Ändra i växeln",
        backout_plan="Ändra tillbaka",
    )
    with pytest.raises(ValidationFailed):
        _change(ops, type="standard")
    change = _change(ops, type="standard", template=template, implementation_plan="")
    assert change.implementation_plan == "Ändra i växeln"
    change = services.change_submit(actor=ops["specialist"], change=change, version=None)
    assert change.status == "approved" and change.approvals.get().decision == "approved"


def test_blackout_refuses_scheduling_but_not_an_emergency(ops):
    BlackoutPeriod.objects.create(
        name="Bokslut",
        starts_at=datetime.datetime(2021, 5, 10, 0, tzinfo=TZ),
        ends_at=datetime.datetime(2021, 5, 12, 0, tzinfo=TZ),
    )
    change = services.change_submit(actor=ops["specialist"], change=_change(ops), version=None)
    change = services.change_decide(actor=ops["cm"], change=change, approve=True)
    with pytest.raises(ValidationFailed):
        services.change_schedule(actor=ops["cm"], change=change, version=None)
    emergency = services.change_submit(
        actor=ops["specialist"], change=_change(ops, type="emergency"), version=None
    )
    emergency = services.change_decide(actor=ops["cm"], change=emergency, approve=True)
    assert services.change_schedule(actor=ops["cm"], change=emergency, version=None).status == (
        "scheduled"
    )


def test_whole_path_to_a_review_that_caused_a_disruption(ops):
    change = services.change_submit(actor=ops["specialist"], change=_change(ops), version=None)
    change = services.change_decide(actor=ops["cm"], change=change, approve=True)
    change = services.change_schedule(actor=ops["cm"], change=change, version=None)
    change = services.change_start(actor=ops["specialist"], change=change, version=None)
    change = services.change_implement(
        actor=ops["specialist"], change=change, version=change.version, notes="Uppgraderad."
    )
    incident = major_incident_declare(
        actor=ops["im"], title="Växeln tappar samtal", services=[ops["phone"]],
        organisations=[ops["herrljunga"]],
    )  # fmt: skip
    with pytest.raises(ValidationFailed):
        services.change_review(
            actor=ops["cm"], change=change, version=None, outcome="caused_disruption"
        )
    change = services.change_review(
        actor=ops["cm"], change=change, version=None, outcome="caused_disruption",
        incidents=[incident], notes="Samtal tappades i en timme.",
    )  # fmt: skip
    assert change.status == "reviewed"
    incident.refresh_from_db()
    assert incident.caused_by_change == change
    verbs = list(
        AuditEvent.objects.filter(object_id=str(change.pk), content_type__model="change")
        .order_by("pk")
        .values_list("verb", flat=True)
    )
    assert verbs == ["", "submit", "approve", "schedule", "start", "implement", "review"]


def test_change_figures_per_month(ops):
    def started(month, day, *, approved_before, outcome=""):
        change = _change(ops, start=datetime.datetime(2021, month, day, 18, tzinfo=TZ))
        start = datetime.datetime(2021, month, day, 18, tzinfo=TZ)
        approved = (
            start - datetime.timedelta(days=1)
            if approved_before
            else start + datetime.timedelta(hours=1)
        )
        Change.objects.filter(pk=change.pk).update(
            status="reviewed" if outcome else "implemented", actual_start=start,
            approved_at=approved, outcome=outcome,
        )  # fmt: skip
        return change

    started(5, 3, approved_before=True, outcome="successful")
    started(5, 4, approved_before=True, outcome="successful")
    culprit = started(5, 5, approved_before=False, outcome="caused_disruption")
    started(5, 6, approved_before=True)  # not reviewed yet
    started(6, 1, approved_before=True, outcome="failed")
    # 31 May 23:30 Stockholm time is still May.
    started(5, 31, approved_before=True, outcome="successful")
    Change.objects.filter(actual_start__day=31).update(
        actual_start=datetime.datetime(2021, 5, 31, 23, 30, tzinfo=TZ)
    )
    never_started = _change(ops)
    assert never_started.actual_start is None
    incident = major_incident_declare(
        actor=None, title="Avbrott", services=[ops["phone"]], organisations=[ops["herrljunga"]],
        started_at=datetime.datetime(2021, 5, 5, 19, tzinfo=TZ), at=datetime.datetime(2021, 5, 5, 19, tzinfo=TZ),
    )  # fmt: skip
    MajorIncident.objects.filter(pk=incident.pk).update(caused_by_change=culprit)

    months = selectors.change_figures(Change.objects.all(), MajorIncident.objects.all(), year=2021)
    may, june = months[4], months[5]
    assert (may.started, may.approved_before_start, may.reviewed, may.successful) == (5, 4, 4, 3)
    assert may.approved_share == 0.8
    assert may.successful_share == 0.75
    assert may.disruptions == 1
    assert (june.started, june.successful_share, june.disruptions) == (1, 0.0, 0)
    assert months[0].approved_share is None


def test_calendar_warns_of_overlaps_and_blackouts(ops):
    first = _change(ops)
    second = _change(ops, start=datetime.datetime(2021, 5, 10, 19, tzinfo=TZ))
    _change(ops, start=datetime.datetime(2021, 5, 20, 19, tzinfo=TZ))
    blackout = BlackoutPeriod.objects.create(
        name="Valet",
        starts_at=datetime.datetime(2021, 5, 20, 0, tzinfo=TZ),
        ends_at=datetime.datetime(2021, 5, 21, 0, tzinfo=TZ),
    )
    month = selectors.change_calendar(Change.objects.all(), year=2021, month=5)
    kinds = sorted((w.kind, w.change.pk) for w in month["warnings"])
    assert kinds[0] == ("blackout", Change.objects.get(planned_start__day=20).pk)
    assert ("overlap", first.pk) in kinds
    overlap = next(w for w in month["warnings"] if w.kind == "overlap")
    assert overlap.other == second
    assert any(w.other == blackout for w in month["warnings"])
    day = next(
        d for week in month["weeks"] for d in week if d["date"] == datetime.date(2021, 5, 10)
    )
    assert len(day["changes"]) == 2


def test_who_sees_which_change(ops):
    both = _change(ops)
    only_herrljunga = _change(ops, organisations=[ops["herrljunga"]])
    assert set(Change.objects.visible_to(ops["cm"])) == {both, only_herrljunga}
    vargarda_staff = ops["vargarda_im"]  # holds view_change for Vårgårda only
    assert set(Change.objects.visible_to(vargarda_staff)) == {both}


def test_moving_an_approved_window_sends_it_back_to_the_board(ops):
    change = services.change_submit(actor=ops["specialist"], change=_change(ops), version=None)
    change = services.change_decide(actor=ops["cm"], change=change, approve=True)
    assert change.status == "approved"
    change = services.change_update(
        actor=ops["specialist"], change=change, version=change.version, title="Ny rubrik"
    )
    assert change.status == "approved"  # a new title needs no new decision
    later = change.planned_start + datetime.timedelta(days=1)
    change = services.change_update(
        actor=ops["specialist"], change=change, version=change.version,
        planned_start=later, planned_end=later + datetime.timedelta(hours=2),
    )  # fmt: skip
    assert change.status == "submitted" and change.approved_at is None
    with pytest.raises(StaleEdit):
        services.change_update(actor=ops["specialist"], change=change, version=1, title="X")
