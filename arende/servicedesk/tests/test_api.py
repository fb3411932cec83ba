"""The service desk API: schema, token auth, scoping, the requester/staff views and the actions."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from arende.core.models import AuditEvent, User
from arende.core.tests.factories import OrganisationFactory, UserFactory, grant
from arende.servicedesk import services
from arende.servicedesk.models import (
    Attachment,
    Category,
    Service,
    Ticket,
    TicketActivity,
    TicketLink,
)
from arende.servicedesk.tests.factories import SupportGroupFactory

pytestmark = pytest.mark.django_db

Status = Ticket.Status
NOTE_TEXT = "Lösenordet till skrivarservern står i valvet"
ESCALATION_REASON = "Kräver behörighet i AD som första linjen saknar"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def desk():
    herrljunga, vargarda = OrganisationFactory(), OrganisationFactory()
    it = OrganisationFactory(kind="joint_board", org_number="")
    agent = grant(UserFactory(organisation=it), "agent")
    specialist = grant(UserFactory(organisation=it), "specialist")
    vargarda_agent = grant(UserFactory(organisation=vargarda), "agent", vargarda)
    first = SupportGroupFactory(name="Servicedesk", line=1, members=[agent])
    second = SupportGroupFactory(name="Drift", line=2, members=[specialist])
    requester = grant(UserFactory(organisation=herrljunga), "requester", herrljunga)
    colleague = grant(UserFactory(organisation=herrljunga), "requester", herrljunga)
    return dict(
        herrljunga=herrljunga,
        vargarda=vargarda,
        agent=agent,
        specialist=specialist,
        vargarda_agent=vargarda_agent,
        first=first,
        second=second,
        requester=requester,
        colleague=colleague,
    )


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _ticket(desk, requester=None, **kwargs) -> Ticket:
    requester = requester or desk["requester"]
    values = dict(
        actor=requester, channel="portal", title="Skrivaren skriver inte ut", requester=requester
    )
    values.update(kwargs)
    return services.ticket_create(**values)


def _url(ticket, action: str = "") -> str:
    return f"/api/tickets/{ticket.pk}/{action + '/' if action else ''}"


# The schema ------------------------------------------------------------------------------------


def test_schema_documents_every_endpoint_action_and_body(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in (
        "/api/tickets/",
        "/api/tickets/{id}/",
        "/api/tickets/{id}/activities/",
        "/api/tickets/{id}/attachments/",
        "/api/tickets/{id}/attachments/{attachment_id}/",
        "/api/tickets/{id}/children/",
        "/api/tickets/{id}/watchers/",
        "/api/tickets/{id}/watchers/{user_id}/",
        "/api/support-groups/",
        "/api/services/",
        "/api/categories/",
    ):
        assert path in paths, path
    actions = (
        "assign",
        "escalate",
        "hand-back",
        "reply",
        "note",
        "resolve",
        "reopen",
        "cancel",
        "status",
        "merge",
        "link",
        "parent",
        "watchers",
    )
    for name in actions:
        operation = paths[f"/api/tickets/{{id}}/{name}/"]["post"]
        assert "requestBody" in operation, name
        assert operation["responses"], name
    assert "/api/tickets/{id}/rate/" not in paths  # rating is the requester's signed link
    assert set(paths["/api/tickets/"]) >= {"get", "post"}
    assert "patch" in paths["/api/tickets/{id}/"]
    assert "put" not in paths["/api/tickets/{id}/"]
    upload = paths["/api/tickets/{id}/attachments/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    components = schema["components"]["schemas"]
    assert "reason" in components["EscalateRequest"]["properties"]
    assert "409" in paths["/api/tickets/{id}/escalate/"]["post"]["responses"]
    # Two views of a ticket, told apart by "view"; only the staff one has internal fields.
    assert components["TicketView"]["discriminator"]["propertyName"] == "view"
    assert "assignee" in components["StaffTicket"]["properties"]
    assert "assignee" not in components["RequesterTicket"]["properties"]
    assert "line_history" in components["StaffTicketDetail"]["properties"]
    assert "409" in paths["/api/tickets/{id}/parent/"]["post"]["responses"]
    assert set(paths["/api/tickets/{id}/watchers/"]) >= {"get", "post"}
    assert "delete" in paths["/api/tickets/{id}/watchers/{user_id}/"]
    assert "get" in paths["/api/tickets/{id}/children/"]
    detail = components["StaffTicketDetail"]["properties"]
    assert {"parent_reference", "child_count", "watcher_details"} <= set(detail)
    assert "parent_reference" not in components["RequesterTicket"]["properties"]


# Authentication and scoping --------------------------------------------------------------------


def test_token_authentication_lists_only_own_tickets_for_a_requester(desk):
    own = _ticket(desk)
    _ticket(desk, requester=desk["colleague"])
    api = APIClient()
    assert api.get("/api/tickets/").status_code in (401, 403)
    token = Token.objects.create(user=desk["requester"])
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.get("/api/tickets/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [own.pk]


def test_staff_see_every_ticket_and_the_staff_view(desk):
    own = _ticket(desk)
    other = _ticket(desk, requester=desk["colleague"])
    rows = _api(desk["agent"]).get("/api/tickets/").json()["results"]
    assert {row["id"] for row in rows} == {own.pk, other.pk}
    assert all(row["view"] == "staff" for row in rows)
    assert rows[0]["group"] == desk["first"].pk and rows[0]["line"] == 1


def test_the_requester_view_leaves_out_internal_fields(desk):
    ticket = _ticket(desk)
    services.ticket_assign(
        actor=desk["agent"], ticket=ticket, version=1, group=desk["first"], assignee=desk["agent"]
    )
    row = _api(desk["requester"]).get("/api/tickets/").json()["results"][0]
    assert row["view"] == "requester"
    assert row["status"] == Status.ASSIGNED
    for field in ("line", "group", "assignee", "watchers", "escalated_at", "line_history"):
        assert field not in row
    detail = _api(desk["requester"]).get(_url(ticket)).json()
    assert detail["view"] == "requester" and "line_history" not in detail


def test_a_ticket_of_the_other_municipality_answers_404_like_a_missing_one(desk):
    ticket = _ticket(desk)  # Herrljunga
    api = _api(desk["vargarda_agent"])
    missing = api.get("/api/tickets/999999/")
    assert missing.status_code == 404
    for method, action in (
        ("get", ""),
        ("get", "activities"),
        ("get", "attachments"),
        ("post", "escalate"),
        ("post", "note"),
        ("post", "reply"),
    ):
        response = getattr(api, method)(_url(ticket, action), {}, format="json")
        assert response.status_code == 404, (method, action)
        assert response.json() == missing.json()
    assert api.patch(_url(ticket), {"title": "x", "version": 1}, format="json").status_code == 404
    assert ticket.pk not in {row["id"] for row in api.get("/api/tickets/").json()["results"]}
    vargarda_ticket = _ticket(desk, requester=UserFactory(organisation=desk["vargarda"]))
    assert api.get(_url(vargarda_ticket)).status_code == 200


# Internal notes never reach a requester --------------------------------------------------------


def test_notes_and_internal_activities_are_never_returned_to_the_requester(desk):
    ticket = _ticket(desk)
    agent_api = _api(desk["agent"])
    assert agent_api.post(_url(ticket, "note"), {"body": NOTE_TEXT}).status_code == 201
    reply = agent_api.post(_url(ticket, "reply"), {"body": "Vi tittar på det."}, format="json")
    assert reply.status_code == 201
    escalated = agent_api.post(
        _url(ticket, "escalate"),
        {"group": desk["second"].pk, "reason": ESCALATION_REASON, "version": 2},
        format="json",
    )
    assert escalated.status_code == 200, escalated.content

    requester_api = _api(desk["requester"])
    timeline = requester_api.get(_url(ticket, "activities"))
    assert timeline.status_code == 200
    kinds = [row["kind"] for row in timeline.json()]
    assert TicketActivity.Kind.NOTE not in kinds
    assert TicketActivity.Kind.ESCALATION not in kinds
    assert all(row["is_public"] for row in timeline.json())
    assert "Vi tittar på det." in timeline.content.decode()
    for response in (timeline, requester_api.get(_url(ticket)), requester_api.get("/api/tickets/")):
        text = response.content.decode()
        assert NOTE_TEXT not in text and ESCALATION_REASON not in text

    staff_timeline = agent_api.get(_url(ticket, "activities")).json()
    assert NOTE_TEXT in [row["body"] for row in staff_timeline if row["kind"] == "note"]
    staff_detail = agent_api.get(_url(ticket)).json()
    assert staff_detail["view"] == "staff"
    assert ESCALATION_REASON in [span["note"] for span in staff_detail["line_history"]]


def test_a_requester_cannot_write_notes_or_work_the_ticket(desk):
    ticket = _ticket(desk)
    api = _api(desk["requester"])
    assert api.post(_url(ticket, "note"), {"body": "hej"}).status_code == 403
    assert (
        api.post(
            _url(ticket, "assign"), {"group": desk["first"].pk, "version": 1}, format="json"
        ).status_code
        == 403
    )
    assert (
        api.patch(_url(ticket), {"title": "Nytt", "version": 1}, format="json").status_code == 403
    )
    assert not TicketActivity.objects.filter(ticket=ticket, kind="note").exists()


# Errors name the field; stale edits answer 409 ------------------------------------------------


def test_escalate_without_reason_is_400_naming_reason(desk):
    ticket = _ticket(desk)
    api = _api(desk["agent"])
    blank = api.post(
        _url(ticket, "escalate"),
        {"group": desk["second"].pk, "reason": "  ", "version": 1},
        format="json",
    )
    assert blank.status_code == 400
    assert "reason" in blank.json()
    missing = api.post(
        _url(ticket, "escalate"), {"group": desk["second"].pk, "version": 1}, format="json"
    )
    assert missing.status_code == 400 and "reason" in missing.json()
    ticket.refresh_from_db()
    assert (ticket.line, ticket.version) == (1, 1)


def test_a_stale_version_is_409_with_the_changed_fields(desk):
    ticket = _ticket(desk)
    api = _api(desk["agent"])
    first = api.patch(_url(ticket), {"title": "Skrivaren på plan 2", "version": 1}, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["version"] == 2
    stale = api.patch(_url(ticket), {"title": "Något annat", "version": 1}, format="json")
    assert stale.status_code == 409
    body = stale.json()
    assert body["current_version"] == 2
    assert body["changed"]["title"] == ["Skrivaren skriver inte ut", "Skrivaren på plan 2"]
    stale_action = api.post(
        _url(ticket, "escalate"),
        {"group": desk["second"].pk, "reason": "AD", "version": 1},
        format="json",
    )
    assert stale_action.status_code == 409 and "title" in stale_action.json()["changed"]
    ticket.refresh_from_db()
    assert (ticket.title, ticket.line) == ("Skrivaren på plan 2", 1)


def test_an_edit_without_version_is_400_naming_version(desk):
    ticket = _ticket(desk)
    response = _api(desk["agent"]).patch(_url(ticket), {"urgency": 1}, format="json")
    assert response.status_code == 400 and "version" in response.json()


def test_patch_changes_the_editable_fields_and_the_priority_follows(desk):
    ticket = _ticket(desk, impact=3, urgency=2)
    response = _api(desk["agent"]).patch(
        _url(ticket), {"impact": 1, "urgency": 1, "version": 1}, format="json"
    )
    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    assert (ticket.impact, ticket.urgency, ticket.priority, ticket.version) == (1, 1, 1, 2)
    refused = _api(desk["agent"]).patch(
        _url(ticket), {"status": "closed", "version": 2}, format="json"
    )
    ticket.refresh_from_db()
    assert refused.status_code == 200 and ticket.status == Status.NEW  # not an editable field


# Creating ------------------------------------------------------------------------------------


def test_a_requester_creates_for_themselves_through_the_api_channel(desk):
    api = _api(desk["requester"])
    response = api.post(
        "/api/tickets/",
        {"title": "Kan inte logga in", "description": "Sedan i morse", "channel": "phone"},
        format="json",
    )
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.requester == desk["requester"]
    assert ticket.channel == Ticket.Channel.API  # only staff choose the channel
    assert ticket.organisation == desk["herrljunga"]
    assert response.json()["view"] == "requester"


def test_a_requester_cannot_create_for_someone_else(desk):
    api = _api(desk["requester"])
    for_colleague = api.post(
        "/api/tickets/",
        {"title": "Åt Kalle", "requester": desk["colleague"].pk},
        format="json",
    )
    assert for_colleague.status_code == 400 and "requester" in for_colleague.json()
    for_contact = api.post(
        "/api/tickets/",
        {"title": "Åt en gäst", "contact_name": "Gäst", "organisation": desk["herrljunga"].pk},
        format="json",
    )
    assert for_contact.status_code == 403
    assert not Ticket.objects.exists()


def test_staff_log_a_call_for_a_contact_or_a_user(desk):
    api = _api(desk["agent"])
    call = api.post(
        "/api/tickets/",
        {
            "title": "Växeln ringer inte fram",
            "channel": "phone",
            "contact_name": "Kim Svensson",
            "contact_phone": "0513-170 00",
            "organisation": desk["herrljunga"].pk,
        },
        format="json",
    )
    assert call.status_code == 201, call.content
    assert call.json()["channel"] == "phone" and call.json()["view"] == "staff"
    for_user = api.post(
        "/api/tickets/",
        {"title": "Ny dator", "requester": desk["colleague"].pk, "kind": "request"},
        format="json",
    )
    assert for_user.status_code == 201, for_user.content
    ticket = Ticket.objects.get(pk=for_user.json()["id"])
    assert (ticket.requester, ticket.channel, ticket.kind) == (desk["colleague"], "api", "request")
    no_title = api.post("/api/tickets/", {"title": "  "}, format="json")
    assert no_title.status_code == 400 and "title" in no_title.json()


def test_a_vargarda_agent_cannot_log_a_ticket_for_herrljunga(desk):
    response = _api(desk["vargarda_agent"]).post(
        "/api/tickets/",
        {"title": "Fel kommun", "contact_name": "Kim", "organisation": desk["herrljunga"].pk},
        format="json",
    )
    assert response.status_code == 400 and "organisation" in response.json()  # not visible
    assert not Ticket.objects.exists()


# The actions change state as the services say ---------------------------------------------------


def test_the_whole_workflow_through_the_actions(desk):
    ticket = _ticket(desk)
    agent, specialist = _api(desk["agent"]), _api(desk["specialist"])

    assigned = agent.post(
        _url(ticket, "assign"),
        {"group": desk["first"].pk, "assignee": desk["agent"].pk, "version": 1},
        format="json",
    )
    assert assigned.status_code == 200, assigned.content
    assert (assigned.json()["status"], assigned.json()["assignee"]) == (
        "assigned",
        desk["agent"].pk,
    )

    in_progress = agent.post(
        _url(ticket, "status"), {"status": "in_progress", "version": 2}, format="json"
    )
    assert in_progress.status_code == 200 and in_progress.json()["status"] == "in_progress"
    wrong = agent.post(_url(ticket, "status"), {"status": "new", "version": 3}, format="json")
    assert wrong.status_code == 400 and "status" in wrong.json()

    escalated = agent.post(
        _url(ticket, "escalate"),
        {"group": desk["second"].pk, "reason": ESCALATION_REASON, "version": 3},
        format="json",
    )
    assert escalated.status_code == 200, escalated.content
    assert (escalated.json()["line"], escalated.json()["group"]) == (2, desk["second"].pk)

    handed_back = specialist.post(
        _url(ticket, "hand-back"), {"reason": "Första linjen kan lösa", "version": 4}, format="json"
    )
    assert handed_back.status_code == 200, handed_back.content
    assert (handed_back.json()["line"], handed_back.json()["group"]) == (1, desk["first"].pk)

    reply = agent.post(_url(ticket, "reply"), {"body": "Starta om skrivaren."}, format="json")
    assert reply.status_code == 201 and reply.json()["channel"] == "api"
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None

    resolved = agent.post(
        _url(ticket, "resolve"),
        {"resolution": "Skrivaren omstartad.", "version": ticket.version},
        format="json",
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    ticket.refresh_from_db()
    assert ticket.resolved_in_first_line is False  # it had been escalated

    requester = _api(desk["requester"])
    reopened = requester.post(_url(ticket, "reopen"), {"reason": "Fungerar inte"}, format="json")
    assert reopened.status_code == 200, reopened.content
    assert reopened.json()["status"] == "new" and reopened.json()["view"] == "requester"

    ticket.refresh_from_db()
    cancelled = requester.post(
        _url(ticket, "cancel"),
        {"reason": "Löste sig själv", "version": ticket.version},
        format="json",
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_a_requester_replies_on_own_ticket_but_not_on_another(desk):
    own = _ticket(desk)
    colleagues = _ticket(desk, requester=desk["colleague"])
    api = _api(desk["requester"])
    reply = api.post(_url(own, "reply"), {"body": "Fortfarande trasig"}, format="json")
    assert reply.status_code == 201
    assert reply.json()["kind"] == "reply" and reply.json()["is_public"] is True
    assert api.post(_url(colleagues, "reply"), {"body": "x"}, format="json").status_code == 404
    empty = api.post(_url(own, "reply"), {"body": " "}, format="json")
    assert empty.status_code == 400 and "body" in empty.json()


def test_merge_and_link_by_reference_or_id(desk):
    original = _ticket(desk)
    duplicate = _ticket(desk, requester=desk["colleague"])
    related = _ticket(desk)
    api = _api(desk["agent"])
    linked = api.post(
        _url(related, "link"), {"target": str(original.pk), "kind": "related"}, format="json"
    )
    assert linked.status_code == 201, linked.content
    assert linked.json()["target_reference"] == original.reference
    assert TicketLink.objects.filter(source=related, target=original, kind="related").exists()

    merged = api.post(_url(duplicate, "merge"), {"target": original.reference}, format="json")
    assert merged.status_code == 200, merged.content
    assert merged.json()["status"] == "cancelled"
    assert merged.json()["merged_into"] == original.pk
    assert desk["colleague"] in original.watchers.all()
    unknown = api.post(_url(related, "merge"), {"target": "1999-000001"}, format="json")
    assert unknown.status_code == 400 and "target" in unknown.json()


def test_merge_into_a_ticket_of_another_municipality_is_refused_as_unknown(desk):
    vargarda_ticket = _ticket(desk, requester=UserFactory(organisation=desk["vargarda"]))
    other_vargarda = _ticket(desk, requester=UserFactory(organisation=desk["vargarda"]))
    herrljunga_ticket = _ticket(desk)
    api = _api(desk["vargarda_agent"])
    response = api.post(
        _url(vargarda_ticket, "merge"), {"target": herrljunga_ticket.reference}, format="json"
    )
    assert response.status_code == 400 and "target" in response.json()
    ok = api.post(_url(vargarda_ticket, "merge"), {"target": other_vargarda.pk}, format="json")
    assert ok.status_code == 200, ok.content


# Attachments ---------------------------------------------------------------------------------


def _pdf(name="kvitto.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n%test\n", content_type="application/pdf")


def test_attachments_upload_list_and_download_with_internal_ones_hidden(desk):
    ticket = _ticket(desk)
    requester, agent = _api(desk["requester"]), _api(desk["agent"])
    uploaded = requester.post(
        _url(ticket, "attachments"), {"file": _pdf(), "is_public": "false"}, format="multipart"
    )
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["is_public"] is True  # a requester's file is always theirs to see
    internal = agent.post(
        _url(ticket, "attachments"),
        {"file": _pdf("intern.pdf"), "is_public": "false"},
        format="multipart",
    )
    assert internal.status_code == 201, internal.content
    assert internal.json()["is_public"] is False

    mine = requester.get(_url(ticket, "attachments")).json()
    assert [row["filename"] for row in mine] == ["kvitto.pdf"]
    staff = agent.get(_url(ticket, "attachments")).json()
    assert sorted(row["filename"] for row in staff) == ["intern.pdf", "kvitto.pdf"]

    download = requester.get(mine[0]["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert "attachment" in download["Content-Disposition"]
    assert requester.get(internal.json()["download_url"]).status_code == 404
    assert agent.get(internal.json()["download_url"]).status_code == 200
    timeline = requester.get(_url(ticket, "activities")).content.decode()
    assert "intern.pdf" not in timeline and "kvitto.pdf" in timeline


def test_an_unsafe_attachment_is_400_naming_the_file(desk):
    ticket = _ticket(desk)
    response = _api(desk["requester"]).post(
        _url(ticket, "attachments"),
        {"file": SimpleUploadedFile("sida.html", b"<script>alert(1)</script>")},
        format="multipart",
    )
    assert response.status_code == 400 and "file" in response.json()
    assert not Attachment.objects.exists()


def test_another_requester_cannot_attach_to_a_ticket_they_only_see_as_a_watcher(desk):
    ticket = _ticket(desk)
    ticket.watchers.add(desk["colleague"])
    api = _api(desk["colleague"])
    assert api.get(_url(ticket)).status_code == 200
    assert (
        api.post(_url(ticket, "attachments"), {"file": _pdf()}, format="multipart").status_code
        == 403
    )


# Read-only lists for forms ---------------------------------------------------------------------


def test_support_groups_services_and_categories(desk):
    public = Service.objects.create(name="E-post")
    hidden = Service.objects.create(name="Intern drift", is_public=False)
    root = Category.objects.create(name="Hårdvara", service=public)
    Category.objects.create(name="Skrivare", parent=root, service=public)
    Category.objects.create(name="Servrar", service=hidden)

    staff, requester = _api(desk["agent"]), _api(desk["requester"])
    groups = staff.get("/api/support-groups/", {"line": 2}).json()["results"]
    assert [group["name"] for group in groups] == ["Drift"]
    assert groups[0]["members"] == [desk["specialist"].pk]
    assert requester.get("/api/support-groups/").json()["results"] == []

    assert {row["name"] for row in staff.get("/api/services/").json()["results"]} == {
        "E-post",
        "Intern drift",
    }
    assert [row["name"] for row in requester.get("/api/services/").json()["results"]] == ["E-post"]

    paths = {row["path"] for row in requester.get("/api/categories/").json()["results"]}
    assert paths == {"Hårdvara", "Hårdvara › Skrivare"}
    assert len(staff.get("/api/categories/").json()["results"]) == 3


# Parent, children and watchers -----------------------------------------------------------------


def _audit(ticket, verb: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_id=str(ticket.pk), verb=verb))


def test_staff_set_and_clear_the_parent_by_reference_and_list_the_children(desk):
    parent = _ticket(desk, title="Nätverket nere i stadshuset")
    child = _ticket(desk, requester=desk["colleague"])
    api = _api(desk["agent"])
    response = api.post(
        _url(child, "parent"), {"parent": parent.reference, "version": 1}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["parent"] == parent.pk and response.json()["version"] == 2
    child.refresh_from_db()
    assert child.parent_id == parent.pk
    [event] = _audit(child, "parent")
    assert event.actor_id == desk["agent"].pk
    assert event.changes["parent"] == [None, str(parent)]

    children = api.get(_url(parent, "children"))
    assert children.status_code == 200
    assert [row["reference"] for row in children.json()] == [child.reference]
    detail = api.get(_url(parent)).json()
    assert (detail["child_count"], detail["parent_reference"]) == (1, None)
    assert api.get(_url(child)).json()["parent_reference"] == parent.reference

    cleared = api.post(_url(child, "parent"), {"parent": None, "version": 2}, format="json")
    assert cleared.status_code == 200, cleared.content
    assert cleared.json()["parent"] is None
    assert api.get(_url(parent, "children")).json() == []
    assert len(_audit(child, "parent")) == 2


def test_the_parent_is_refused_when_stale_cyclic_unknown_or_of_the_other_municipality(desk):
    parent = _ticket(desk)
    child = _ticket(desk)
    api = _api(desk["agent"])
    services.ticket_update(actor=desk["agent"], ticket=child, version=1, title="Ny rubrik")
    stale = api.post(
        _url(child, "parent"), {"parent": parent.reference, "version": 1}, format="json"
    )
    assert stale.status_code == 409
    assert stale.json()["changed"]["title"][1] == "Ny rubrik"
    child.refresh_from_db()
    assert child.parent_id is None and not _audit(child, "parent")

    services.ticket_set_parent(actor=desk["agent"], ticket=child, version=2, parent=parent)
    cycle = api.post(
        _url(parent, "parent"), {"parent": child.reference, "version": 1}, format="json"
    )
    assert cycle.status_code == 400 and "parent" in cycle.json()
    unknown = api.post(
        _url(parent, "parent"), {"parent": "1999-000001", "version": 1}, format="json"
    )
    assert unknown.status_code == 400 and "parent" in unknown.json()

    vargarda_ticket = _ticket(desk, requester=UserFactory(organisation=desk["vargarda"]))
    vargarda = _api(desk["vargarda_agent"])
    across = vargarda.post(
        _url(vargarda_ticket, "parent"), {"parent": parent.reference, "version": 1}, format="json"
    )
    assert across.status_code == 400 and "parent" in across.json()
    for method, action in (("post", "parent"), ("get", "children"), ("get", "watchers")):
        response = getattr(vargarda, method)(
            _url(parent, action), {"parent": "", "version": 1}, format="json"
        )
        assert response.status_code == 404, (method, action)
    assert vargarda.delete(_url(parent, f"watchers/{desk['agent'].pk}")).status_code == 404


def test_the_other_municipalitys_children_and_parent_stay_hidden(desk):
    parent = _ticket(desk, requester=UserFactory(organisation=desk["vargarda"]))
    herrljunga_child = _ticket(desk)
    vargarda_child = _ticket(desk, requester=UserFactory(organisation=desk["vargarda"]))
    for child in (herrljunga_child, vargarda_child):
        services.ticket_set_parent(actor=desk["agent"], ticket=child, version=1, parent=parent)
    herrljunga_agent = grant(
        UserFactory(organisation=desk["herrljunga"]), "agent", desk["herrljunga"]
    )
    api = _api(herrljunga_agent)
    detail = api.get(_url(herrljunga_child)).json()
    assert detail["parent"] == parent.pk  # the id of a ticket it cannot open; no reference
    assert detail["parent_reference"] is None
    vargarda = _api(desk["vargarda_agent"])
    rows = vargarda.get(_url(parent, "children")).json()
    assert [row["id"] for row in rows] == [vargarda_child.pk]
    assert vargarda.get(_url(parent)).json()["child_count"] == 1
    assert _api(desk["agent"]).get(_url(parent)).json()["child_count"] == 2


def test_a_requester_is_refused_the_staff_only_parent_and_watcher_actions(desk):
    parent, child = _ticket(desk), _ticket(desk)
    api = _api(desk["requester"])
    response = api.post(
        _url(child, "parent"), {"parent": parent.reference, "version": 1}, format="json"
    )
    assert response.status_code == 403
    assert api.get(_url(parent, "children")).status_code == 403
    assert api.get(_url(parent, "watchers")).status_code == 403
    # Naming someone else is refused: the requester cannot even see the colleague.
    other = api.post(_url(child, "watchers"), {"user": desk["colleague"].pk}, format="json")
    assert other.status_code == 400 and "user" in other.json()
    child.refresh_from_db()
    assert child.parent_id is None and not child.watchers.exists()
    detail = api.get(_url(child)).json()
    for field in ("parent", "parent_reference", "child_count", "watchers", "watcher_details"):
        assert field not in detail


def test_staff_add_list_and_remove_watchers_with_an_audit_trail(desk):
    ticket = _ticket(desk)
    api = _api(desk["agent"])
    added = api.post(_url(ticket, "watchers"), {"user": desk["colleague"].pk}, format="json")
    assert added.status_code == 200, added.content
    assert [row["id"] for row in added.json()] == [desk["colleague"].pk]
    assert desk["colleague"] in ticket.watchers.all()
    [event] = _audit(ticket, "watch")
    assert event.actor_id == desk["agent"].pk
    assert event.changes["watchers"] == [None, str(desk["colleague"])]
    assert TicketActivity.objects.filter(
        ticket=ticket, data__watcher=str(desk["colleague"]), is_public=False
    ).exists()
    # The colleague now sees the ticket, in the requester view.
    assert _api(desk["colleague"]).get(_url(ticket)).json()["view"] == "requester"

    listed = api.get(_url(ticket, "watchers")).json()
    assert [(row["id"], row["email"]) for row in listed] == [
        (desk["colleague"].pk, desk["colleague"].email)
    ]
    detail = api.get(_url(ticket)).json()
    assert detail["watchers"] == [desk["colleague"].pk]
    assert [row["id"] for row in detail["watcher_details"]] == [desk["colleague"].pk]

    removed = api.delete(_url(ticket, f"watchers/{desk['colleague'].pk}"))
    assert removed.status_code == 200 and removed.json() == []
    assert not ticket.watchers.exists()
    assert len(_audit(ticket, "unwatch")) == 1
    assert api.delete(_url(ticket, f"watchers/{desk['colleague'].pk}")).status_code == 404


def test_a_watcher_from_the_other_municipality_is_refused(desk):
    ticket = _ticket(desk)  # Herrljunga
    stranger = grant(UserFactory(organisation=desk["vargarda"]), "requester", desk["vargarda"])
    response = _api(desk["agent"]).post(
        _url(ticket, "watchers"), {"user": stranger.pk}, format="json"
    )
    assert response.status_code == 400 and "user" in response.json()
    assert not ticket.watchers.exists() and not _audit(ticket, "watch")
    assert _api(stranger).get(_url(ticket)).status_code == 404
    # Staff who may see the ticket anyway can follow it.
    ok = _api(desk["agent"]).post(
        _url(ticket, "watchers"), {"user": desk["specialist"].pk}, format="json"
    )
    assert ok.status_code == 200, ok.content


def test_a_requester_follows_and_unfollows_only_themselves(desk):
    ticket = _ticket(desk)
    services.ticket_set_watching(
        actor=desk["agent"], ticket=ticket, user=desk["colleague"], watching=True
    )
    colleague = _api(desk["colleague"])
    refused = colleague.delete(_url(ticket, f"watchers/{desk['requester'].pk}"))
    assert refused.status_code == 404  # the requester is not a watcher
    services.ticket_set_watching(
        actor=desk["agent"], ticket=ticket, user=desk["agent"], watching=True
    )
    other = colleague.delete(_url(ticket, f"watchers/{desk['agent'].pk}"))
    assert other.status_code == 403
    assert desk["agent"] in ticket.watchers.all()

    own = colleague.delete(_url(ticket, f"watchers/{desk['colleague'].pk}"))
    assert own.status_code == 200, own.content
    assert own.json() == []  # the agent who still watches is not shown to a requester
    assert desk["colleague"] not in ticket.watchers.all()
    [event] = _audit(ticket, "unwatch")
    assert event.actor_id == desk["colleague"].pk
    assert colleague.get(_url(ticket)).status_code == 404  # it was visible only as a watcher

    follow = _api(desk["requester"]).post(
        _url(ticket, "watchers"), {"user": desk["requester"].pk}, format="json"
    )
    assert follow.status_code == 200, follow.content
    assert [row["id"] for row in follow.json()] == [desk["requester"].pk]


def test_the_children_list_does_not_grow_with_the_data(desk):
    parent = _ticket(desk)

    def add_children(how_many: int) -> None:
        for _index in range(how_many):
            child = _ticket(desk)
            services.ticket_set_parent(actor=desk["agent"], ticket=child, version=1, parent=parent)
            child.watchers.add(desk["colleague"])

    add_children(2)
    few = _count(desk["agent"], _url(parent, "children"))
    add_children(10)
    assert _count(desk["agent"], _url(parent, "children")) == few


# Query counts ----------------------------------------------------------------------------------


def _count(user, url) -> int:
    api = _api(User.objects.get(pk=user.pk))  # a fresh user: no permissions cached from before
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200
    return len(queries)


def _add_tickets(desk, how_many: int) -> None:
    for index in range(how_many):
        ticket = _ticket(desk, title=f"Ärende {index}")
        services.ticket_assign(
            actor=desk["agent"],
            ticket=ticket,
            version=1,
            group=desk["first"],
            assignee=desk["agent"],
        )
        ticket.watchers.add(desk["colleague"])


@pytest.mark.parametrize("who", ["agent", "requester"])
def test_the_ticket_list_does_not_grow_with_the_data(desk, who):
    _add_tickets(desk, 2)
    few = _count(desk[who], "/api/tickets/")
    _add_tickets(desk, 15)
    _ticket(desk, requester=UserFactory(organisation=desk["vargarda"]))
    many = _count(desk[who], "/api/tickets/")
    assert many == few, f"{few} queries with few tickets, {many} with more"
    rows = _api(desk[who]).get("/api/tickets/").json()["results"]
    assert len(rows) == {"agent": 18, "requester": 17}[who]  # the agent sees Vårgårda's too
    assert few <= 8


def test_the_timeline_does_not_grow_with_the_data(desk):
    ticket = _ticket(desk)
    services.ticket_reply(actor=desk["agent"], ticket=ticket, body="Ett")
    few = _count(desk["agent"], _url(ticket, "activities"))
    for index in range(10):
        services.ticket_add_note(actor=desk["agent"], ticket=ticket, body=f"Not {index}")
    assert _count(desk["agent"], _url(ticket, "activities")) == few
    api = _api(desk["agent"])
    assert json.loads(api.get(_url(ticket, "activities")).content)[-1]["body"] == "Not 9"
