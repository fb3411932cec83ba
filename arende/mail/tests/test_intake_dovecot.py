"""Intake against a real Dovecot: the corpus in, tickets out, nothing lost, nothing doubled."""

from __future__ import annotations

import pytest
from django.core import mail as django_mail

from arende.mail.imap import DONE_KEYWORD
from arende.mail.models import InboundMessage, Notification, OutboundMessage
from arende.mail.services.intake import inbound_assign, inbound_retry, mailbox_poll
from arende.mail.tests.conftest import corpus, deliver, server_flags
from arende.servicedesk.models import Attachment, Ticket, TicketActivity, TicketLink
from arende.servicedesk.services import tickets as ticket_services

pytestmark = pytest.mark.django_db(transaction=True)
State = InboundMessage.State

PERSON_MAILS = [
    "outlook_cp1252.eml",
    "apple_mail_attachment.eml",
    "html_only_latin1.eml",
    "inline_image.eml",
    "odd_charset_exe.eml",
]
AUTOMATIC_MAILS = [
    "auto_reply_exchange.eml",
    "auto_reply_x_autoreply.eml",
    "bounce.eml",
    "bulk_newsletter.eml",
]


def _ticket_for(subject_part: str) -> Ticket:
    return Ticket.objects.get(title__contains=subject_part)


def test_corpus_becomes_tickets(mailbox, world):
    deliver(
        mailbox,
        *[corpus(name) for name in PERSON_MAILS + AUTOMATIC_MAILS + ["malformed_no_sender.eml"]],
    )
    result = mailbox_poll(mailbox=mailbox)

    assert result.error == ""
    assert (result.fetched, result.processed, result.ignored, result.quarantined) == (10, 5, 4, 1)
    assert Ticket.objects.count() == 5
    assert set(Ticket.objects.values_list("channel", flat=True)) == {"email"}

    # Outlook, Windows-1252 quoted-printable: a known user becomes the requester.
    outlook = _ticket_for("Skrivaren på plan 2")
    assert outlook.requester == world["requester"]
    assert outlook.organisation == world["herrljunga"]
    assert outlook.group == world["group"]
    assert "“tomma” sidor – både A4 och A3" in outlook.description
    assert "Åsa Öberg" in outlook.description

    # Apple Mail: an unknown sender is kept as a contact; RFC 2231 file name with åäö.
    apple = _ticket_for("Lönespecifikation")
    assert apple.requester is None
    assert apple.contact_email == "borje.nystrom@vargarda.example"
    assert apple.contact_name == "Börje Ny Ström"
    assert apple.organisation == world["herrljunga"]  # the mailbox's organisation
    assert [a.filename for a in apple.attachments.all()] == ["Lönespecifikation för år 2026.pdf"]
    attachment = apple.attachments.get()
    assert attachment.content_type == "application/pdf"
    assert attachment.file.read().startswith(b"%PDF-")

    # HTML only, ISO-8859-1 in base64: sanitised and flattened, the script is gone.
    html = _ticket_for("Procapita")
    assert 'Felmeddelandet är "Åtkomst nekad".' in html.description
    assert "driftinfo (https://intranet.herrljunga.example/driftinfo)" in html.description
    assert "alert" not in html.description and "<" not in html.description

    # An inline image is kept as an attachment.
    inline = _ticket_for("Felmeddelande i Outlook")
    assert list(inline.attachments.values_list("filename", "content_type")) == [
        ("image001.png", "image/png")
    ]

    # Unknown charset still gives text; the .exe is refused, the .xlsx (RFC 2231 continued,
    # ISO-8859-1) is kept, and the refusal is noted on the message.
    odd = _ticket_for("Program som inte går att installera")
    assert "Jag försöker installera programmet" in odd.description
    assert list(odd.attachments.values_list("filename", flat=True)) == ["Budget för år ändrad.xlsx"]
    odd_message = InboundMessage.objects.get(ticket=odd)
    assert any("setup.exe" in note for note in odd_message.notes)

    # Auto-replies, bounces and bulk mail are recorded as ignored and never answered.
    ignored = InboundMessage.objects.filter(state=State.IGNORED)
    assert sorted(ignored.values_list("reason", flat=True)) == [
        "auto_reply",
        "auto_submitted",
        "auto_submitted",
        "bulk",
    ]
    assert not ignored.filter(ticket__isnull=False).exists()
    answered = {message.to for message in OutboundMessage.objects.all()}
    assert not any("lena.berg" in to or "mailer-daemon" in to.lower() for to in answered)

    # The malformed one is quarantined with its raw source.
    bad = InboundMessage.objects.get(state=State.QUARANTINED)
    assert bad.reason == "unparseable"
    assert bytes(bad.raw) == corpus("malformed_no_sender.eml")
    assert "sender" in bad.error

    # Receipts went to the five requesters (in Swedish), through the job queue.
    receipts = [m for m in django_mail.outbox if "Vi har tagit emot ditt ärende" in m.subject]
    assert len(receipts) == 5
    assert {m.to[0].split("<")[-1].rstrip(">") for m in receipts} >= {
        "asa.oberg@herrljunga.example",
        "borje.nystrom@vargarda.example",
    }

    # Every message is flagged on the server, after its commit.
    flags = server_flags(mailbox)
    assert len(flags) == 10
    assert all(DONE_KEYWORD.encode() in line for line in flags.values())


