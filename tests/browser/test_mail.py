"""The quarantine of incoming e-mail in a real browser (issue 5, "Done when"): the IT manager
lists quarantined mail, opens one, downloads its raw source, retries it and adds it to a ticket
by hand; every page passes axe-core and stays on its own origin under the CSP."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import expect

from .support import IT_MANAGER

pytestmark = pytest.mark.browser
CORPUS = Path(__file__).resolve().parents[2] / "arende" / "mail" / "tests" / "corpus"


def sv(message: str) -> str:
    """``message`` as the server renders it: in Swedish, from the same catalogue."""
    with translation.override("sv"):
        return translation.gettext(message)


@dataclass(frozen=True)
class Quarantine:
    broken: int  # an unparseable message
    looping: int  # held back by the rate limit; a retry makes a ticket of it
    reference: str  # a ticket to add the broken message to


@pytest.fixture(scope="module")
def quarantine(demo_server, django_db_blocker) -> Quarantine:
    from arende.core.models import Organisation
    from arende.mail.models import InboundMessage, Mailbox
    from arende.mail.services.intake import inbound_process, inbound_store
    from arende.mail.services.settings import mailbox_save

    with django_db_blocker.unblock():
        herrljunga = Organisation.objects.get(short_name="Herrljunga")
        box = mailbox_save(
            actor=None,
            mailbox=Mailbox(),
            secret="browser-test",
            name="Servicedesk Herrljunga",
            address="servicedesk@it.herrljunga.example",
            host="imap.herrljunga.example",
            port=993,
            username="servicedesk@it.herrljunga.example",
            organisation=herrljunga,
            rate_limit=1,
        )

        def take(uid: int, raw: bytes) -> InboundMessage:
            message, _ = inbound_store(mailbox=box, uidvalidity=7, uid=uid, raw=raw)
            return inbound_process(message=message)

        broken = take(1, (CORPUS / "malformed_no_sender.eml").read_bytes())
        first = take(
            2,
            "From: astrid.andersson@herrljunga.example\r\nSubject: Skrivaren är trasig\r\n"
            "Message-ID: <b1@herrljunga.example>\r\n\r\nDen skriver inte.\r\n".encode(),
        )
        looping = take(
            3,
            b"From: astrid.andersson@herrljunga.example\r\nSubject: Skrivaren igen\r\n"
            b"Message-ID: <b2@herrljunga.example>\r\n\r\nFortfarande trasig.\r\n",
        )
        assert broken.state == looping.state == "quarantined"
        return Quarantine(broken.pk, looping.pk, first.ticket.reference)


def test_quarantine_list_download_retry_assign(
    page, page_log, live_url, sign_in, quarantine, assert_accessible, screenshot
):
    sign_in(page, IT_MANAGER)
    page.goto("/")
    page.get_by_role("navigation", name=sv("Main navigation")).get_by_role(
        "link", name=sv("Incoming e-mail")
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(sv("Incoming e-mail"))
    rows = page.get_by_role("row")
    expect(rows.filter(has_text="Skrivaren igen")).to_have_count(1)
    assert_accessible(page)
    screenshot(page, "mail-quarantine-list")

    page.get_by_role("link", name="Skrivaren igen").click()
    expect(page.get_by_text("held back as a possible mail loop")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "mail-quarantine-detail")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=sv("Download the raw message (.eml)")).click()
    download = download_info.value
    assert download.suggested_filename == f"message-{quarantine.looping}.eml"
    assert b"Fortfarande trasig." in Path(download.path()).read_bytes()

    page.get_by_role("button", name=sv("Retry")).click()
    expect(page.get_by_role("status")).to_contain_text(
        sv("The message was processed: ticket %(reference)s.").split("%")[0].strip()
    )
    expect(page.get_by_text(sv("Processed"), exact=True)).to_be_visible()
    assert_accessible(page)

    page.goto(f"/mail/inbound/{quarantine.broken}/")
    page.get_by_label(sv("Ticket reference")).fill("2020-000000")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=sv("Add to ticket")).click()
    assert navigation.value.status == 400
    expect(page.get_by_text(sv("No ticket with that reference."))).to_be_visible()
    assert_accessible(page)
    page.get_by_label(sv("Ticket reference")).fill(quarantine.reference)
    page.get_by_role("button", name=sv("Add to ticket")).click()
    expect(page.get_by_role("status")).to_contain_text(quarantine.reference)
    assert_accessible(page)
    screenshot(page, "mail-quarantine-assigned")

    page.goto("/mail/notifications/")
    expect(page.get_by_role("heading", level=1)).to_have_text(sv("E-mail notifications"))
    assert_accessible(page)

    # The refused form answers 400 on purpose; Chromium logs that as a console error.
    assert [e for e in page_log.console_errors if "status of 400" not in e] == []
    assert page_log.csp_violations == []
    assert page_log.foreign_requests(live_url) == []
