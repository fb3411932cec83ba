"""The operations pages: who reaches what, the forms drive the services, the status page leaks
nothing internal, and list pages keep a constant number of queries."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from arende.operations.models import (
    Change,
    MajorIncident,
    PlannedMaintenance,
    Problem,
    StatusPageService,
)
from arende.operations.services import changes as change_services
from arende.operations.services import incidents as incident_services
from arende.operations.services.maintenance import maintenance_create
from arende.operations.services.problems import problem_create
from arende.servicedesk.models import Ticket
from arende.servicedesk.services import tickets as ticket_services

pytestmark = pytest.mark.django_db
SECRET = "HEMLIGT-internt-lösenord-123"


def _incident(ops, **kwargs):
    values = dict(
        actor=ops["im"], title=f"Växeln nere {SECRET}", description=f"Intern: {SECRET}",
        services=[ops["phone"]], organisations=[ops["herrljunga"]],
        public_title="Störning i telefonin", public_summary="Det går inte att ringa in.",
        attack_source=SECRET,
    )  # fmt: skip
    values.update(kwargs)
    return incident_services.major_incident_declare(**values)


def _change(ops, **kwargs):
    start = timezone.now() + datetime.timedelta(days=2)
    values = dict(
        actor=ops["specialist"], title="Byt brandvägg", type="normal", description="Ny brandvägg",
        organisations=[ops["herrljunga"]], services=[ops["internet"]], planned_start=start,
        planned_end=start + datetime.timedelta(hours=2), implementation_plan="Steg", backout_plan="Tillbaka",
    )  # fmt: skip
    values.update(kwargs)
    return change_services.change_create(**values)


def test_pages_answer_for_the_incident_manager(client, ops):
    incident = _incident(ops)
    incident_services.major_incident_resolve(
        actor=ops["im"], incident=incident, version=None, resolution="Löst."
    )
    change = _change(ops)
    problem = problem_create(
        actor=ops["im"], title="Växeln tappar samtal", organisations=[ops["herrljunga"]]
    )
    client.force_login(ops["im"])
    for url in [
        "/operations/",
        "/operations/major-incidents/",
        "/operations/major-incidents/?state=open",
        "/operations/major-incidents/new/",
        f"/operations/major-incidents/{incident.pk}/",
        "/operations/problems/",
        "/operations/problems/new/",
        f"/operations/problems/{problem.pk}/",
        "/operations/changes/",
        "/operations/changes/new/",
        f"/operations/changes/{change.pk}/",
        "/operations/changes/calendar/",
        "/operations/changes/calendar/?month=2021-05",
        "/operations/maintenance/",
        "/operations/availability/",
        "/operations/figures/?year=2021",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    home = client.get("/").content.decode()
    assert 'href="/operations/"' in home


def test_a_requester_and_another_municipality_get_nothing(client, ops):
    incident = _incident(ops)
    client.force_login(ops["requesters"][0])
    assert client.get("/operations/").status_code == 403
    assert client.get(f"/operations/major-incidents/{incident.pk}/").status_code == 403
    client.force_login(ops["vargarda_im"])
    assert client.get(f"/operations/major-incidents/{incident.pk}/").status_code == 404
    assert (
        client.post(
            f"/operations/major-incidents/{incident.pk}/resolve/", {"resolution": "x"}
        ).status_code
        == 404
    )
    client.logout()
    assert client.get("/operations/").status_code == 302


def test_declare_link_resolve_and_review_through_the_pages(client, ops):
    first = ticket_services.ticket_create(
        actor=ops["requesters"][0], channel="portal", title="Växeln svarar inte",
        requester=ops["requesters"][0], service=ops["phone"],
    )  # fmt: skip
    client.force_login(ops["im"])
    page = client.get(f"/operations/major-incidents/new/?ticket={first.reference}").content.decode()
    assert first.reference in page
    response = client.post(
        "/operations/major-incidents/new/",
        {
            "parent_ticket": first.reference, "title": "Växeln nere",
            "services": [ops["phone"].pk], "organisations": [ops["herrljunga"].pk],
            "severity": "1", "impact": "outage", "lead": ops["im"].pk,
            "public_title": "Störning i telefonin", "security_type": "",
        },
    )  # fmt: skip
    assert response.status_code == 200 or response.status_code == 302, response.content.decode()[
        :3000
    ]


def test_forms_post_without_prefix_errors_are_shown(client, ops):
    client.force_login(ops["im"])
    response = client.post("/operations/major-incidents/new/", {"title": ""})
    assert response.status_code == 400


def test_status_page_is_public_and_shows_no_internal_detail(client, ops):
    StatusPageService.objects.create(
        service=ops["phone"], public_name="Telefoni och växel", position=1
    )
    StatusPageService.objects.create(service=ops["mail"], public_name="E-post", position=2)
    incident = _incident(ops)
    incident_services.major_incident_add_entry(
        actor=ops["im"], incident=incident, kind="update", body="Felsökning pågår hos operatören.",
        is_public=True,
    )  # fmt: skip
    incident_services.major_incident_add_entry(
        actor=ops["im"], incident=incident, kind="decision", body=f"Beslut: {SECRET}",
    )  # fmt: skip
    hidden = _incident(ops, public_title="", title="Intern störning utan publik rubrik")
    maintenance_create(
        actor=ops["im"], title="Uppgradering av e-posten", services=[ops["mail"]],
        organisations=[ops["herrljunga"]], internal_note=SECRET,
        starts_at=timezone.now() + datetime.timedelta(days=1),
        ends_at=timezone.now() + datetime.timedelta(days=1, hours=2),
        public_description="E-posten kan vara otillgänglig.",
    )  # fmt: skip
    response = client.get("/driftstatus/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Störning i telefonin" in page and "Felsökning pågår hos operatören." in page
    assert "Uppgradering av e-posten" in page
    assert SECRET not in page
    assert hidden.title not in page
    assert "Telefoni och växel" in page
    feed = client.get("/driftstatus/feed/")
    assert feed.status_code == 200
    assert feed["Content-Type"].startswith("application/atom+xml")
    body = feed.content.decode()
    assert "Störning i telefonin" in body and "Felsökning pågår" in body
    assert SECRET not in body and hidden.title not in body


def test_change_path_through_the_pages(client, ops):
    client.force_login(ops["specialist"])
    start = (timezone.localtime() + datetime.timedelta(days=3)).replace(second=0, microsecond=0)
    response = client.post(
        "/operations/changes/new/",
        {
            "title": "Ny brandvägg", "type": "normal",
            "description": "Byt brandväggen", "reason": "Gammal",
            "services": [ops["internet"].pk], "organisations": [ops["herrljunga"].pk],
            "planned_start": start.strftime("%Y-%m-%dT%H:%M"),
            "planned_end": (start + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "implementation_plan": "Steg", "backout_plan": "Tillbaka",
            "risk_many_users": "on",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    change = Change.objects.get()
    assert change.risk_level == "medium"
    assert (
        client.post(
            f"/operations/changes/{change.pk}/submit/", {"version": change.version}
        ).status_code
        == 302
    )
    change.refresh_from_db()
    assert change.status == "submitted"
    assert (
        client.post(f"/operations/changes/{change.pk}/decide/", {"decision": "approve"}).status_code
        == 403
    )
    client.force_login(ops["cm"])
    client.post(f"/operations/changes/{change.pk}/decide/", {"decision": "approve"})
    client.force_login(ops["manager"])
    response = client.post(f"/operations/changes/{change.pk}/decide/", {"decision": "reject"})
    assert response.status_code == 400  # a rejection needs a reason
    client.post(f"/operations/changes/{change.pk}/decide/", {"decision": "approve"})
    change.refresh_from_db()
    assert change.status == "approved"


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        "/operations/major-incidents/",
        "/operations/problems/",
        "/operations/changes/",
        "/operations/maintenance/",
        "/operations/",
        "/driftstatus/",
        "/api/major-incidents/",
        "/api/changes/",
        "/api/problems/",
    ],
)
def test_list_pages_do_not_grow_with_the_data(client, ops, url):
    StatusPageService.objects.create(service=ops["phone"], public_name="Telefoni och växel")
    client.force_login(ops["manager"])

    def add(n):
        for _ in range(n):
            incident = _incident(ops)
            incident_services.major_incident_add_entry(
                actor=None, incident=incident, kind="update", body="Uppdatering", is_public=True
            )
            change = _change(ops)
            change_services.change_submit(actor=None, change=change, version=None)
            problem_create(
                actor=None, title="P", organisations=[ops["herrljunga"]], services=[ops["phone"]]
            )
            maintenance_create(
                actor=None, title="U", services=[ops["phone"]], organisations=[ops["herrljunga"]],
                starts_at=timezone.now() + datetime.timedelta(days=1),
                ends_at=timezone.now() + datetime.timedelta(days=1, hours=1),
            )  # fmt: skip

    add(2)
    few = _count(client, url)
    add(5)
    many = _count(client, url)
    assert many == few, f"{url}: {few} queries with little data, {many} with more"
    assert MajorIncident.objects.count() == 7 and Problem.objects.count() == 7
    assert PlannedMaintenance.objects.count() == 7 and Ticket.objects.count() == 7


def test_ticket_hook_shows_the_incident_and_links_a_known_error(client, ops, rf):
    from django.template import Context, Template

    from arende.operations.services.problems import problem_mark_known_error

    ticket = ticket_services.ticket_create(
        actor=ops["requesters"][0], channel="portal", title="Växeln", requester=ops["requesters"][0]
    )
    problem = problem_create(
        actor=ops["im"], title="Växeln saknar reservväg", organisations=[ops["herrljunga"]]
    )
    problem_mark_known_error(
        actor=ops["im"], problem=problem, version=None, root_cause="En enda väg",
        workaround="Styr om i portalen",
    )  # fmt: skip
    request = rf.get("/")
    request.user = ops["agent"]
    template = Template("{% load operations %}{% ticket_operations ticket %}")
    html = template.render(Context({"request": request, "ticket": ticket}))
    assert problem.reference in html and "known-error" in html
    client.force_login(ops["agent"])
    response = client.post(
        f"/operations/tickets/{ticket.reference}/known-error/", {"problem": problem.pk}
    )
    assert response.status_code == 302
    assert problem.ticket_links.filter(ticket=ticket).exists()
    note = ticket.activities.filter(kind="note").get()
    assert "Styr om i portalen" in note.body and not note.is_public
    html = template.render(Context({"request": request, "ticket": ticket}))
    linked = html.split('class="link-list"')[1].split("</ul>")[0]
    assert problem.reference in linked, "the linked problem is listed"
    incident = _incident(ops, parent_ticket=ticket)
    request.user = ops["im"]
    html = template.render(Context({"request": request, "ticket": ticket}))
    assert incident.reference in html
    request.user = ops["requesters"][0]
    assert template.render(Context({"request": request, "ticket": ticket})).strip() == ""
