"""The audit log: written by every service, append-only down to the database."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from arende.core import services
from arende.core.errors import StaleEdit, ValidationFailed
from arende.core.models import AuditEvent, Organisation, Role
from arende.core.models.audit import AuditLogIsAppendOnly
from arende.core.tests.factories import OrganisationFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


def _events_for(obj):
    return AuditEvent.objects.filter(
        object_id=str(obj.pk), content_type__model=obj._meta.model_name
    )


def test_every_core_service_writes_an_event_with_old_and_new_values():
    actor = grant(UserFactory(), "admin")
    org = services.organisation_create(
        actor=actor, name="Alingsås kommun", kind="municipality", org_number="2120001512"
    )
    dept = services.department_create(actor=actor, organisation=org, name="Bildning")
    person = services.user_create(
        actor=actor,
        email="Ny.Person@Alingsas.example",
        first_name="Ny",
        last_name="Person",
        organisation=org,
        department=dept,
    )
    person = services.user_update(actor=actor, user=person, version=1, title="Rektor")
    assignment = services.role_assign(
        actor=actor, user=person, role=Role.objects.get(code="requester"), organisation=org
    )
    services.role_revoke(actor=actor, assignment=assignment)
    services.user_set_active(actor=actor, user=person, version=2, active=False)

    created = _events_for(org).get()
    assert created.action == "create" and created.actor == actor
    assert created.changes["org_number"] == [None, "212000-1512"]
    assert created.organisation_id == org.pk
    actions = list(_events_for(person).order_by("id").values_list("action", "changes"))
    assert [a for a, _ in actions] == ["create", "update", "grant", "revoke", "update"]
    assert actions[1][1]["title"] == ["", "Rektor"]
    assert actions[1][1]["version"] == [1, 2]
    assert actions[2][1]["role"] == [None, "requester"]
    assert actions[4][1]["is_active"] == [True, False]
    assert person.email == "ny.person@alingsas.example"


def test_an_update_that_changes_nothing_writes_nothing():
    org = OrganisationFactory()
    services.organisation_update(actor=None, organisation=org, version=1, name=org.name)
    assert not _events_for(org).exists()
    org.refresh_from_db()
    assert org.version == 1


def test_request_id_and_ip_are_recorded_for_changes_made_in_a_request(client):
    admin = grant(UserFactory(), "admin")
    client.force_login(admin)
    response = client.post(
        "/api/organisations/",
        {"name": "Borås stad", "kind": "municipality", "org_number": "212000-1561"},
        content_type="application/json",
        HTTP_X_REQUEST_ID="req-abc-12345",
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 201, response.content
    assert response["X-Request-ID"] == "req-abc-12345"
    event = AuditEvent.objects.get(object_label="Borås stad")
    assert (event.request_id, event.ip_address, event.actor) == ("req-abc-12345", "10.1.2.3", admin)


def test_logins_and_failed_logins_are_audited(client):
    user = UserFactory(email="login@test.example")
    client.post("/accounts/login/", {"login": "login@test.example", "password": "wrong-one"})
    client.post("/accounts/login/", {"login": "login@test.example", "password": "test-password-1"})
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "actor_label"))
    assert actions[0] == ("login_failed", "login@test.example")
    assert actions[1][0] == "login" and user.email in actions[1][1]


def test_the_orm_refuses_to_change_or_delete_events():
    event = (
        services.organisation_create(
            actor=None, name="X kommun", kind="municipality", org_number="2120001579"
        )
        and AuditEvent.objects.get()
    )
    event.action = "delete"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().update(action="other")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_raw_update_and_delete_on_the_audit_table():
    services.organisation_create(
        actor=None, name="Y kommun", kind="municipality", org_number="2120001587"
    )
    assert AuditEvent.objects.count() == 1
    for statement in ("UPDATE core_auditevent SET action = 'other'", "DELETE FROM core_auditevent"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AuditEvent.objects.get().action == "create"


def test_a_stale_edit_is_refused_and_explains_what_changed():
    org = OrganisationFactory(short_name="Gammalt")
    services.organisation_update(actor=None, organisation=org, version=1, short_name="Nytt")
    with pytest.raises(StaleEdit) as error:
        services.organisation_update(actor=None, organisation=org, version=1, short_name="Mitt")
    assert error.value.current_version == 2
    assert error.value.changed == {"short_name": ["Gammalt", "Nytt"]}
    org.refresh_from_db()
    assert org.short_name == "Nytt"


def test_department_rules_are_enforced_by_the_service():
    herrljunga, vargarda = OrganisationFactory(), OrganisationFactory()
    top = services.department_create(actor=None, organisation=herrljunga, name="Omsorg")
    child = services.department_create(
        actor=None, organisation=herrljunga, name="Hemtjänst", parent=top
    )
    with pytest.raises(ValidationFailed) as error:
        services.department_create(actor=None, organisation=vargarda, name="Fel", parent=top)
    assert error.value.field == "parent"
    with pytest.raises(ValidationFailed) as error:
        services.department_update(actor=None, department=top, version=1, parent=child)
    assert error.value.field == "parent" and error.value.code == "invalid"
    top.refresh_from_db()
    assert top.parent is None
    with pytest.raises(ValidationFailed) as error:
        services.user_create(
            actor=None,
            email="a@b.example",
            first_name="A",
            last_name="B",
            organisation=vargarda,
            department=child,
        )
    assert error.value.field == "department"


def test_duplicate_email_is_refused_whatever_the_case():
    services.user_create(actor=None, email="dup@test.example", first_name="A", last_name="B")
    with pytest.raises(ValidationFailed) as error:
        services.user_create(actor=None, email="DUP@test.example", first_name="C", last_name="D")
    assert error.value.field == "email"


def test_organisation_numbers_are_validated_by_the_service():
    with pytest.raises(ValidationFailed) as error:
        services.organisation_create(
            actor=None, name="Fel AB", kind="company", org_number="556000-0000"
        )
    assert error.value.field == "org_number"
    assert not Organisation.objects.filter(name="Fel AB").exists()
