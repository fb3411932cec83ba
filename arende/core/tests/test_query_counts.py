"""List pages issue a constant number of queries, whatever the amount of data."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arende.core import services
from arende.core.tests.factories import DepartmentFactory, OrganisationFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _add_people(organisation, how_many: int) -> None:
    department = DepartmentFactory(organisation=organisation)
    for _ in range(how_many):
        person = UserFactory(organisation=organisation, department=department)
        services.user_update(actor=None, user=person, version=1, title="Handläggare")


@pytest.mark.parametrize(
    "url", ["/people/", "/audit/", "/organisations/", "/api/users/", "/api/audit-events/"]
)
def test_list_pages_do_not_grow_with_the_data(client, url):
    organisation = OrganisationFactory()
    viewer = grant(UserFactory(organisation=organisation), "admin")
    client.force_login(viewer)
    _add_people(organisation, 5)
    few = _count(client, url)
    _add_people(organisation, 25)
    _add_people(OrganisationFactory(), 10)
    many = _count(client, url)
    assert many == few, f"{url}: {few} queries with little data, {many} with more"


def test_organisation_page_does_not_grow_with_departments(client):
    organisation = OrganisationFactory()
    viewer = grant(UserFactory(organisation=organisation), "manager")
    client.force_login(viewer)
    DepartmentFactory(organisation=organisation)
    few = _count(client, f"/organisations/{organisation.pk}/")
    for _ in range(10):
        parent = DepartmentFactory(organisation=organisation)
        DepartmentFactory(organisation=organisation, parent=parent)
    assert _count(client, f"/organisations/{organisation.pk}/") == few