def test_polling_twice_makes_no_duplicate(mailbox, world):
    deliver(mailbox, corpus("outlook_cp1252.eml"), corpus("html_only_latin1.eml"))
    first = mailbox_poll(mailbox=mailbox)
    second = mailbox_poll(mailbox=mailbox)
    assert (first.processed, second.fetched) == (2, 0)
    assert Ticket.objects.count() == 2

    # Even when the server forgets the flag (or the same message is delivered again), the
    # Message-ID keeps it to one ticket.
    deliver(mailbox, corpus("outlook_cp1252.eml"))
    third = mailbox_poll(mailbox=mailbox)
    assert (third.fetched, third.duplicates) == (1, 1)
    assert Ticket.objects.count() == 2
    assert InboundMessage.objects.count() == 2


def test_a_failing_message_is_quarantined_alone(mailbox, world, monkeypatch):
    """A batch is first tried without a savepoint per message; when one message fails after
    its ticket was written, the batch starts over and only that message is held back."""
    create = ticket_services.ticket_create

    def failing_create(**kwargs):
        ticket = create(**kwargs)
        if "Procapita" in kwargs["title"]:
            raise RuntimeError("the disk is full")
        return ticket

    monkeypatch.setattr(ticket_services, "ticket_create", failing_create)
    deliver(
        mailbox,
        corpus("outlook_cp1252.eml"),
        corpus("html_only_latin1.eml"),
        corpus("inline_image.eml"),
    )
    result = mailbox_poll(mailbox=mailbox)

    assert (result.fetched, result.processed, result.quarantined) == (3, 2, 1)
    failed = InboundMessage.objects.get(subject__contains="Procapita")
    assert (failed.state, failed.reason, failed.ticket) == (State.QUARANTINED, "failed", None)
    assert "the disk is full" in failed.error
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {
        State.PROCESSED,
        State.QUARANTINED,
    }
    assert Ticket.objects.count() == 2
    assert not Ticket.objects.filter(title__contains="Procapita").exists()
    numbers = sorted(
        int(ref.split("-")[1]) for ref in Ticket.objects.values_list("reference", flat=True)
    )
    assert numbers[1] == numbers[0] + 1  # the rolled-back ticket's number is not lost
    assert Notification.objects.filter(kind=Notification.Kind.RECEIPT).count() == 2
    assert len(server_flags(mailbox)) == 3
    assert all(DONE_KEYWORD.encode() in line for line in server_flags(mailbox).values())


