"""Fixtures of the mail tests: a real Dovecot on loopback, aiosmtpd, mailboxes and people.

Dovecot is Debian's (``scripts/system-deps.sh mail`` installs it). Without it the tests that
need it are skipped, unless ARENDE_REQUIRE_MAIL is set (CI sets it to 1): then they fail.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from arende.core.tests.factories import OrganisationFactory, UserFactory, grant
from arende.mail.imap import ImapSession, append
from arende.mail.models import Mailbox
from arende.mail.services.settings import mailbox_save
from arende.mail.testing import DOVECOT_PASSWORD, DovecotServer, SmtpSink, dovecot_binary
from arende.servicedesk.tests.factories import SupportGroupFactory

CORPUS = Path(__file__).parent / "corpus"
_users = itertools.count(1)


def _mail_required() -> bool:
    return os.environ.get("ARENDE_REQUIRE_MAIL", "").strip().lower() not in ("", "0", "false")


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory):
    if dovecot_binary() is None:
        if _mail_required():
            pytest.fail("ARENDE_REQUIRE_MAIL is set but Dovecot is missing.")
        pytest.skip("Dovecot is not installed (bash scripts/system-deps.sh mail).")
    root = (
        Path(os.environ.get("ARENDE_DOVECOT_DIR", ""))
        if os.environ.get("ARENDE_DOVECOT_DIR")
        else None
    )
    server = DovecotServer(root)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(settings):
    sink = SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    sink.stop()


def corpus(name: str, **values: str) -> bytes:
    raw = (CORPUS / name).read_bytes()
    for key, value in values.items():
        raw = raw.replace(f"{{{{{key}}}}}".encode(), value.encode())
    return raw


@pytest.fixture
def world(db):
    """Two municipalities, a first-line group, an agent, a manager and a requester."""
    herrljunga = OrganisationFactory(name="Herrljunga kommun", short_name="Herrljunga")
    vargarda = OrganisationFactory(name="Vårgårda kommun", short_name="Vårgårda")
    agent = grant(UserFactory(organisation=herrljunga, email="agent@it.example"), "agent")
    manager = grant(UserFactory(organisation=herrljunga, email="chef@it.example"), "manager")
    group = SupportGroupFactory(name="Servicedesk", line=1, members=[agent])
    second = SupportGroupFactory(name="Drift", line=2, members=[manager])
    requester = UserFactory(
        organisation=herrljunga,
        email="asa.oberg@herrljunga.example",
        first_name="Åsa",
        last_name="Öberg",
    )
    return {
        "herrljunga": herrljunga,
        "vargarda": vargarda,
        "agent": agent,
        "manager": manager,
        "group": group,
        "second": second,
        "requester": requester,
    }


@pytest.fixture
def make_mailbox(world, dovecot):
    def make(**fields) -> Mailbox:
        number = next(_users)
        secret = fields.pop("secret", DOVECOT_PASSWORD)
        defaults = {
            "name": f"Servicedesk {number}",
            "address": "servicedesk@it.example",
            "host": "127.0.0.1",
            "port": dovecot.port,
            "security": Mailbox.Security.PLAIN,
            "username": f"desk{number}-{os.getpid()}@it.example",
            "organisation": world["herrljunga"],
            "default_group": world["group"],
        }
        defaults.update(fields)
        return mailbox_save(actor=None, mailbox=Mailbox(), secret=secret, **defaults)

    return make


@pytest.fixture
def mailbox(make_mailbox):
    return make_mailbox()


def deliver(mailbox: Mailbox, *messages: bytes, folder: str | None = None) -> None:
    with ImapSession(mailbox) as session:
        for raw in messages:
            append(session, folder or mailbox.folder, raw)


def server_flags(mailbox: Mailbox) -> dict[int, bytes]:
    """UID -> the FLAGS of every message in the mailbox's folder."""
    with ImapSession(mailbox) as session:
        session.select(mailbox.folder)
        _status, data = session.client.uid("FETCH", "1:*", "(UID FLAGS)")
        flags = {}
        for line in data:
            if isinstance(line, bytes) and b"UID" in line:
                uid = int(line.split(b"UID ")[1].split()[0].rstrip(b")"))
                flags[uid] = line
        return flags
