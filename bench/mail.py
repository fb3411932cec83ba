"""E-mail intake speed: messages per second from Dovecot into tickets, with one worker.

Starts Dovecot on loopback with a throwaway configuration (as the tests do), delivers
BENCH_MAIL_N messages (default 1 000; Swedish text, some with a PDF attachment, a few replies to
earlier ones) over IMAP APPEND, then times one ``mailbox_poll``: fetch, store raw, parse, create
the ticket or the reply, queue the receipt, flag on the server. Issue 5's target is 100/s.

Database: BENCH_MAIL_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/arende_bench_mail),
migrated on first use and kept between runs. Jobs go to a queue file in a temporary folder, so
no receipt is really sent.
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_MAIL_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/arende_bench_mail"
)
os.environ["ARENDE_VAR_DIR"] = tempfile.mkdtemp(prefix="arende-bench-mail-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arende.settings.base")
os.environ.setdefault("ARENDE_MODE", "development")
os.environ["DEBUG"] = "false"
os.environ["LOG_LEVEL"] = "WARNING"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from arende.core.models import Organisation  # noqa: E402
from arende.mail.imap import ImapSession  # noqa: E402
from arende.mail.models import InboundMessage, Mailbox  # noqa: E402
from arende.mail.services.intake import mailbox_poll  # noqa: E402
from arende.mail.services.settings import mailbox_save  # noqa: E402
from arende.mail.testing import DOVECOT_PASSWORD, DovecotServer, dovecot_binary  # noqa: E402
from arende.servicedesk.models import SupportGroup  # noqa: E402

TARGET = 100.0
PDF = b"%PDF-1.4\n" + b"0" * 20_000 + b"\n%%EOF\n"


def _message(run: str, n: int) -> bytes:
    sender = f"person{n % 300}.{run}@herrljunga.example"
    subject = f"Skrivaren på plan {n % 5} skriver ut tomma sidor ({n})"
    text = (
        "Hej!\n\nSkrivaren i kommunhuset skriver ut tomma sidor – både A4 och A3. "
        "Kan ni titta på den idag?\n\nMed vänlig hälsning\nÅsa Öberg\n"
    )
    headers = (
        f"From: Åsa Öberg <{sender}>\r\nTo: servicedesk@it.example\r\n"
        f"Subject: {subject}\r\nMessage-ID: <bench-{run}-{n}@herrljunga.example>\r\n"
        "Date: Tue, 24 Nov 2026 08:12:03 +0100\r\nMIME-Version: 1.0\r\n"
    )
    if n % 10 == 0:  # every tenth with an attachment
        boundary = "b-bench"
        body = (
            f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n"
            f"{text}\r\n--{boundary}\r\nContent-Type: application/pdf\r\n"
            "Content-Disposition: attachment; filename*=utf-8''Felrapport%20f%C3%B6r%20skrivare.pdf\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n"
            f"{base64.encodebytes(PDF).decode()}\r\n--{boundary}--\r\n"
        )
    else:
        body = f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}"
    return (headers + body).encode()


def main() -> int:
    if dovecot_binary() is None:
        print("mail intake: skipped (Dovecot missing: bash scripts/system-deps.sh mail)")
        return 0
    n = int(os.environ.get("BENCH_MAIL_N", "1000"))
    call_command("migrate", verbosity=0)
    organisation = Organisation.objects.order_by("pk").first()
    if organisation is None:
        organisation = Organisation.objects.create(
            name="Benchkommun", short_name="Bench", kind="municipality", org_number="556000-0008"
        )
    group = SupportGroup.objects.filter(line=1).first() or SupportGroup.objects.create(
        name="Servicedesk", line=1
    )
    run = f"{int(time.time())}"
    with DovecotServer() as server:
        box = mailbox_save(
            actor=None,
            mailbox=Mailbox(),
            secret=DOVECOT_PASSWORD,
            name=f"Bench {run}",
            address="servicedesk@it.example",
            host="127.0.0.1",
            port=server.port,
            security=Mailbox.Security.PLAIN,
            username=f"bench-{run}@it.example",
            organisation=organisation,
            default_group=group,
            rate_limit=10_000,
        )
        started = time.perf_counter()
        with ImapSession(box) as session:
            for index in range(n):
                session.client.append('"INBOX"', None, None, _message(run, index))
        delivered = time.perf_counter() - started

        started = time.perf_counter()
        result = mailbox_poll(mailbox=box)
        elapsed = time.perf_counter() - started
    if result.error or result.processed != n:
        print(f"mail intake: FAILED ({result})")
        return 1
    tickets = InboundMessage.objects.filter(mailbox=box, ticket__isnull=False).count()

    # For comparison: the ticket service alone (with its signal receivers, e.g. SLA clocks),
    # for the same number of contact tickets, each in a transaction of its own.
    from django.db import transaction

    from arende.servicedesk.services.tickets import ticket_create

    started = time.perf_counter()
    for index in range(n):
        with transaction.atomic():
            ticket_create(
                actor=None,
                channel="email",
                title=f"Jämförelse {index}",
                description="Skrivaren skriver ut tomma sidor.",
                contact_email=f"jamforelse{index}@herrljunga.example",
                organisation=organisation,
                group=group,
            )
    create_rate = n / (time.perf_counter() - started)
    rate = n / elapsed
    status = "ok" if rate >= TARGET else "BELOW TARGET"
    print(f"Database: {connection.settings_dict['NAME']} on {connection.vendor}")
    print(f"mail intake: delivered {n:,} messages by IMAP APPEND in {delivered:.1f} s")
    print(
        f"mail intake: Dovecot → tickets      {rate:>12,.0f} messages/s  "
        f"({n:,} in {elapsed:.1f} s, {tickets:,} tickets; target {TARGET:,.0f}: {status})"
    )
    print(
        f"mail intake: ticket_create alone     {create_rate:>12,.0f} tickets/s   "
        "(the same service without mail, for comparison)"
    )
    return 0  # below target is reported, not a failure of the run


if __name__ == "__main__":
    raise SystemExit(main())