OUTLOOK_MESSAGE_ID = "<DB9PR04MB8411A1B2C3D4E5F6@DB9PR04MB8411.eurprd04.prod.outlook.com>"


def _same_poll_answer() -> bytes:
    """Åsa's answer to outlook_cp1252.eml, by In-Reply-To."""
    message_id = OUTLOOK_MESSAGE_ID
    return (
        "From: =?utf-8?q?=C3=85sa_=C3=96berg?= <asa.oberg@herrljunga.example>\r\n"
        "To: servicedesk@it.example\r\nSubject: SV: Skrivaren\r\n"
        f"Message-ID: <same-poll-answer@herrljunga.example>\r\nIn-Reply-To: {message_id}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Nu fungerar den inte alls.\r\n"
    ).encode()


def test_a_reply_to_a_mail_in_the_same_poll_threads(mailbox, world):
    """The first mail's ticket and row are written with its batch; the answer in the same
    batch still finds the ticket by In-Reply-To (and its status history is whole)."""
    from arende.sla.models import StatusSpan

    first = corpus("outlook_cp1252.eml")
    assert OUTLOOK_MESSAGE_ID.encode() in first
    deliver(mailbox, first, _same_poll_answer())
    result = mailbox_poll(mailbox=mailbox)

    assert (result.processed, result.quarantined) == (2, 0)
    ticket = Ticket.objects.get()
    assert TicketActivity.objects.filter(ticket=ticket, kind="reply").count() == 1
    assert set(InboundMessage.objects.values_list("ticket", flat=True)) == {ticket.pk}
    assert StatusSpan.objects.filter(ticket=ticket, ended_at__isnull=True).count() == 1
    assert ticket.line_spans.count() == 1


def test_a_failing_answer_in_the_same_poll_loses_nothing_before_it(mailbox, world, monkeypatch):
    """Started over message by message, each row is written at once: the failing answer's
    rollback cannot take the first mail's row with it."""
    reply = ticket_services.ticket_reply

    def failing_reply(**kwargs):
        reply(**kwargs)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(ticket_services, "ticket_reply", failing_reply)
    deliver(mailbox, corpus("outlook_cp1252.eml"), _same_poll_answer())
    result = mailbox_poll(mailbox=mailbox)

    assert (result.processed, result.quarantined) == (1, 1)
    ticket = Ticket.objects.get()
    first = InboundMessage.objects.get(message_id=OUTLOOK_MESSAGE_ID)
    assert (first.state, first.ticket) == (State.PROCESSED, ticket)
    answer = InboundMessage.objects.get(message_id="<same-poll-answer@herrljunga.example>")
    assert (answer.state, answer.reason, answer.ticket) == (State.QUARANTINED, "failed", None)
    assert not TicketActivity.objects.filter(ticket=ticket, kind="reply").exists()


def test_a_poll_starts_the_sla_clocks_of_each_ticket(mailbox, world):
    """Policies and calendars are looked up once per batch; every ticket still gets its own
    clocks, its first status span, and its deadline on the row."""
    from arende.sla.models import Calendar, SlaClock, SlaPolicy, StatusSpan

    Calendar.objects.create(name="Dygnet runt", always_open=True)
    SlaPolicy.objects.create(
        name="Standard", order=100, first_response_minutes=8 * 60, resolution_minutes=24 * 60
    )
    deliver(
        mailbox,
        corpus("outlook_cp1252.eml"),
        corpus("html_only_latin1.eml"),
        _same_poll_answer(),
    )
    assert mailbox_poll(mailbox=mailbox).processed == 3

    tickets = list(Ticket.objects.all())
    assert len(tickets) == 2
    for ticket in tickets:
        assert SlaClock.objects.filter(ticket=ticket).count() == 2
        assert StatusSpan.objects.filter(ticket=ticket).count() == 1
        assert ticket.sla_due_at is not None
        assert ticket.line_spans.count() == 1


