"""The service catalogue editor: its services (rules, audit, versions) and its pages (roles)."""

from __future__ import annotations

import pytest
from django.utils import translation

from arende.core.errors import StaleEdit, ValidationFailed
from arende.core.models import AuditEvent, Role
from arende.core.tests.factories import OrganisationFactory, UserFactory, grant
from arende.servicedesk.models import RequestType, Service
from arende.servicedesk.services import catalogue as services
from arende.servicedesk.tests.factories import SupportGroupFactory

pytestmark = pytest.mark.django_db

CHOICE = {"name": "behorighet", "label": "Vilken behörighet?", "type": "choice", "required": True}


@pytest.fixture
def people():
    herrljunga, vargarda = OrganisationFactory(), OrganisationFactory()
    it = OrganisationFactory(kind="joint_board", org_number="")
    return dict(
        manager=grant(UserFactory(organisation=it), "manager"),
        admin=grant(UserFactory(organisation=it), "admin"),
        agent=grant(UserFactory(organisation=it), "agent"),
        vargarda_manager=grant(UserFactory(organisation=vargarda), "manager", vargarda),
        requester=grant(UserFactory(organisation=herrljunga), "requester", herrljunga),
    )


@pytest.fixture
def service(people):
    return services.service_create(
        actor=people["manager"], name="E-post", description="Outlook och Exchange"
    )


def _events(instance, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_id=str(instance.pk), action=action))


# Services --------------------------------------------------------------------------------------


def test_creating_and_editing_a_service_is_audited_and_versioned(people, service):
    group = SupportGroupFactory(name="Drift", line=2)
    [created] = _events(service, "create")
    assert created.actor_id == people["manager"].pk
    assert created.changes["name"] == [None, "E-post"]

    edited = services.service_update(
        actor=people["admin"], service=service, version=1, default_group=group, is_public=False
    )
    assert (edited.version, edited.default_group_id, edited.is_public) == (2, group.pk, False)
    [update] = _events(service, "update")
    assert update.changes["default_group"] == [None, "Drift"]
    assert update.changes["version"] == [1, 2]


def test_a_stale_service_edit_is_refused_with_what_changed(people, service):
    services.service_update(actor=people["admin"], service=service, version=1, name="E-post 365")
    with pytest.raises(StaleEdit) as refused:
        services.service_update(
            actor=people["manager"], service=service, version=1, description="Ny text"
        )
    assert refused.value.changed["name"] == ["E-post", "E-post 365"]
    service.refresh_from_db()
    assert (service.description, service.version) == ("Outlook och Exchange", 2)


def test_deactivating_keeps_the_service(people, service):
    services.service_update(actor=people["manager"], service=service, version=1, is_active=False)
    service.refresh_from_db()
    assert not service.is_active and Service.objects.filter(pk=service.pk).exists()


def test_a_duplicate_service_name_names_the_field(people, service):
    with pytest.raises(ValidationFailed) as refused:
        services.service_create(actor=people["manager"], name="E-post")
    assert refused.value.field == "name"


@pytest.mark.parametrize("who", ["agent", "vargarda_manager", "requester"])
def test_only_an_editor_for_every_organisation_may_change_the_catalogue(people, service, who):
    with pytest.raises(ValidationFailed) as refused:
        services.service_create(actor=people[who], name="Telefoni")
    assert refused.value.code == "forbidden"
    with pytest.raises(ValidationFailed):
        services.service_update(actor=people[who], service=service, version=1, name="X")
    assert not Service.objects.filter(name__in=["Telefoni", "X"]).exists()


# Request types and their fields ----------------------------------------------------------------


def test_field_definitions_are_normalised():
    cleaned = services.validate_field_definitions(
        [
            {"name": "kostnadsstalle", "label": " Kostnadsställe ", "required": "on"},
            {**CHOICE, "choices": [" Läsa ", "Skriva", ""]},
        ]
    )
    assert cleaned == [
        {"name": "kostnadsstalle", "label": "Kostnadsställe", "type": "text", "required": True},
        {**CHOICE, "choices": ["Läsa", "Skriva"]},
    ]


