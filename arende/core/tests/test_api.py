"""The REST API: schema and docs, token auth, writes through the services, conflicts."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from arende.core.models import AuditEvent, User
from arende.core.tests.factories import OrganisationFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api():
    admin = grant(UserFactory(), "admin")
    api = APIClient()
    api.force_authenticate(admin)
    return api, admin


def test_schema_describes_the_endpoints(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/organisations/",
        "/api/departments/",
        "/api/users/{id}/",
        "/api/audit-events/",
    ):
        assert path in paths


def test_docs_page_uses_only_vendored_assets(client):
    html = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "https://" not in html


def test_token_authentication_and_the_same_scoping():
    herrljunga, vargarda = OrganisationFactory(), OrganisationFactory()
    viewer = grant(UserFactory(organisation=vargarda), "agent", vargarda)
    other = UserFactory(organisation=herrljunga)
    token = Token.objects.create(user=viewer)
    api = APIClient()
    assert api.get("/api/users/").status_code in (401, 403)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    ids = {row["id"] for row in api.get("/api/users/").json()["results"]}
    assert viewer.pk in ids and other.pk not in ids


def test_create_and_update_through_the_api_are_audited(admin_api):
    api, admin = admin_api
    org = OrganisationFactory()
    created = api.post(
        "/api/users/",
        {
            "email": "Ny@Kommun.example",
            "first_name": "Ny",
            "last_name": "Användare",
            "organisation": org.pk,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["email"] == "ny@kommun.example"
    user_id = created.json()["id"]
    updated = api.patch(f"/api/users/{user_id}/", {"title": "Rektor", "version": 1}, format="json")
    assert updated.status_code == 200, updated.content
    assert updated.json()["version"] == 2
    actions = list(
        AuditEvent.objects.filter(object_id=str(user_id), content_type__model="user")
        .order_by("id")
        .values_list("action", "actor")
    )
    assert actions == [("create", admin.pk), ("update", admin.pk)]


def test_a_stale_api_edit_gets_409_with_what_changed(admin_api):
    api, _admin = admin_api
    person = UserFactory(title="Lärare")
    assert (
        api.patch(
            f"/api/users/{person.pk}/", {"title": "Rektor", "version": 1}, format="json"
        ).status_code
        == 200
    )
    stale = api.patch(f"/api/users/{person.pk}/", {"title": "Kurator", "version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["changed"] == {"title": ["Lärare", "Rektor"]}
    assert stale.json()["current_version"] == 2
    person.refresh_from_db()
    assert person.title == "Rektor"


def test_an_update_without_version_is_refused(admin_api):
    api, _admin = admin_api
    person = UserFactory()
    response = api.patch(f"/api/users/{person.pk}/", {"title": "X"}, format="json")
    assert response.status_code == 400
    assert "version" in response.json()


def test_domain_errors_name_the_field(admin_api):
    api, _admin = admin_api
    response = api.post(
        "/api/organisations/",
        {"name": "Fel", "kind": "municipality", "org_number": "212000-1521"},
        format="json",
    )
    assert response.status_code == 400
    assert "org_number" in response.json()


def test_writes_need_the_permission_for_that_organisation():
    herrljunga, vargarda = OrganisationFactory(), OrganisationFactory()
    agent = grant(UserFactory(organisation=vargarda), "agent")
    api = APIClient()
    api.force_authenticate(agent)
    target = UserFactory(organisation=herrljunga)
    response = api.patch(f"/api/users/{target.pk}/", {"title": "X", "version": 1}, format="json")
    assert response.status_code == 403
    assert (
        api.post(
            "/api/organisations/", {"name": "N", "kind": "municipality"}, format="json"
        ).status_code
        == 403
    )
    scoped_admin = grant(UserFactory(organisation=vargarda), "admin", vargarda)
    api.force_authenticate(scoped_admin)
    # An administrator for Vårgårda cannot even see, let alone change, a Herrljunga person.
    assert (
        api.patch(
            f"/api/users/{target.pk}/", {"title": "X", "version": 1}, format="json"
        ).status_code
        == 404
    )
    moved = api.post(
        "/api/users/",
        {
            "email": "x@y.example",
            "first_name": "X",
            "last_name": "Y",
            "organisation": herrljunga.pk,
        },
        format="json",
    )
    assert moved.status_code == 400  # Herrljunga is not a choice for a Vårgårda admin
    assert not User.objects.filter(email="x@y.example").exists()


def test_audit_events_api_is_for_those_who_may_read_the_log(admin_api):
    api, _admin = admin_api
    OrganisationFactory()
    api.post(
        "/api/organisations/",
        {"name": "Lerums kommun", "kind": "municipality", "org_number": "212000-1553"},
        format="json",
    )
    assert api.get("/api/audit-events/").json()["count"] >= 1
    requester = UserFactory()
    other = APIClient()
    other.force_authenticate(requester)
    assert other.get("/api/audit-events/").json()["count"] == 0