def test_unfinished_message_is_fetched_again(mailbox, world):
    """A crash after storing but before processing: the next poll finishes the job."""
    from arende.mail.imap import ImapSession
    from arende.mail.services.intake import inbound_store

    deliver(mailbox, corpus("outlook_cp1252.eml"))
    with ImapSession(mailbox) as session:
        validity = session.select(mailbox.folder)
        (fetched,) = list(session.fetch(session.new_uids()))
    inbound_store(mailbox=mailbox, uidvalidity=validity, uid=fetched.uid, raw=fetched.raw)
    assert Ticket.objects.count() == 0

    result = mailbox_poll(mailbox=mailbox)
    assert result.processed == 1
    assert Ticket.objects.count() == 1


def test_processed_folder_moves_mail(make_mailbox, world):
    box = make_mailbox(processed_folder="Ärende klart")
    deliver(box, corpus("outlook_cp1252.eml"))
    assert mailbox_poll(mailbox=box).processed == 1
    assert server_flags(box) == {}  # moved out of INBOX
    box.folder = "Ärende klart"
    assert len(server_flags(box)) == 1


def test_reply_threads_by_plus_address_and_trims_history(mailbox, world):
    deliver(mailbox, corpus("outlook_cp1252.eml"))
    mailbox_poll(mailbox=mailbox)
    ticket = Ticket.objects.get()

    deliver(mailbox, corpus("outlook_reply_plus.eml", REFERENCE=ticket.reference))
    result = mailbox_poll(mailbox=mailbox)

    assert result.processed == 1
    assert Ticket.objects.count() == 1
    reply = TicketActivity.objects.filter(ticket=ticket, kind="reply").get()
    assert reply.channel == "email"
    assert reply.actor == world["requester"]  # matched case-insensitively
    assert reply.body == "Hej igen,\n\nnu skriver den ut men bara i svartvitt.\n\n/Åsa"


def test_reply_threads_by_in_reply_to_of_our_mail(mailbox, world):
    """The requester answers our mail from another address (a private Gmail): In-Reply-To
    finds the ticket, but a stranger to the ticket starts a new, linked one."""
    deliver(mailbox, corpus("outlook_cp1252.eml"))
    mailbox_poll(mailbox=mailbox)
    ticket = Ticket.objects.get()
    receipt = OutboundMessage.objects.get(ticket=ticket, kind="receipt")
    assert receipt.reply_to == f"servicedesk+{ticket.reference}@it.example"
    assert (
        receipt.in_reply_to == "<DB9PR04MB8411A1B2C3D4E5F6@DB9PR04MB8411.eurprd04.prod.outlook.com>"
    )

    ticket_services.ticket_set_watching(
        actor=None, ticket=ticket, user=world["agent"], watching=True
    )
    raw = corpus(
        "gmail_reply_utf8.eml", OUTBOUND_ID=receipt.message_id.strip("<>"), REFERENCE="2026-999999"
    )
    deliver(mailbox, raw)
    mailbox_poll(mailbox=mailbox)
    assert Ticket.objects.count() == 2
    new = Ticket.objects.exclude(pk=ticket.pk).get()
    assert new.contact_email == "jonas.ek.privat@gmail.example"
    assert TicketLink.objects.filter(source=new, target=ticket, kind="related").exists()


def test_reply_by_subject_reference_from_the_contact(mailbox, world):
    deliver(mailbox, corpus("apple_mail_attachment.eml"))
    mailbox_poll(mailbox=mailbox)
    ticket = Ticket.objects.get()
    reply = (
        "From: borje.nystrom@vargarda.example\r\nTo: servicedesk@it.example\r\n"
        f"Subject: Sv: [{ticket.reference}] Vi har tagit emot ditt =?utf-8?q?=C3=A4rende?=\r\n"
        "Message-ID: <svar-1@vargarda.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Den går att öppna nu.\r\n\r\n> Hej Börje,\r\n> vi har tagit emot\r\n"
    ).encode()
    deliver(mailbox, reply)
    mailbox_poll(mailbox=mailbox)
    assert Ticket.objects.count() == 1
    body = TicketActivity.objects.filter(ticket=ticket, kind="reply").get().body
    assert body == "Den går att öppna nu."