@pytest.mark.parametrize(
    ("definitions", "words"),
    [
        ([{"name": "Kostnad", "label": "Kostnad"}], "Field 1: The technical name"),
        ([{"name": "a", "label": ""}], "Field 1: Give the field a label"),
        ([{"name": "a", "label": "A", "type": "file"}], "Field 1: The type must be"),
        ([{**CHOICE, "choices": ["Läsa"]}], "Field 1: A choice needs at least two options"),
        ([{**CHOICE, "choices": ["Läsa", "Läsa"]}], "Field 1: An option is given twice"),
        ([{"name": "a", "label": "A", "choices": ["x", "y"]}], "Field 1: Only a field of the type"),
        ([{"name": "a", "label": "A"}, {"name": "a", "label": "B"}], "Field 2: the technical"),
        ("inte en lista", "The fields must be a list"),
    ],
)
def test_bad_field_definitions_are_refused_with_the_field_named(definitions, words):
    with translation.override("en"), pytest.raises(ValidationFailed) as refused:
        services.validate_field_definitions(definitions)
    assert refused.value.field == "fields"
    assert refused.value.message.startswith(words)


def test_the_messages_are_swedish():
    with translation.override("sv"), pytest.raises(ValidationFailed) as refused:
        services.validate_field_definitions([{"name": "a", "label": ""}])
    assert refused.value.message.startswith("Fält 1:")


def test_a_request_type_with_fields_and_role_approval(people, service):
    approver = Role.objects.get(code="manager")
    request_type = services.request_type_create(
        actor=people["manager"],
        service=service,
        name="Ny funktionsbrevlåda",
        fields=[{**CHOICE, "choices": ["Läsa", "Skicka som"]}],
        approval=RequestType.Approval.ROLE,
        approver_role=approver,
    )
    assert request_type.fields[0]["choices"] == ["Läsa", "Skicka som"]
    assert _events(request_type, "create")[0].changes["approval"] == [None, "role"]
    with pytest.raises(ValidationFailed) as refused:
        services.request_type_create(
            actor=people["manager"], service=service, name="Utan godkännare", approval="role"
        )
    assert refused.value.field == "approver_role"
    # Without a role approval the approver role is dropped, not kept dangling.
    token = services.request_type_token(request_type)
    changed = services.request_type_update(
        actor=people["admin"], request_type=request_type, seen=token, approval="none"
    )
    assert changed.approver_role_id is None
    [update] = _events(request_type, "update")
    assert update.actor_id == people["admin"].pk
    assert set(update.changes) == {"approval", "approver_role"}


def test_a_stale_request_type_edit_is_refused_with_what_changed(people, service):
    request_type = services.request_type_create(
        actor=people["manager"], service=service, name="Ny brevlåda"
    )
    token = services.request_type_token(request_type)
    services.request_type_update(
        actor=people["admin"], request_type=request_type, seen=token, description="Ändrad"
    )
    with pytest.raises(StaleEdit) as refused:
        services.request_type_update(
            actor=people["manager"], request_type=request_type, seen=token, name="Annat namn"
        )
    assert refused.value.changed == {"description": ["", "Ändrad"]}
    request_type.refresh_from_db()
    assert request_type.name == "Ny brevlåda"
    assert len(_events(request_type, "update")) == 1


def test_deactivating_a_request_type_and_a_refused_edit_by_an_agent(people, service):
    request_type = services.request_type_create(
        actor=people["manager"], service=service, name="Ny brevlåda"
    )
    token = services.request_type_token(request_type)
    with pytest.raises(ValidationFailed):
        services.request_type_update(
            actor=people["agent"], request_type=request_type, seen=token, is_active=False
        )
    services.request_type_update(
        actor=people["manager"], request_type=request_type, seen=token, is_active=False
    )
    request_type.refresh_from_db()
    assert not request_type.is_active


# Pages -----------------------------------------------------------------------------------------


def test_the_pages_need_the_catalogue_role_for_every_organisation(client, people, service):
    request_type = services.request_type_create(
        actor=people["manager"], service=service, name="Ny brevlåda"
    )
    urls = [
        "/catalogue/",
        "/catalogue/services/new/",
        f"/catalogue/services/{service.pk}/",
        f"/catalogue/services/{service.pk}/request-types/new/",
        f"/catalogue/request-types/{request_type.pk}/",
    ]
    for who in ("agent", "vargarda_manager", "requester"):
        client.force_login(people[who])
        for url in urls:
            assert client.get(url).status_code == 403, (who, url)
        assert client.post(urls[2], {"name": "X", "version": 1}).status_code == 403
        assert "/catalogue/" not in client.get("/").content.decode()
    for who in ("manager", "admin"):
        client.force_login(people[who])
        for url in urls:
            assert client.get(url).status_code == 200, (who, url)
        assert 'href="/catalogue/"' in client.get("/").content.decode()
    service.refresh_from_db()
    assert service.name == "E-post"


