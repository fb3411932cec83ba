"""The cached choice lists of the desk's forms: they follow every change, and never let a
stale choice through."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.http import QueryDict

from arende.core.tests.factories import OrganisationFactory, UserFactory, grant
from arende.servicedesk.choices import CHOICES, group_choices, member_choices
from arende.servicedesk.forms import BulkForm
from arende.servicedesk.tests.factories import SupportGroupFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    it = OrganisationFactory(kind="joint_board", org_number="")
    anna = grant(UserFactory(organisation=it, first_name="Anna", last_name="Berg"), "agent")
    bo = grant(UserFactory(organisation=it, first_name="Bo", last_name="Ek"), "specialist")
    desk = SupportGroupFactory(name="Servicedesk", line=1, members=[anna])
    server = SupportGroupFactory(name="Server", line=2, members=[bo])
    return dict(anna=anna, bo=bo, desk=desk, server=server)


def _offered(form, name: str) -> list[str]:
    return [str(label) for _value, label in form.fields[name].choices]


def test_the_lists_name_the_active_groups_and_their_members(people):
    assert group_choices() == [(people["desk"].pk, "Servicedesk"), (people["server"].pk, "Server")]
    assert group_choices(2) == [(people["server"].pk, "Server")]
    assert member_choices() == [(people["anna"].pk, "Anna Berg"), (people["bo"].pk, "Bo Ek")]
    assert member_choices(1) == [(people["anna"].pk, "Anna Berg")]


def test_a_cached_list_is_read_once(people, django_assert_num_queries):
    group_choices(), member_choices()
    with django_assert_num_queries(0):
        BulkForm()


@pytest.mark.parametrize(
    "change",
    ["new group", "renamed group", "deactivated group", "new member", "left group", "renamed"],
)
def test_every_change_shows_at_once(people, change):
    BulkForm()  # the lists are cached now
    if change == "new group":
        SupportGroupFactory(name="Nätverk", line=2)
    elif change == "renamed group":
        people["server"].name = "Serverdrift"
        people["server"].save()
    elif change == "deactivated group":
        people["server"].is_active = False
        people["server"].save()
    elif change == "new member":
        cecilia = UserFactory(first_name="Cecilia", last_name="Ö")
        people["desk"].members.add(cecilia)
    elif change == "left group":
        people["server"].members.remove(people["bo"])
    elif change == "renamed":
        people["bo"].last_name = "Eklund"
        people["bo"].save()
    groups, members = _offered(BulkForm(), "group"), _offered(BulkForm(), "assignee")
    expected = {
        "new group": ("Nätverk" in groups, True),
        "renamed group": ("Serverdrift" in groups and "Server" not in groups, True),
        "deactivated group": ("Server" not in groups, True),
        "new member": ("Cecilia Ö" in members, True),
        "left group": ("Bo Ek" not in members, True),
        "renamed": ("Bo Eklund" in members and "Bo Ek" not in members, True),
    }[change]
    assert expected[0] is expected[1], (groups, members)


def test_a_login_does_not_empty_the_lists(people, client):
    group_choices()
    generation = cache.get(CHOICES.generation_key)
    client.force_login(people["anna"])
    people["anna"].save(update_fields=["last_login"])
    assert cache.get(CHOICES.generation_key) == generation


def test_the_lists_are_read_again_after_the_commit(people, django_capture_on_commit_callbacks):
    group_choices()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        SupportGroupFactory(name="Nätverk", line=2)
    moved = cache.get(CHOICES.generation_key)
    for callback in callbacks:
        callback()
    assert cache.get(CHOICES.generation_key) != moved, "bumped once more when the change commits"


def test_a_stale_choice_is_still_refused(people):
    form = BulkForm()
    offered = [value for value, _label in form.fields["group"].choices if value]
    assert people["server"].pk in offered
    # The group is closed without any signal (a queryset update): the cached list still
    # offers it, but the form checks the submitted value against the database.
    type(people["server"]).objects.filter(pk=people["server"].pk).update(is_active=False)
    assert people["server"].pk in [value for value, _label in BulkForm().fields["group"].choices]
    data = QueryDict(mutable=True)
    data.update({"tickets": "1:1", "action": "assign", "group": str(people["server"].pk)})
    submitted = BulkForm(data)
    assert not submitted.is_valid()
    assert "group" in submitted.errors
