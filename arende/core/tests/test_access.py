"""Role × organisation matrix: who can read a Herrljunga person's record, by UI and API."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from arende.core.models import Department, Organisation, User
from arende.core.tests.factories import OrganisationFactory, UserFactory, grant

pytestmark = pytest.mark.django_db

ROLES = [
    "requester",
    "switchboard",
    "agent",
    "specialist",
    "incident_manager",
    "change_manager",
    "manager",
    "controller",
    "architect",
    "board_member",
    "auditor",
    "admin",
]

# Can a holder of ROLE, scoped to (Herrljunga | Vårgårda | all organisations), read the record of
# a Herrljunga employee? Written out by hand on purpose: this table is the access policy.
EXPECTED = {
    #                    Herrljunga  Vårgårda  all
    "requester": (False, False, False),
    "switchboard": (True, False, True),
    "agent": (True, False, True),
    "specialist": (True, False, True),
    "incident_manager": (True, False, True),
    "change_manager": (True, False, True),
    "manager": (True, False, True),
    "controller": (True, False, True),
    "architect": (True, False, True),
    "board_member": (False, False, False),
    "auditor": (False, False, False),
    "admin": (True, False, True),
}
SCOPES = ["herrljunga", "vargarda", "all"]


@pytest.fixture
def world():
    herrljunga = OrganisationFactory(name="Herrljunga kommun", org_number="212000-1520")
    vargarda = OrganisationFactory(name="Vårgårda kommun", org_number="212000-1454")
    it_unit = OrganisationFactory(name="IT-nämnden", org_number="", kind="joint_board")
    target = UserFactory(organisation=herrljunga, first_name="Hemlig", last_name="Herrljungabo")
    return {
        "herrljunga": herrljunga,
        "vargarda": vargarda,
        "all": None,
        "it": it_unit,
        "target": target,
    }


def _viewer(world, role: str, scope: str) -> User:
    home = world["it"] if scope == "all" else world[scope]
    return grant(UserFactory(organisation=home), role, world[scope])


def _strip_tokens(html: bytes) -> str:
    text = html.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    # The language switch returns to the page it was on, which names the requested path.
    return re.sub(r'name="next" value="[^"]+"', "", text)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("scope_index, scope", list(enumerate(SCOPES)))
def test_person_record_by_ui_and_api(client, world, role, scope_index, scope):
    viewer = _viewer(world, role, scope)
    target = world["target"]
    expected = EXPECTED[role][scope_index]

    assert User.objects.visible_to(viewer).filter(pk=target.pk).exists() is expected

    client.force_login(viewer)
    page = client.get(f"/people/{target.pk}/")
    assert page.status_code == (200 if expected else 404)

    api = APIClient()
    api.force_authenticate(viewer)
    detail = api.get(f"/api/users/{target.pk}/")
    assert detail.status_code == (200 if expected else 404)
    listed = {row["id"] for row in api.get("/api/users/", {"limit": 500}).json()["results"]}
    assert (target.pk in listed) is expected
    assert viewer.pk in listed, "everyone can read their own record"

    if not expected:
        # A hidden record must answer exactly like one that does not exist.
        missing_page = client.get("/people/999999/")
        assert _strip_tokens(page.content) == _strip_tokens(missing_page.content)
        assert detail.json() == api.get("/api/users/999999/").json()


def test_vargarda_agent_cannot_find_herrljunga_people_in_lists_or_filters(client, world):
    viewer = _viewer(world, "agent", "vargarda")
    client.force_login(viewer)
    page = client.get("/people/", {"q": "Herrljungabo"})
    assert page.status_code == 200
    assert "Hemlig Herrljungabo" not in page.content.decode()
    # Filtering by the other municipality is refused as an invalid choice, not answered.
    page = client.get("/people/", {"organisation": world["herrljunga"].pk})
    assert "Hemlig Herrljungabo" not in page.content.decode()


def test_departments_and_organisations_follow_the_same_scope(world):
    herrljunga_dept = Department.objects.create(organisation=world["herrljunga"], name="Omsorg")
    viewer = _viewer(world, "agent", "vargarda")
    assert not Department.objects.visible_to(viewer).filter(pk=herrljunga_dept.pk).exists()
    assert set(Organisation.objects.visible_to(viewer)) == {world["vargarda"]}

    requester = grant(
        UserFactory(organisation=world["herrljunga"]), "requester", world["herrljunga"]
    )
    # A requester sees own organisation and its departments (to pick one in a form)...
    assert Department.objects.visible_to(requester).filter(pk=herrljunga_dept.pk).exists()
    assert set(Organisation.objects.visible_to(requester)) == {world["herrljunga"]}
    # ...but no one else's record.
    assert list(User.objects.visible_to(requester)) == [requester]


def test_inactive_and_anonymous_users_see_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    viewer = _viewer(world, "manager", "all")
    viewer.is_active = False
    viewer.save()
    assert not User.objects.visible_to(viewer).exists()
    assert not User.objects.visible_to(AnonymousUser()).exists()


def test_pages_a_role_lacks_are_forbidden(client, world):
    requester = grant(
        UserFactory(organisation=world["herrljunga"]), "requester", world["herrljunga"]
    )
    client.force_login(requester)
    for url in ("/people/", "/organisations/", "/audit/", "/status/"):
        assert client.get(url).status_code == 403, url
    assert client.get("/").status_code == 200


def test_has_perm_with_an_object_respects_the_organisation(world):
    viewer = _viewer(world, "agent", "vargarda")
    assert viewer.has_perm("core.view_user")
    assert viewer.has_perm("core.view_user", UserFactory(organisation=world["vargarda"]))
    assert not viewer.has_perm("core.view_user", world["target"])
    assert not viewer.has_perm("core.change_user")


def test_navigation_shows_only_what_the_role_may_use(client, world):
    requester = grant(
        UserFactory(organisation=world["herrljunga"]), "requester", world["herrljunga"]
    )
    client.force_login(requester)
    html = client.get("/").content.decode()
    assert 'href="/audit/"' not in html and 'href="/people/"' not in html

    manager = _viewer(world, "manager", "all")
    client.force_login(manager)
    html = client.get("/").content.decode()
    assert 'href="/audit/"' in html and 'href="/people/"' in html and 'href="/status/"' in html


def test_django_permissions_outside_roles_grant_nothing(world):
    """Access comes from roles, scoped to organisations; a permission or group given to a
    person in Django's own tables (e.g. through the admin) is not a second way in."""
    from django.contrib.auth.models import Group, Permission

    person = UserFactory(organisation=world["herrljunga"])
    view_ticket = Permission.objects.get(
        codename="view_ticket", content_type__app_label="servicedesk"
    )
    person.user_permissions.add(view_ticket)
    group = Group.objects.create(name="Gamla behörigheter")
    group.permissions.add(view_ticket)
    person.groups.add(group)
    person = User.objects.get(pk=person.pk)  # no cached permissions
    assert not person.has_perm("servicedesk.view_ticket")
    assert person.get_all_permissions() == set()

    boss = UserFactory(organisation=world["herrljunga"], is_superuser=True)
    assert boss.has_perm("servicedesk.view_ticket"), "a superuser still has every permission"


def test_it_staff_is_a_staff_role_held_for_all_organisations(world, django_assert_max_num_queries):
    from arende.core import access
    from arende.core.models import Role, RoleAssignment

    agent = grant(UserFactory(organisation=world["it"]), "agent")
    local = grant(UserFactory(organisation=world["vargarda"]), "agent", world["vargarda"])
    requester = grant(UserFactory(organisation=world["herrljunga"]), "requester")
    bare_role = Role.objects.create(code="bare-staff", name="Utan behörigheter", is_it_staff=True)
    bare = UserFactory(organisation=world["it"])
    RoleAssignment.objects.create(user=bare, role=bare_role, organisation=None)
    fresh = [User.objects.get(pk=u.pk) for u in (agent, local, requester, bare)]
    with django_assert_max_num_queries(4):  # one each: read with the grants
        answers = [
            (access.is_it_staff(u), access.has_scoped_perm(u, "servicedesk.view_ticket"))
            for u in fresh
        ]
    assert answers == [(True, True), (False, True), (False, False), (True, False)]


def test_the_admin_offers_no_django_groups(admin_client):
    assert admin_client.get("/admin/auth/group/").status_code == 404
