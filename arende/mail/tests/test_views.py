"""The quarantine pages and the API: who may see what, what the actions do, and secrecy."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arende.core.models import AuditEvent
from arende.core.tests.factories import UserFactory, grant
from arende.mail.models import InboundMessage, Mailbox
from arende.mail.services.intake import inbound_process, inbound_store
from arende.mail.services.settings import mailbox_save
from arende.mail.tests.conftest import corpus
from arende.servicedesk.models import Ticket

pytestmark = pytest.mark.django_db
State = InboundMessage.State
SECRET = "Sup3r-hemligt-l0senord"


@pytest.fixture
def box(world):
    return mailbox_save(
        actor=None,
        mailbox=Mailbox(),
        secret=SECRET,
        name="Servicedesk Herrljunga",
        address="servicedesk@it.example",
        host="imap.example",
        port=993,
        username="servicedesk@it.example",
        organisation=world["herrljunga"],
        default_group=world["group"],
    )


_uid = iter(range(1, 10_000))


def _take(box, raw: bytes) -> InboundMessage:
    message, _created = inbound_store(mailbox=box, uidvalidity=1, uid=next(_uid), raw=raw)
    return inbound_process(message=message)


@pytest.fixture
def quarantined(box):
    return _take(box, corpus("malformed_no_sender.eml"))


def test_list_and_detail_for_the_manager(client, world, quarantined):
    client.force_login(world["manager"])
    response = client.get("/mail/inbound/")
    assert response.status_code == 200
    assert "=?utf-8?B?broken" in response.content.decode()
    response = client.get(f"/mail/inbound/{quarantined.pk}/")
    assert response.status_code == 200
    assert "The sender address cannot be read" in response.content.decode()


def test_download_raw(client, world, quarantined):
    client.force_login(world["manager"])
    response = client.get(f"/mail/inbound/{quarantined.pk}/raw/")
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert "attachment" in response["Content-Disposition"]
    assert response.content == corpus("malformed_no_sender.eml")


def test_agents_may_not_and_other_municipality_sees_nothing(client, world, quarantined):
    client.force_login(world["agent"])
    assert client.get("/mail/inbound/").status_code == 403
    outsider = grant(UserFactory(organisation=world["vargarda"]), "manager", world["vargarda"])
    client.force_login(outsider)
    assert client.get("/mail/inbound/").status_code == 200
    assert client.get(f"/mail/inbound/{quarantined.pk}/").status_code == 404
    assert client.get(f"/mail/inbound/{quarantined.pk}/raw/").status_code == 404
    assert client.post(f"/mail/inbound/{quarantined.pk}/retry/").status_code == 404


def test_retry_assign_and_dismiss(client, world, box, quarantined):
    client.force_login(world["manager"])
    response = client.post(f"/mail/inbound/{quarantined.pk}/retry/")
    assert response.status_code == 302
    quarantined.refresh_from_db()
    assert quarantined.state == State.QUARANTINED  # still unparseable

    ticket = _take(box, corpus("outlook_cp1252.eml")).ticket
    response = client.post(f"/mail/inbound/{quarantined.pk}/assign/", {"reference": "2026-99"})
    assert response.status_code == 400
    response = client.post(
        f"/mail/inbound/{quarantined.pk}/assign/", {"reference": ticket.reference}
    )
    assert response.status_code == 302
    quarantined.refresh_from_db()
    assert (quarantined.state, quarantined.ticket) == (State.PROCESSED, ticket)

    other = _take(box, b"To: x@y.se\r\nSubject: skr\xe4p\r\n\r\nhej\r\n")
    assert other.state == State.QUARANTINED
    assert client.post(f"/mail/inbound/{other.pk}/dismiss/").status_code == 302
    other.refresh_from_db()
    assert (other.state, other.reason) == (State.IGNORED, "dismissed")
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"quarantine", "assign", "retry", "dismiss"} <= verbs


def test_list_queries_do_not_grow(client, world, box):
    client.force_login(world["manager"])
    for _ in range(2):
        _take(box, corpus("malformed_no_sender.eml").replace(b"malformed-1", b"m-%d" % next(_uid)))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/mail/inbound/?state=all").status_code == 200
        return len(queries)

    few = count()
    for n in range(15):
        _take(box, f"From: p{n}@herrljunga.example\r\nSubject: s{n}\r\n\r\nx\r\n".encode())
    assert count() == few
    assert Ticket.objects.count() == 15


def test_api_lists_without_raw_or_secret(client, world, quarantined):
    client.force_login(world["manager"])
    data = client.get("/api/inbound-mail/").json()
    assert data["count"] == 1
    row = data["results"][0]
    assert row["state"] == "quarantined" and "raw" not in row
    client.force_login(world["agent"])
    assert client.get("/api/inbound-mail/").status_code == 403


def test_secret_is_encrypted_and_never_shown(client, world, box):
    box.refresh_from_db()
    assert SECRET not in box.secret_encrypted and box.has_secret
    admin = grant(UserFactory(organisation=world["herrljunga"], is_staff=True), "admin")
    client.force_login(admin)
    page = client.get(f"/admin/mail/mailbox/{box.pk}/change/").content.decode()
    assert SECRET not in page and box.secret_encrypted not in page
    assert 'name="new_secret"' in page
    assert not any(SECRET in str(event.changes) for event in AuditEvent.objects.all())


def test_preferences_page(client, world):
    client.force_login(world["agent"])
    assert client.get("/mail/notifications/").status_code == 200
    response = client.post("/mail/notifications/", {"assigned": "on", "sla": "on"})
    assert response.status_code == 302
    from arende.mail.selectors import notification_preferences

    assert notification_preferences(world["agent"]) == {
        "assigned": True,
        "escalated": False,
        "requester_replied": False,
        "sla": True,
    }
    client.force_login(world["requester"])
    assert client.get("/mail/notifications/").status_code == 403


def test_plain_imap_only_to_loopback(world):
    from arende.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        mailbox_save(
            actor=None,
            mailbox=Mailbox(),
            name="x",
            address="x@y.se",
            host="imap.example",
            username="x",
            organisation=world["herrljunga"],
            security=Mailbox.Security.PLAIN,
        )


def test_admin_creates_a_mailbox_through_the_service(client, world):
    admin = grant(UserFactory(organisation=world["herrljunga"], is_staff=True), "admin")
    client.force_login(admin)
    response = client.post(
        "/admin/mail/mailbox/add/",
        {
            "name": "Servicedesk Vårgårda",
            "address": "servicedesk@vargarda.example",
            "organisation": world["vargarda"].pk,
            "is_active": "on",
            "host": "outlook.office365.com",
            "port": "993",
            "security": "tls",
            "folder": "INBOX",
            "auth_method": "xoauth2",
            "username": "servicedesk@vargarda.example",
            "new_secret": SECRET,
            "oauth_tenant": "vargarda.onmicrosoft.com",
            "oauth_client_id": "5f0c1d2e-aaaa-bbbb-cccc-123456789abc",
            "oauth_scope": "https://outlook.office365.com/.default",
            "max_message_bytes": "26214400",
            "rate_limit": "20",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    box = Mailbox.objects.get(name="Servicedesk Vårgårda")
    from arende.mail.secrets import decrypt_secret

    assert decrypt_secret(box.secret_encrypted) == SECRET
    assert AuditEvent.objects.filter(object_id=str(box.pk), action="create").exists()
