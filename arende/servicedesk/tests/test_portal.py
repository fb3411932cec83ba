"""The requester portal: report and order, attachments, approval, own tickets, rating links."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from arende.core.errors import ValidationFailed
from arende.core.models import AuditEvent, Role
from arende.core.tests.factories import (
    DepartmentFactory,
    OrganisationFactory,
    UserFactory,
    grant,
)
from arende.servicedesk import services
from arende.servicedesk.approvals import can_approve, tickets_awaiting_approval_by
from arende.servicedesk.models import (
    Attachment,
    RequestType,
    SatisfactionRating,
    Service,
    Ticket,
    TicketActivity,
)
from arende.servicedesk.rating import (
    ExpiredRatingLink,
    InvalidRatingLink,
    rating_token,
    rating_url,
    ticket_from_rating_token,
)
from arende.servicedesk.services.tickets import (
    ticket_add_attachment,
    ticket_approve,
    ticket_reject,
)
from arende.servicedesk.tests.factories import SupportGroupFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


Status = Ticket.Status
PDF = b"%PDF-1.4\n% a test\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

LAPTOP_FIELDS = [
    {"name": "for_whom", "label": "Who is it for", "type": "text", "required": True},
    {
        "name": "model",
        "label": "Model",
        "type": "choice",
        "required": True,
        "choices": ["Standard laptop", "Power laptop", "Desktop"],
    },
    {"name": "needed_by", "label": "Needed by", "type": "date", "required": False},
    {"name": "count", "label": "How many", "type": "number", "required": False},
    {"name": "notes", "label": "Notes for the technician", "type": "textarea"},
]


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    herrljunga = OrganisationFactory(name="Herrljunga kommun")
    vargarda = OrganisationFactory(name="Vårgårda kommun")
    it = OrganisationFactory(kind="joint_board", org_number="")
    office = DepartmentFactory(organisation=herrljunga, name="Kommunledningskontoret")
    manager = UserFactory(organisation=herrljunga, department=office, first_name="Bengt")
    office.manager = manager
    office.save()
    requester = UserFactory(organisation=herrljunga, department=office, first_name="Astrid")
    colleague = UserFactory(organisation=herrljunga, department=office, first_name="Cecilia")
    stranger = UserFactory(organisation=herrljunga, first_name="Sven")
    vargarda_user = UserFactory(organisation=vargarda, first_name="Jakob")
    agent = grant(UserFactory(organisation=it, first_name="Erik"), "agent")
    first = SupportGroupFactory(name="Servicedesk", line=1, members=[agent])
    computers = Service.objects.create(name="Dator och skrivare", description="Datorer")
    Service.objects.create(name="Hemlig tjänst", is_public=False)
    laptop = RequestType.objects.create(
        service=computers,
        name="Ny dator",
        fields=LAPTOP_FIELDS,
        approval=RequestType.Approval.DEPARTMENT_MANAGER,
    )
    accessory = RequestType.objects.create(
        service=computers,
        name="Tillbehör",
        fields=[{"name": "what", "label": "What do you need", "type": "text", "required": True}],
    )
    system_access = RequestType.objects.create(
        service=computers,
        name="Behörighet",
        approval=RequestType.Approval.ROLE,
        approver_role=Role.objects.get(code="manager"),
    )
    return dict(
        herrljunga=herrljunga,
        vargarda=vargarda,
        it=it,
        office=office,
        manager=manager,
        requester=requester,
        colleague=colleague,
        stranger=stranger,
        vargarda_user=vargarda_user,
        agent=agent,
        first=first,
        computers=computers,
        laptop=laptop,
        accessory=accessory,
        system_access=system_access,
    )


def _ticket(world, requester=None, **kwargs):
    values = dict(
        actor=requester or world["requester"],
        channel="portal",
        title="Skrivaren skriver inte ut",
        requester=requester or world["requester"],
    )
    values.update(kwargs)
    return services.ticket_create(**values)


def _resolve(world, ticket):
    return services.ticket_resolve(
        actor=world["agent"], ticket=ticket, version=None, resolution="Bytte toner."
    )


def _laptop_post(**overrides):
    data = {
        "title": "Ny dator till Astrid",
        "cf_for_whom": "Astrid",
        "cf_model": "Power laptop",
        "cf_needed_by": "2026-12-01",
        "cf_count": "2",
        "cf_notes": "",
        "description": "",
        "impact": "3",
        "urgency": "3",
    }
    data.update(overrides)
    return data


# Start page ------------------------------------------------------------------------------------


def test_start_page_lists_public_services_with_their_request_types(client, world):
    client.force_login(world["requester"])
    response = client.get(reverse("servicedesk:portal_home"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Report a problem" in page
    assert "Dator och skrivare" in page
    assert reverse("servicedesk:portal_new_request", args=[world["laptop"].pk]) in page
    assert "Hemlig tjänst" not in page


def test_portal_needs_a_login(client, world):
    response = client.get(reverse("servicedesk:portal_home"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_navigation_shows_my_tickets_to_everyone_and_log_a_call_to_the_switchboard(client, world):
    client.force_login(world["requester"])
    page = client.get(reverse("core:home")).content.decode()
    assert reverse("servicedesk:portal_home") in page
    assert reverse("servicedesk:phone_intake") not in page
    switchboard = grant(UserFactory(organisation=world["it"]), "switchboard")
    client.force_login(switchboard)
    assert reverse("servicedesk:phone_intake") in client.get(reverse("core:home")).content.decode()


# Reporting and ordering ----------------------------------------------------------------------


def test_report_a_problem_creates_a_portal_ticket_in_plain_words(client, world):
    client.force_login(world["requester"])
    response = client.post(
        reverse("servicedesk:portal_new_problem"),
        {
            "title": "Skrivaren på plan 2 skriver inte ut",
            "description": "Pappersstopp.",
            "service": world["computers"].pk,
            "impact": "2",
            "urgency": "1",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("servicedesk:portal_ticket", args=[ticket.reference])
    assert (ticket.channel, ticket.kind, ticket.status) == ("portal", "incident", Status.NEW)
    assert ticket.requester == world["requester"]
    assert ticket.organisation == world["herrljunga"]
    assert (ticket.impact, ticket.urgency, ticket.priority) == (2, 1, 2)
    assert ticket.service == world["computers"]


def test_request_type_form_shows_its_fields_and_stores_them(client, world):
    client.force_login(world["requester"])
    url = reverse("servicedesk:portal_new_request", args=[world["laptop"].pk])
    page = client.get(url).content.decode()
    for label in ("Who is it for", "Model", "Needed by", "How many", "Notes for the technician"):
        assert label in page
    assert 'type="date"' in page
    assert "Your manager must approve this request" in page

    response = client.post(url, _laptop_post())
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.request_type == world["laptop"]
    assert ticket.kind == "request"
    assert ticket.custom_fields == {
        "for_whom": "Astrid",
        "model": "Power laptop",
        "needed_by": "2026-12-01",
        "count": 2,
        "notes": "",
    }


def test_a_missing_required_field_is_named_and_nothing_is_created(client, world):
    client.force_login(world["requester"])
    url = reverse("servicedesk:portal_new_request", args=[world["laptop"].pk])
    response = client.post(url, _laptop_post(cf_for_whom="  ", description="Kept text"))
    page = response.content.decode()
    assert response.status_code == 400
    assert "Fill in “Who is it for”." in page
    assert 'href="#id_cf_for_whom"' in page  # the error summary links to the field
    assert "Kept text" in page  # nothing typed is lost
    assert not Ticket.objects.exists()


def test_a_choice_outside_the_options_is_refused(client, world):
    client.force_login(world["requester"])
    url = reverse("servicedesk:portal_new_request", args=[world["laptop"].pk])
    response = client.post(url, _laptop_post(cf_model="Gaming rig"))
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_an_inactive_or_hidden_request_type_is_not_found(client, world):
    client.force_login(world["requester"])
    world["accessory"].is_active = False
    world["accessory"].save()
    url = reverse("servicedesk:portal_new_request", args=[world["accessory"].pk])
    assert client.get(url).status_code == 404


# Attachments ---------------------------------------------------------------------------------


def test_attachments_are_stored_with_the_ticket(client, world):
    client.force_login(world["requester"])
    response = client.post(
        reverse("servicedesk:portal_new_problem"),
        {
            "title": "Skärmen flimrar",
            "description": "Se bild.",
            "impact": "3",
            "urgency": "2",
            "attachments": [
                SimpleUploadedFile("skärm.png", PNG, content_type="image/png"),
                SimpleUploadedFile("felkod.txt", "Fel 0x80070005 – åtkomst nekad".encode()),
            ],
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    attachments = list(Attachment.objects.filter(ticket=ticket).order_by("filename"))
    assert [(a.filename, a.content_type) for a in attachments] == [
        ("felkod.txt", "text/plain"),
        ("skärm.png", "image/png"),
    ]
    assert all(a.is_public and a.activity_id for a in attachments)
    page = client.get(response["Location"]).content.decode()
    assert "skärm.png" in page
    download = client.get(
        reverse("servicedesk:portal_attachment", args=[ticket.reference, attachments[1].pk])
    )
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert "attachment" in download["Content-Disposition"]
    client.force_login(world["stranger"])
    assert (
        client.get(
            reverse("servicedesk:portal_attachment", args=[ticket.reference, attachments[1].pk])
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("program.exe", b"MZ\x90\x00" * 8), "cannot be attached"),
        (SimpleUploadedFile("faktura.pdf", b"MZ\x90\x00" * 8), "cannot be attached"),
        (SimpleUploadedFile("sida.html", b"<script>alert(1)</script>"), "cannot be attached"),
    ],
)
def test_a_file_of_the_wrong_type_is_refused_and_the_form_is_kept(client, world, upload, message):
    client.force_login(world["requester"])
    url = reverse("servicedesk:portal_new_request", args=[world["laptop"].pk])
    response = client.post(url, {**_laptop_post(description="Min text"), "attachments": [upload]})
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert upload.name in page
    assert "Min text" in page and 'value="Astrid"' in page
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


def test_a_file_over_10_mb_is_refused(client, world):
    client.force_login(world["requester"])
    big = SimpleUploadedFile("scan.pdf", PDF + b"0" * (10 * 1024 * 1024), "application/pdf")
    response = client.post(
        reverse("servicedesk:portal_new_problem"),
        {"title": "Skannern", "description": "Se fil", "impact": "3", "urgency": "2"}
        | {"attachments": [big]},
    )
    assert response.status_code == 400
    assert "“scan.pdf” is too big" in response.content.decode()
    assert not Ticket.objects.exists()


def test_ticket_add_attachment_checks_type_and_who_and_is_audited(world):
    ticket = _ticket(world)
    attachment = ticket_add_attachment(
        actor=world["requester"],
        ticket=ticket,
        uploaded_file=SimpleUploadedFile("offert.pdf", PDF),
    )
    assert (attachment.filename, attachment.size, attachment.is_public) == ("offert.pdf", 18, True)
    assert attachment.activity.data["event"] == "attachment"
    assert AuditEvent.objects.filter(verb="attach", object_id=str(ticket.pk)).exists()
    with pytest.raises(ValidationFailed):
        ticket_add_attachment(
            actor=world["requester"],
            ticket=ticket,
            uploaded_file=SimpleUploadedFile("x.svg", b"<svg onload=alert(1)>"),
        )
    with pytest.raises(ValidationFailed) as refused:
        ticket_add_attachment(
            actor=world["requester"],
            ticket=ticket,
            uploaded_file=SimpleUploadedFile("intern.pdf", PDF),
            is_public=False,
        )
    assert refused.value.code == "forbidden"
    with pytest.raises(ValidationFailed):
        ticket_add_attachment(
            actor=world["vargarda_user"],
            ticket=ticket,
            uploaded_file=SimpleUploadedFile("b.pdf", PDF),
        )
    internal = ticket_add_attachment(
        actor=world["agent"],
        ticket=ticket,
        uploaded_file=SimpleUploadedFile("logg.txt", b"internal log"),
        is_public=False,
    )
    assert internal.is_public is False
    assert Attachment.objects.filter(ticket=ticket).count() == 2


# Approval ------------------------------------------------------------------------------------


def _order_laptop(client, world):
    client.force_login(world["requester"])
    response = client.post(
        reverse("servicedesk:portal_new_request", args=[world["laptop"].pk]), _laptop_post()
    )
    client.get(response["Location"])  # shows (and so uses up) the "thank you" message
    return Ticket.objects.get(request_type=world["laptop"])


def test_a_request_needing_approval_awaits_it_and_the_manager_sees_it(client, world):
    ticket = _order_laptop(client, world)
    assert ticket.status == Status.PENDING_APPROVAL
    page = client.get(reverse("servicedesk:portal_ticket", args=[ticket.reference])).content
    assert b"Awaiting approval" in page
    assert "Bengt" in page.decode()  # who we wait for

    client.force_login(world["manager"])
    approvals = client.get(reverse("servicedesk:portal_approvals")).content.decode()
    assert ticket.reference in approvals and "Power laptop" in approvals
    assert (
        "1 request is waiting for your approval"
        in client.get(reverse("servicedesk:portal_home")).content.decode()
    )


def test_approving_moves_the_ticket_to_new_and_tells_the_requester(client, world):
    ticket = _order_laptop(client, world)
    client.force_login(world["manager"])
    response = client.post(
        reverse("servicedesk:portal_approval_decide", args=[ticket.reference]),
        {f"t{ticket.pk}-decision": "approve", f"t{ticket.pk}-comment": "Ok, budget finns."},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    activity = TicketActivity.objects.filter(ticket=ticket, data__approved=True).get()
    assert activity.is_public and activity.actor == world["manager"]
    assert AuditEvent.objects.filter(verb="approve", object_id=str(ticket.pk)).exists()
    client.force_login(world["requester"])
    page = client.get(reverse("servicedesk:portal_ticket", args=[ticket.reference])).content
    assert "approved the request" in page.decode() and "Ok, budget finns." in page.decode()


def test_rejecting_needs_a_reason_and_cancels_the_ticket(client, world):
    ticket = _order_laptop(client, world)
    client.force_login(world["manager"])
    url = reverse("servicedesk:portal_approval_decide", args=[ticket.reference])
    response = client.post(url, {f"t{ticket.pk}-decision": "reject"})
    assert response.status_code == 400
    assert "Say why you turn the request down." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_APPROVAL

    client.post(
        url, {f"t{ticket.pk}-decision": "reject", f"t{ticket.pk}-comment": "Ingen budget i år."}
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.CANCELLED and ticket.closed_at is not None
    assert AuditEvent.objects.filter(verb="reject", object_id=str(ticket.pk)).exists()
    client.force_login(world["requester"])
    page = client.get(reverse("servicedesk:portal_ticket", args=[ticket.reference])).content
    assert "Ingen budget i år." in page.decode()


def test_someone_who_may_not_approve_neither_sees_nor_decides(client, world):
    ticket = _order_laptop(client, world)
    for outsider in (world["colleague"], world["vargarda_user"], world["agent"]):
        client.force_login(outsider)
        page = client.get(reverse("servicedesk:portal_approvals")).content.decode()
        assert ticket.reference not in page
        response = client.post(
            reverse("servicedesk:portal_approval_decide", args=[ticket.reference]),
            {f"t{ticket.pk}-decision": "approve"},
        )
        assert response.status_code == 404
        with pytest.raises(ValidationFailed):
            ticket_approve(actor=outsider, ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_APPROVAL


def test_nobody_approves_their_own_request_a_managers_goes_to_the_manager_above(world):
    parent = DepartmentFactory(organisation=world["herrljunga"], name="Kommunstyrelsen")
    director = UserFactory(organisation=world["herrljunga"], department=parent)
    parent.manager = director
    parent.save()
    world["office"].parent = parent
    world["office"].save()
    ticket = _ticket(world, requester=world["manager"], request_type=world["laptop"],
                     custom_fields={"for_whom": "Bengt", "model": "Desktop"})  # fmt: skip
    assert not can_approve(world["manager"], ticket)
    assert can_approve(director, ticket)
    assert [t.pk for t in tickets_awaiting_approval_by(director)] == [ticket.pk]
    assert tickets_awaiting_approval_by(world["manager"]) == []
    ticket_approve(actor=director, ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_role_approval_by_a_holder_for_the_organisation_or_for_all(world):
    ticket = _ticket(world, request_type=world["system_access"])
    assert ticket.status == Status.PENDING_APPROVAL
    local = grant(UserFactory(organisation=world["herrljunga"]), "manager", world["herrljunga"])
    everywhere = grant(UserFactory(organisation=world["it"]), "manager")
    elsewhere = grant(UserFactory(organisation=world["vargarda"]), "manager", world["vargarda"])
    assert can_approve(local, ticket) and can_approve(everywhere, ticket)
    assert not can_approve(elsewhere, ticket)
    assert not can_approve(world["manager"], ticket)  # a department manager is not the role
    assert [t.pk for t in tickets_awaiting_approval_by(local)] == [ticket.pk]
    assert tickets_awaiting_approval_by(elsewhere) == []
    with pytest.raises(ValidationFailed):
        ticket_reject(actor=everywhere, ticket=ticket, reason="  ")
    ticket_reject(actor=everywhere, ticket=ticket, reason="Inte godkänt av systemägaren.")
    ticket.refresh_from_db()
    assert ticket.status == Status.CANCELLED
    with pytest.raises(ValidationFailed):
        ticket_approve(actor=local, ticket=ticket)  # no longer awaiting approval


def test_approvals_page_query_count_does_not_grow(client, world):
    client.force_login(world["manager"])
    url = reverse("servicedesk:portal_approvals")
    _ticket(
        world, request_type=world["laptop"], custom_fields={"for_whom": "A", "model": "Desktop"}
    )
    few = _count(client, url)
    for _ in range(6):
        _ticket(
            world,
            requester=world["colleague"],
            request_type=world["laptop"],
            custom_fields={"for_whom": "B", "model": "Desktop"},
        )
    assert _count(client, url) == few


# Own tickets only, public activities only ------------------------------------------------------


def test_the_requester_sees_only_public_activities(client, world):
    ticket = _ticket(world, description="Det blinkar orange.")
    services.ticket_add_note(actor=world["agent"], ticket=ticket, body="HEMLIG intern anteckning")
    services.ticket_escalate(
        actor=world["agent"],
        ticket=ticket,
        version=None,
        group=SupportGroupFactory(name="Drift", line=2),
        reason="INTERN eskaleringsorsak",
    )
    services.ticket_reply(actor=world["agent"], ticket=ticket, body="Vi tittar på det.")
    ticket_add_attachment(
        actor=world["agent"],
        ticket=ticket,
        uploaded_file=SimpleUploadedFile("intern-logg.txt", b"internal"),
        is_public=False,
    )
    client.force_login(world["requester"])
    page = client.get(reverse("servicedesk:portal_ticket", args=[ticket.reference])).content
    page = page.decode()
    assert "Vi tittar på det." in page and "Det blinkar orange." in page
    assert "HEMLIG" not in page
    assert "INTERN eskaleringsorsak" not in page
    assert "Drift" not in page
    assert "intern-logg.txt" not in page
    hidden = Attachment.objects.get(filename="intern-logg.txt")
    url = reverse("servicedesk:portal_attachment", args=[ticket.reference, hidden.pk])
    assert client.get(url).status_code == 404


def test_someone_elses_ticket_is_not_found(client, world):
    mine = _ticket(world)
    other = _ticket(world, requester=world["stranger"], title="Sven's ticket")
    vargarda = _ticket(world, requester=world["vargarda_user"], title="Vårgårda ticket")
    client.force_login(world["requester"])
    assert (
        client.get(reverse("servicedesk:portal_ticket", args=[mine.reference])).status_code == 200
    )
    for ticket in (other, vargarda):
        for name in ("portal_ticket",):
            assert (
                client.get(reverse(f"servicedesk:{name}", args=[ticket.reference])).status_code
                == 404
            )
        for name in ("portal_ticket_reply", "portal_ticket_cancel", "portal_ticket_reopen"):
            response = client.post(
                reverse(f"servicedesk:{name}", args=[ticket.reference]),
                {"body": "x", "reason": "x", "version": ticket.version},
            )
            assert response.status_code == 404
    assert client.get(reverse("servicedesk:portal_ticket", args=["2026-999999"])).status_code == 404
    listing = client.get(reverse("servicedesk:portal_tickets") + "?show=all").content.decode()
    assert mine.reference in listing
    assert other.reference not in listing and vargarda.reference not in listing


def test_a_department_contact_follows_the_departments_tickets_but_cannot_cancel(client, world):
    ticket = _ticket(world)
    grant(world["colleague"], "department_contact", world["herrljunga"])
    client.force_login(world["colleague"])
    listing = client.get(reverse("servicedesk:portal_tickets")).content.decode()
    assert ticket.reference in listing
    page = client.get(reverse("servicedesk:portal_ticket", args=[ticket.reference])).content
    assert b"Cancel this ticket" not in page
    response = client.post(
        reverse("servicedesk:portal_ticket_cancel", args=[ticket.reference]),
        {"reason": "", "version": ticket.version},
    )
    assert response.status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


# Reply, reopen, cancel, rate ------------------------------------------------------------------


def test_reply_reopen_and_cancel(client, world):
    ticket = _ticket(world)
    client.force_login(world["requester"])
    page_url = reverse("servicedesk:portal_ticket", args=[ticket.reference])

    response = client.post(
        reverse("servicedesk:portal_ticket_reply", args=[ticket.reference]), {"body": "  "}
    )
    assert response.status_code == 400 and "Write a message." in response.content.decode()
    client.post(
        reverse("servicedesk:portal_ticket_reply", args=[ticket.reference]),
        {"body": "Det gäller plan 3 också."},
    )
    assert TicketActivity.objects.filter(ticket=ticket, kind="reply", is_public=True).count() == 1

    _resolve(world, ticket)
    page = client.get(page_url).content.decode()
    assert "It is not solved – open it again" in page
    assert "Bytte toner." in page
    client.post(
        reverse("servicedesk:portal_ticket_reopen", args=[ticket.reference]),
        {"reason": "Den skriver fortfarande inte."},
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW

    stale_version = ticket.version
    services.ticket_reply(actor=world["agent"], ticket=ticket, body="Vi kommer förbi.")
    services.ticket_set_status(
        actor=world["agent"], ticket=ticket, version=None, status=Status.IN_PROGRESS
    )
    response = client.post(
        reverse("servicedesk:portal_ticket_cancel", args=[ticket.reference]),
        {"reason": "", "version": stale_version},
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS  # a stale cancel is refused, not applied
    client.post(
        reverse("servicedesk:portal_ticket_cancel", args=[ticket.reference]),
        {"reason": "Löste sig själv.", "version": ticket.version},
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.CANCELLED
    page = client.get(page_url).content.decode()
    assert "Write to IT" not in page and "Cancel this ticket" not in page


def test_rating_from_the_ticket_page(client, world):
    ticket = _ticket(world)
    client.force_login(world["requester"])
    page_url = reverse("servicedesk:portal_ticket", args=[ticket.reference])
    assert b"Send rating" not in client.get(page_url).content
    _resolve(world, ticket)
    page = client.get(page_url).content.decode()
    assert "Send rating" in page and "<legend>" in page
    rate = reverse("servicedesk:portal_ticket_rate", args=[ticket.reference])
    assert client.post(rate, {"score": "9"}).status_code == 400
    client.post(rate, {"score": "4", "comment": "Snabbt!"})
    assert SatisfactionRating.objects.get(ticket=ticket).score == 4
    page = client.get(page_url).content.decode()
    assert "Send rating" not in page and "You rated the help 4 of 5" in page


# The rating link ------------------------------------------------------------------------------


def test_the_rating_link_works_logged_out_once(client, world):
    ticket = _ticket(world, description="SECRET description")
    services.ticket_add_note(actor=world["agent"], ticket=ticket, body="SECRET note")
    _resolve(world, ticket)
    url = rating_url(ticket)
    assert url.startswith("/portal/rate/")
    assert rating_url(ticket, base_url="https://arende.example/").startswith(
        "https://arende.example/portal/rate/"
    )
    page = client.get(url).content.decode()
    assert ticket.reference in page and ticket.title in page
    assert "SECRET" not in page and "Bytte toner." not in page
    assert "<fieldset" in page and "<legend>" in page
    assert page.count('type="radio" name="score"') == 5

    response = client.post(url, {"score": "5", "comment": "Tack!"})
    assert response.status_code == 302
    assert "Thank you for your rating" in client.get(response["Location"]).content.decode()
    rating = SatisfactionRating.objects.get(ticket=ticket)
    assert (rating.score, rating.comment) == (5, "Tack!")

    again = client.get(url).content.decode()
    assert "already been rated" in again and 'name="score"' not in again
    client.post(url, {"score": "1"})
    assert SatisfactionRating.objects.get(ticket=ticket).score == 5


def test_an_expired_rating_link_is_refused(client, world):
    ticket = _resolve(world, _ticket(world))
    long_ago = time.time() - 31 * 24 * 3600
    with mock.patch("django.core.signing.time.time", return_value=long_ago):
        token = rating_token(ticket)
    with pytest.raises(ExpiredRatingLink):
        ticket_from_rating_token(token)
    response = client.get(reverse("servicedesk:portal_rate", args=[token]))
    assert response.status_code == 404
    assert "expired" in response.content.decode()
    client.post(reverse("servicedesk:portal_rate", args=[token]), {"score": "5"})
    assert not SatisfactionRating.objects.exists()


def test_a_tampered_rating_link_is_refused(client, world):
    ticket = _resolve(world, _ticket(world))
    other = _resolve(world, _ticket(world, requester=world["stranger"]))
    token = rating_token(ticket)
    _payload, rest = token.split(":", 1)
    forged = rating_token(other).split(":", 1)[0] + ":" + rest  # other ticket, old signature
    for bad in (forged, token[:-2] + "xx", "nonsense", token + "a"):
        with pytest.raises(InvalidRatingLink):
            ticket_from_rating_token(bad)
        response = client.post(reverse("servicedesk:portal_rate", args=[bad]), {"score": "1"})
        assert response.status_code == 404
        assert "not valid" in response.content.decode()
    # A token signed for another purpose (another salt) is not a rating link.
    from django.core import signing

    other_purpose = signing.dumps({"t": ticket.pk, "r": ticket.reference}, salt="something.else")
    with pytest.raises(InvalidRatingLink):
        ticket_from_rating_token(other_purpose)
    assert not SatisfactionRating.objects.exists()


def test_the_rating_link_of_a_reopened_ticket_waits_for_the_resolution(client, world):
    ticket = _resolve(world, _ticket(world))
    url = rating_url(ticket)
    services.ticket_reopen(actor=world["requester"], ticket=ticket, reason="Nej")
    page = client.get(url).content.decode()
    assert "You can rate the help when it has been solved" in page
    assert client.post(url, {"score": "3"}).status_code == 200
    assert not SatisfactionRating.objects.exists()


# Query counts ---------------------------------------------------------------------------------


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url_name", ["portal_tickets", "portal_home"])
def test_my_tickets_issue_a_constant_number_of_queries(client, world, url_name):
    client.force_login(world["requester"])
    url = reverse(f"servicedesk:{url_name}") + ("?show=all" if url_name == "portal_tickets" else "")
    _ticket(world)
    few = _count(client, url)
    for number in range(12):
        ticket = _ticket(world, title=f"Ärende {number}")
        if number % 3 == 0:
            _resolve(world, ticket)
        _ticket(world, requester=world["stranger"])
    ticket.watchers.add(world["requester"])
    assert _count(client, url) == few


def test_the_ticket_page_query_count_does_not_grow_with_the_timeline(client, world):
    ticket = _ticket(world)
    client.force_login(world["requester"])
    url = reverse("servicedesk:portal_ticket", args=[ticket.reference])
    few = _count(client, url)
    for number in range(8):
        services.ticket_reply(actor=world["agent"], ticket=ticket, body=f"Svar {number}")
        ticket_add_attachment(
            actor=world["requester"],
            ticket=ticket,
            uploaded_file=SimpleUploadedFile(f"bild{number}.png", PNG),
        )
    assert _count(client, url) == few