def test_reply_to_a_closed_ticket_opens_a_new_one(mailbox, world):
    deliver(mailbox, corpus("outlook_cp1252.eml"))
    mailbox_poll(mailbox=mailbox)
    ticket = Ticket.objects.get()
    ticket_services.ticket_cancel(actor=None, ticket=ticket, version=None, reason="Dubblett")
    deliver(mailbox, corpus("outlook_reply_plus.eml", REFERENCE=ticket.reference))
    mailbox_poll(mailbox=mailbox)
    assert Ticket.objects.count() == 2
    new = Ticket.objects.exclude(pk=ticket.pk).get()
    assert TicketLink.objects.filter(source=new, target=ticket).exists()


def test_rate_limit_quarantines_a_loop(make_mailbox, world):
    box = make_mailbox(rate_limit=3)
    loop = [
        (
            "From: robot@leverantor.example\r\nTo: servicedesk@it.example\r\n"
            f"Subject: Larm {n}\r\nMessage-ID: <larm-{n}@leverantor.example>\r\n\r\nLarm\r\n"
        ).encode()
        for n in range(5)
    ]
    deliver(box, *loop)
    result = mailbox_poll(mailbox=box)
    assert (result.processed, result.quarantined) == (3, 2)
    held = InboundMessage.objects.filter(state=State.QUARANTINED)
    assert set(held.values_list("reason", flat=True)) == {"rate_limit"}

    # Retrying by hand goes past the limit.
    retried = inbound_retry(actor=world["manager"], message=held.first())
    assert retried.state == State.PROCESSED and retried.ticket is not None


def test_size_limit_keeps_headers_only(make_mailbox, world):
    box = make_mailbox(max_message_bytes=2000)
    big = (
        "From: asa.oberg@herrljunga.example\r\nTo: servicedesk@it.example\r\n"
        "Subject: Stor fil\r\nMessage-ID: <stor-1@herrljunga.example>\r\n\r\n" + "x" * 5000 + "\r\n"
    ).encode()
    deliver(box, big)
    result = mailbox_poll(mailbox=box)
    assert result.quarantined == 1
    message = InboundMessage.objects.get()
    assert message.reason == "too_large"
    assert message.size > 5000 and len(bytes(message.raw)) < 1000
    assert Ticket.objects.count() == 0


def test_assign_quarantined_message_to_ticket(mailbox, world):
    deliver(mailbox, corpus("outlook_cp1252.eml"), corpus("malformed_no_sender.eml"))
    mailbox_poll(mailbox=mailbox)
    ticket = Ticket.objects.get()
    bad = InboundMessage.objects.get(state=State.QUARANTINED)
    inbound_assign(actor=world["manager"], message=bad, ticket=ticket)
    bad.refresh_from_db()
    assert (bad.state, bad.ticket) == (State.PROCESSED, ticket)
    assert ticket.activities.filter(kind="reply", channel="email").exists()


def test_wrong_password_is_reported_not_raised(make_mailbox):
    box = make_mailbox(secret="wrong-password")
    result = mailbox_poll(mailbox=box)
    assert "refused" in result.error
    box.refresh_from_db()
    assert box.last_error and "wrong-password" not in box.last_error


def test_no_notification_for_imported_history(world):
    import datetime

    from django.utils import timezone

    ticket_services.ticket_create(
        actor=None,
        channel="email",
        title="Gammalt ärende",
        requester=world["requester"],
        created_at=timezone.now() - datetime.timedelta(days=400),
    )
    assert Notification.objects.count() == 0
    assert django_mail.outbox == []


def test_attachment_rows_are_public(mailbox, world):
    deliver(mailbox, corpus("apple_mail_attachment.eml"))
    mailbox_poll(mailbox=mailbox)
    assert Attachment.objects.filter(is_public=True).count() == 1