def test_the_list_shows_services_with_their_request_types(client, people, service):
    services.request_type_create(actor=people["manager"], service=service, name="Ny brevlåda")
    client.force_login(people["manager"])
    page = client.get("/catalogue/").content.decode()
    assert "E-post" in page and "Ny brevlåda" in page


def test_creating_and_editing_a_service_through_the_page(client, people):
    group = SupportGroupFactory(name="Servicedesk", line=1)
    client.force_login(people["manager"])
    response = client.post(
        "/catalogue/services/new/",
        {"name": "Telefoni", "description": "Växel", "default_group": group.pk, "is_public": "on"},
    )
    assert response.status_code == 302, response.content.decode()
    service = Service.objects.get(name="Telefoni")
    assert service.default_group == group
    edit = f"/catalogue/services/{service.pk}/"
    saved = client.post(edit, {"name": "Telefoni och växel", "version": 1, "is_active": ""})
    assert saved.status_code == 302
    service.refresh_from_db()
    assert (service.name, service.is_active, service.is_public, service.version) == (
        "Telefoni och växel",
        False,
        False,
        2,
    )
    stale = client.post(edit, {"name": "Något annat", "version": 1})
    assert stale.status_code == 409
    page = stale.content.decode()
    assert "Telefoni och växel" in page and 'value="2"' in page  # rebased on the current one
    service.refresh_from_db()
    assert service.name == "Telefoni och växel"


def _request_type_data(service, **overrides):
    data = {
        "service": service.pk,
        "name": "Ny funktionsbrevlåda",
        "description": "",
        "kind": "request",
        "category": "",
        "approval": "none",
        "approver_role": "",
        "fields-TOTAL_FORMS": "2",
        "fields-INITIAL_FORMS": "0",
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "30",
        "fields-0-name": "behorighet",
        "fields-0-label": "Vilken behörighet?",
        "fields-0-type": "choice",
        "fields-0-required": "on",
        "fields-0-choices": "Läsa\nSkicka som\n",
        "fields-0-help": "",
        "fields-1-name": "",
        "fields-1-label": "",
        "fields-1-type": "text",
        "fields-1-choices": "",
        "fields-1-help": "",
    }
    data.update(overrides)
    return data


def test_creating_and_editing_a_request_type_with_fields_through_the_page(client, people, service):
    client.force_login(people["manager"])
    url = f"/catalogue/services/{service.pk}/request-types/new/"
    response = client.post(url, _request_type_data(service))
    assert response.status_code == 302, response.content.decode()
    request_type = RequestType.objects.get(name="Ny funktionsbrevlåda")
    assert request_type.fields == [{**CHOICE, "choices": ["Läsa", "Skicka som"]}]

    edit = f"/catalogue/request-types/{request_type.pk}/"
    page = client.get(edit).content.decode()
    seen = services.request_type_token(request_type)
    assert 'name="fields-0-name"' in page and "behorighet" in page
    data = _request_type_data(
        service,
        seen=seen,
        is_active="on",
        approval="role",
        approver_role=Role.objects.get(code="manager").pk,
        **{"fields-INITIAL_FORMS": "1", "fields-0-DELETE": "on"},
    )
    saved = client.post(edit, data)
    assert saved.status_code == 302, saved.content.decode()
    request_type.refresh_from_db()
    assert request_type.fields == [] and request_type.approval == "role"

    stale = client.post(edit, {**data, "name": "Annat"})
    assert stale.status_code == 409
    request_type.refresh_from_db()
    assert request_type.name == "Ny funktionsbrevlåda"


def test_a_bad_field_is_shown_next_to_its_input(client, people, service):
    client.force_login(people["manager"])
    url = f"/catalogue/services/{service.pk}/request-types/new/"
    response = client.post(
        url, _request_type_data(service, **{"fields-0-choices": "Bara en", "approval": "role"})
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_fields-0-choices_error"' in page
    assert 'aria-describedby="id_fields-0-choices_helptext id_fields-0-choices_error"' in page
    assert 'id="id_approver_role_error"' in page
    assert not RequestType.objects.exists()
