"""The ticket workflow, as the services enforce it."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from arende.core.errors import StaleEdit, ValidationFailed
from arende.core.models import AuditEvent
from arende.core.tests.factories import OrganisationFactory, UserFactory, grant
from arende.servicedesk import services
from arende.servicedesk.models import LineSpan, Ticket, TicketActivity
from arende.servicedesk.tests.factories import SupportGroupFactory

pytestmark = pytest.mark.django_db

Status = Ticket.Status


@pytest.fixture
def desk():
    herrljunga, vargarda = OrganisationFactory(), OrganisationFactory()
    it = OrganisationFactory(kind="joint_board", org_number="")
    agent = grant(UserFactory(organisation=it), "agent")
    specialist = grant(UserFactory(organisation=it), "specialist")
    first = SupportGroupFactory(name="Servicedesk", line=1, members=[agent])
    second = SupportGroupFactory(name="Drift", line=2, members=[specialist])
    requester = grant(UserFactory(organisation=herrljunga), "requester", herrljunga)
    return dict(
        herrljunga=herrljunga,
        vargarda=vargarda,
        agent=agent,
        specialist=specialist,
        first=first,
        second=second,
        requester=requester,
    )


def _ticket(desk, **kwargs):
    values = dict(
        actor=desk["requester"],
        channel="portal",
        title="Skrivaren skriver inte ut",
        requester=desk["requester"],
    )
    values.update(kwargs)
    return services.ticket_create(**values)


def test_create_takes_organisation_from_the_requester_and_lands_in_first_line(desk):
    ticket = _ticket(desk, impact=2, urgency=1)
    year = timezone.localtime(ticket.created_at).year
    assert ticket.reference == f"{year}-000001"
    assert ticket.organisation == desk["herrljunga"]
    assert ticket.department == desk["requester"].department
    assert (ticket.line, ticket.group, ticket.status) == (1, desk["first"], Status.NEW)
    assert ticket.priority == 2  # medium impact × high urgency
    assert _ticket(desk).reference == f"{year}-000002"
    assert AuditEvent.objects.filter(action="create", object_id=str(ticket.pk)).exists()


def test_references_restart_each_year(desk):
    old = _ticket(desk, created_at=datetime.datetime(2021, 12, 31, 22, 0, tzinfo=datetime.UTC))
    new = _ticket(desk, created_at=datetime.datetime(2021, 12, 31, 23, 30, tzinfo=datetime.UTC))
    # 23:30 UTC is already 2022 in Stockholm.
    assert (old.reference, new.reference) == ("2021-000001", "2022-000001")


def test_a_batch_counts_references_in_hand_and_writes_the_counter_once(desk):
    from django.db import transaction

    from arende.servicedesk.models import TicketCounter

    first = _ticket(desk)
    year = timezone.localtime(first.created_at).year
    with transaction.atomic(), services.tickets.reference_numbers_held():
        batch = [_ticket(desk).reference for _ in range(3)]
        assert TicketCounter.objects.get(year=year).last_number == 2  # taken once, locked
    assert batch == [f"{year}-00000{n}" for n in (2, 3, 4)]
    assert TicketCounter.objects.get(year=year).last_number == 4
    assert _ticket(desk).reference == f"{year}-000005"

    held = services.tickets.reference_numbers_held
    with pytest.raises(RuntimeError), transaction.atomic(), held():
        _ticket(desk)
        raise RuntimeError("the batch fails")
    assert TicketCounter.objects.get(year=year).last_number == 5  # rolled back whole
    assert _ticket(desk).reference == f"{year}-000006"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
def test_references_are_unique_when_created_at_once():
    org = OrganisationFactory()
    requester = UserFactory(organisation=org)
    made, errors = [], []

    def create():
        try:
            for _ in range(10):
                made.append(
                    services.ticket_create(
                        actor=None, channel="api", title="Larm", requester=requester
                    ).reference
                )
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(made) == 40 and len(set(made)) == 40


def test_a_contact_without_account_needs_an_organisation(desk):
    with pytest.raises(ValidationFailed) as error:
        services.ticket_create(
            actor=desk["agent"], channel="phone", title="Hjälp", contact_name="Okänd Uppringare"
        )
    assert error.value.field == "organisation"
    ticket = services.ticket_create(
        actor=desk["agent"],
        channel="phone",
        title="Hjälp",
        contact_name="Okänd Uppringare",
        contact_phone="0322-1",
        organisation=desk["vargarda"],
    )
    assert ticket.requester_label == "Okänd Uppringare"


def test_escalation_and_hand_back_are_recorded_with_reasons_and_line_times(desk):
    ticket = _ticket(desk)
    ticket = services.ticket_assign(
        actor=desk["agent"], ticket=ticket, version=1, assignee=desk["agent"]
    )
    assert ticket.status == Status.ASSIGNED
    with pytest.raises(ValidationFailed) as error:
        services.ticket_escalate(
            actor=desk["agent"],
            ticket=ticket,
            version=ticket.version,
            group=desk["second"],
            reason=" ",
        )
    assert error.value.field == "reason"
    ticket = services.ticket_escalate(
        actor=desk["agent"],
        ticket=ticket,
        version=ticket.version,
        group=desk["second"],
        reason="Kräver serverbehörighet",
    )
    assert (ticket.line, ticket.group, ticket.assignee) == (2, desk["second"], None)
    ticket = services.ticket_hand_back(
        actor=desk["specialist"], ticket=ticket, version=ticket.version, reason="Behörighet ordnad"
    )
    assert (ticket.line, ticket.group) == (1, desk["first"])
    spans = list(LineSpan.objects.filter(ticket=ticket).order_by("started_at", "id"))
    assert [(s.line, s.reason) for s in spans] == [
        (1, "created"),
        (1, "assigned"),
        (2, "escalated"),
        (1, "handed_back"),
    ]
    assert [s.ended_at is None for s in spans] == [False, False, False, True]
    assert spans[2].note == "Kräver serverbehörighet" and spans[2].by == desk["agent"]
    ticket = services.ticket_resolve(
        actor=desk["agent"], ticket=ticket, version=ticket.version, resolution="Klart"
    )
    assert ticket.resolved_in_first_line is False, "it was escalated on the way"
    assert LineSpan.objects.filter(ticket=ticket, ended_at__isnull=True).count() == 0


def test_first_line_resolution_is_marked(desk):
    ticket = _ticket(desk)
    ticket = services.ticket_resolve(
        actor=desk["agent"], ticket=ticket, version=1, resolution="Startade om skrivaren"
    )
    assert ticket.resolved_in_first_line is True
    assert ticket.first_response_at is not None


def test_a_requester_cannot_work_a_ticket(desk):
    ticket = _ticket(desk)
    with pytest.raises(ValidationFailed):
        services.ticket_resolve(
            actor=desk["requester"], ticket=ticket, version=1, resolution="Löste det själv"
        )
    with pytest.raises(ValidationFailed):
        services.ticket_add_note(actor=desk["requester"], ticket=ticket, body="hemligt?")


def test_a_stale_edit_is_refused_and_says_what_changed(desk):
    ticket = _ticket(desk)
    services.ticket_update(actor=desk["agent"], ticket=ticket, version=1, title="Skrivare plan 2")
    with pytest.raises(StaleEdit) as error:
        services.ticket_update(actor=desk["agent"], ticket=ticket, version=1, urgency=1)
    assert error.value.changed["title"] == ["Skrivaren skriver inte ut", "Skrivare plan 2"]
    ticket.refresh_from_db()
    assert ticket.urgency == 2


def test_priority_follows_impact_and_urgency(desk):
    ticket = _ticket(desk, impact=3, urgency=3)
    assert ticket.priority == 4
    ticket = services.ticket_update(
        actor=desk["agent"], ticket=ticket, version=1, impact=1, urgency=1
    )
    assert ticket.priority == 1


def test_waiting_for_the_requester_ends_when_the_requester_replies(desk):
    ticket = _ticket(desk)
    ticket = services.ticket_assign(
        actor=desk["agent"], ticket=ticket, version=1, assignee=desk["agent"]
    )
    ticket = services.ticket_set_status(
        actor=desk["agent"], ticket=ticket, version=ticket.version, status=Status.WAITING_REQUESTER
    )
    services.ticket_reply(actor=desk["requester"], ticket=ticket, body="Modellen är HP 400")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_illegal_status_changes_are_refused(desk):
    ticket = _ticket(desk)
    with pytest.raises(ValidationFailed):
        services.ticket_set_status(
            actor=desk["agent"], ticket=ticket, version=1, status=Status.CLOSED
        )


def test_reply_to_a_resolved_ticket_reopens_it_within_the_window(desk):
    ticket = _ticket(desk)
    ticket = services.ticket_resolve(
        actor=desk["agent"], ticket=ticket, version=1, resolution="Klart"
    )
    services.ticket_reply(actor=desk["requester"], ticket=ticket, body="Det fungerar inte än")
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW and ticket.resolved_at is None
    ticket = services.ticket_resolve(
        actor=desk["agent"], ticket=ticket, version=ticket.version, resolution="Nu klart"
    )
    Ticket.objects.filter(pk=ticket.pk).update(
        resolved_at=timezone.now() - datetime.timedelta(days=30)
    )
    with pytest.raises(ValidationFailed):
        services.ticket_reopen(actor=desk["requester"], ticket=ticket, reason="igen")


def test_resolved_tickets_close_by_themselves_after_n_days(desk):
    fresh = services.ticket_resolve(
        actor=desk["agent"], ticket=_ticket(desk), version=1, resolution="Klart"
    )
    old = services.ticket_resolve(
        actor=desk["agent"], ticket=_ticket(desk), version=1, resolution="Klart"
    )
    Ticket.objects.filter(pk=old.pk).update(resolved_at=timezone.now() - datetime.timedelta(days=6))
    assert services.tickets_close_resolved() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, fresh.status) == (Status.CLOSED, Status.RESOLVED)


def test_merge_folds_a_duplicate_and_the_requester_watches_the_original(desk):
    original = _ticket(desk)
    other = grant(UserFactory(organisation=desk["herrljunga"]), "requester", desk["herrljunga"])
    duplicate = _ticket(desk, requester=other, actor=other)
    services.ticket_merge(actor=desk["agent"], source=duplicate, target=original)
    duplicate.refresh_from_db()
    assert duplicate.status == Status.CANCELLED and duplicate.merged_into == original
    assert other in original.watchers.all()
    assert Ticket.objects.visible_to(other).filter(pk=original.pk).exists()


def test_rating_once_and_only_when_resolved(desk):
    ticket = _ticket(desk)
    with pytest.raises(ValidationFailed):
        services.ticket_rate(ticket=ticket, score=5)
    ticket = services.ticket_resolve(
        actor=desk["agent"], ticket=ticket, version=1, resolution="Klart"
    )
    services.ticket_rate(ticket=ticket, score=4, comment="Snabbt!")
    with pytest.raises(ValidationFailed) as error:
        services.ticket_rate(ticket=ticket, score=1)
    assert error.value.code == "already_rated"
    with pytest.raises(ValidationFailed):
        services.ticket_rate(ticket=_ticket(desk), score=6)


def test_who_sees_which_ticket(desk):
    mine = _ticket(desk)
    colleague = grant(
        UserFactory(organisation=desk["herrljunga"], department=desk["requester"].department),
        "requester",
        desk["herrljunga"],
    )
    theirs = _ticket(desk, requester=colleague, actor=colleague)
    vargarda_agent = grant(UserFactory(organisation=desk["vargarda"]), "agent", desk["vargarda"])

    assert set(Ticket.objects.visible_to(desk["requester"])) == {mine}
    assert set(Ticket.objects.visible_to(desk["agent"])) == {mine, theirs}
    assert not Ticket.objects.visible_to(vargarda_agent).exists()
    # With the department-contact role, a requester follows the department's tickets.
    lead = grant(
        UserFactory(organisation=desk["herrljunga"], department=desk["requester"].department),
        "department_contact",
        desk["herrljunga"],
    )
    assert set(Ticket.objects.visible_to(lead)) == {mine, theirs}


def test_internal_notes_are_not_public(desk):
    ticket = _ticket(desk)
    note = services.ticket_add_note(actor=desk["agent"], ticket=ticket, body="Lösenord: hemligt")
    reply = services.ticket_reply(actor=desk["agent"], ticket=ticket, body="Vi tittar på det")
    assert note.is_public is False and reply.is_public is True
    assert TicketActivity.objects.filter(ticket=ticket, kind="escalation").count() == 0


def test_parent_and_child_without_cycles(desk):
    parent, child = _ticket(desk), _ticket(desk)
    child = services.ticket_set_parent(actor=desk["agent"], ticket=child, version=1, parent=parent)
    assert child.parent == parent
    with pytest.raises(ValidationFailed) as error:
        services.ticket_set_parent(actor=desk["agent"], ticket=parent, version=1, parent=child)
    assert error.value.field == "parent"
    child = services.ticket_set_parent(
        actor=desk["agent"], ticket=child, version=child.version, parent=None
    )
    assert child.parent is None


def test_watchers_follow_a_ticket_and_see_it(desk):
    ticket = _ticket(desk)
    colleague = grant(UserFactory(organisation=desk["herrljunga"]), "requester", desk["herrljunga"])
    assert not Ticket.objects.visible_to(colleague).filter(pk=ticket.pk).exists()
    services.ticket_set_watching(actor=desk["agent"], ticket=ticket, user=colleague, watching=True)
    assert Ticket.objects.visible_to(colleague).filter(pk=ticket.pk).exists()
    # A requester may stop following by themselves, but not add others.
    services.ticket_set_watching(actor=colleague, ticket=ticket, user=colleague, watching=False)
    assert not ticket.watchers.exists()
    with pytest.raises(ValidationFailed):
        services.ticket_set_watching(
            actor=desk["requester"], ticket=ticket, user=colleague, watching=True
        )
    assert AuditEvent.objects.filter(object_id=str(ticket.pk), verb="watch").exists()


def test_the_open_ticket_indexes_cover_exactly_the_open_statuses():
    from arende.servicedesk.models.tickets import OPEN_STATUS_VALUES
    from arende.servicedesk.selectors import OPEN_STATUSES

    assert set(OPEN_STATUS_VALUES) == set(OPEN_STATUSES)
    assert set(OPEN_STATUS_VALUES) | set(Ticket.CLOSED_STATUSES) == set(Status.values)


def test_a_watcher_added_by_staff_is_of_the_tickets_organisation_or_sees_it_anyway(desk):
    ticket = services.ticket_create(
        actor=desk["requester"], channel="portal", title="Skärmen", requester=desk["requester"]
    )
    outsider = UserFactory(organisation=desk["vargarda"])
    with pytest.raises(ValidationFailed) as refused:
        services.ticket_set_watching(
            actor=desk["agent"], ticket=ticket, user=outsider, watching=True
        )
    assert refused.value.field == "user"
    assert not ticket.watchers.exists()
