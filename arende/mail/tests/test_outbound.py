"""Notifications: who hears of what, in which language, how often, and through real SMTP."""

from __future__ import annotations

import email
from email import policy

import pytest
from django.core import mail as django_mail

from arende.core.tests.factories import UserFactory
from arende.mail.models import Mailbox, Notification, NotificationTemplate, OutboundMessage
from arende.mail.rendering import TemplateRefused, check_template, render
from arende.mail.services.intake import mailbox_poll
from arende.mail.services.outbound import outbound_send
from arende.mail.services.settings import mailbox_save, notification_preferences_set
from arende.mail.tests.conftest import corpus, deliver
from arende.servicedesk.models import Ticket, TicketActivity
from arende.servicedesk.services import tickets as ticket_services
from arende.sla.signals import sla_alert

pytestmark = pytest.mark.django_db(transaction=True)


def _ticket(world, **fields) -> Ticket:
    values = {
        "actor": world["requester"],
        "channel": "portal",
        "title": "Skärmen är svart",
        "requester": world["requester"],
    }
    values.update(fields)
    return ticket_services.ticket_create(**values)


@pytest.fixture
def reply_box(world):
    return mailbox_save(
        actor=None,
        mailbox=Mailbox(),
        name="Servicedesk",
        address="servicedesk@it.example",
        host="127.0.0.1",
        port=993,
        username="servicedesk@it.example",
        organisation=world["herrljunga"],
        security=Mailbox.Security.TLS,
    )


def test_receipt_in_swedish_with_reply_to_into_the_ticket(world, reply_box):
    ticket = _ticket(world)
    (mail,) = django_mail.outbox
    assert mail.to == ["Åsa Öberg <asa.oberg@herrljunga.example>"]
    assert mail.subject == f"[{ticket.reference}] Vi har tagit emot ditt ärende: Skärmen är svart"
    assert mail.reply_to == [f"servicedesk+{ticket.reference}@it.example"]
    assert f"/portal/tickets/{ticket.reference}/" in mail.body
    assert mail.extra_headers["Auto-Submitted"] == "auto-generated"
    stored = OutboundMessage.objects.get()
    assert stored.state == "sent" and stored.message_id == mail.extra_headers["Message-ID"]


def test_recipient_language_english(world):
    world["requester"].language = "en"
    world["requester"].save()
    ticket = _ticket(world)
    assert django_mail.outbox[0].subject.startswith(f"[{ticket.reference}] We have received")


def test_public_reply_is_mailed_internal_note_is_not(world):
    ticket = _ticket(world)
    django_mail.outbox.clear()
    ticket_services.ticket_add_note(actor=world["agent"], ticket=ticket, body="Hemligt: lösenord")
    assert django_mail.outbox == []
    ticket_services.ticket_reply(actor=world["agent"], ticket=ticket, body="Starta om datorn.")
    (mail,) = django_mail.outbox
    assert "Starta om datorn." in mail.body
    assert "Hemligt" not in mail.body
    assert mail.to[0].endswith("<asa.oberg@herrljunga.example>")


def test_requester_reply_tells_the_assignee(world):
    ticket = _ticket(world, assignee=world["agent"], group=world["group"])
    django_mail.outbox.clear()
    ticket_services.ticket_reply(actor=world["requester"], ticket=ticket, body="Nu igen!")
    (mail,) = django_mail.outbox
    assert mail.to[0].endswith("<agent@it.example>")
    assert "Nu igen!" in mail.body
    assert mail.reply_to == []  # staff mail: no reply-into-ticket address


def test_resolved_carries_the_rating_link(world):
    ticket = _ticket(world)
    django_mail.outbox.clear()
    ticket_services.ticket_resolve(
        actor=world["agent"], ticket=ticket, version=None, resolution="Bytte kabel."
    )
    (mail,) = django_mail.outbox
    assert "Ditt ärende är löst" in mail.subject
    assert "Bytte kabel." in mail.body
    assert "/portal/rate/" in mail.body
    from arende.servicedesk.rating import ticket_from_rating_token

    token = mail.body.split("/portal/rate/")[1].split("/")[0]
    assert ticket_from_rating_token(token) == ticket


def test_assign_and_escalate_notify_staff_not_the_actor(world):
    ticket = _ticket(world, group=world["group"])
    django_mail.outbox.clear()
    ticket_services.ticket_assign(
        actor=world["agent"], ticket=ticket, version=None, assignee=world["agent"]
    )
    assert django_mail.outbox == []  # nobody is told of their own action
    ticket_services.ticket_escalate(
        actor=world["agent"], ticket=ticket, version=None, group=world["second"], reason="Nätverk"
    )
    (mail,) = django_mail.outbox
    assert mail.to[0].endswith("<chef@it.example>")
    assert "Eskalerat till Drift" in mail.subject and "Nätverk" in mail.body


def test_preferences_turn_a_kind_off(world):
    notification_preferences_set(user=world["manager"], enabled={"escalated": False})
    ticket = _ticket(world, group=world["group"])
    django_mail.outbox.clear()
    ticket_services.ticket_escalate(
        actor=world["agent"], ticket=ticket, version=None, group=world["second"], reason="Nätverk"
    )
    assert django_mail.outbox == []


def test_bulk_action_sends_one_mail_per_recipient(world):
    other = UserFactory(organisation=world["herrljunga"], email="other@herrljunga.example")
    tickets = [_ticket(world, group=world["group"]) for _ in range(4)]
    tickets.append(_ticket(world, requester=other, actor=other, group=world["group"]))
    django_mail.outbox.clear()
    result = ticket_services.tickets_bulk_assign(
        actor=world["manager"],
        items=[(ticket, None) for ticket in tickets],
        group=world["group"],
        assignee=world["agent"],
    )
    assert len(result.changed) == 5
    (mail,) = django_mail.outbox
    assert mail.subject == "5 ärenden har ändrats"
    assert all(ticket.reference in mail.body for ticket in tickets)
    assert Notification.objects.filter(kind="assigned").count() == 5


def test_sla_alert_reaches_the_recipients(world):
    ticket = _ticket(world)
    django_mail.outbox.clear()
    from django.db import transaction
    from django.utils import timezone

    with transaction.atomic():
        sla_alert.send(
            sender=Ticket,
            ticket=ticket,
            metric="resolution",
            metric_label="Lösningstid",
            level="warning",
            deadline=timezone.now(),
            recipients=[world["agent"], world["manager"], world["agent"]],
        )
    assert sorted(m.to[0].split("<")[1].rstrip(">") for m in django_mail.outbox) == [
        "agent@it.example",
        "chef@it.example",
    ]
    assert "Lösningstid" in django_mail.outbox[0].body


def test_no_mail_when_the_transaction_rolls_back(world):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        _ticket(world)
        raise RuntimeError("abort")
    assert django_mail.outbox == []
    assert Notification.objects.count() == 0


def test_admin_edited_template_is_used_and_sandboxed(world):
    NotificationTemplate.objects.filter(kind="receipt", language="sv").update(
        subject="Kvitto {{ reference }}", body="Hej {{ recipient_name|upper }}! {{ secret }}"
    )
    ticket = _ticket(world)
    (mail,) = django_mail.outbox
    assert mail.subject == f"Kvitto {ticket.reference}"
    assert mail.body.strip() == "Hej ÅSA ÖBERG!"

    for bad in ("{% load static %}", "{% include 'base.html' %}", "{% debug %}", "{% if %}"):
        with pytest.raises(TemplateRefused):
            check_template(bad)
    # Only plain values reach a template: no model, no method.
    assert render("{{ ticket.requester.password }}", {"ticket": ticket}) == ""


def test_broken_admin_template_falls_back_to_default(world):
    NotificationTemplate.objects.filter(kind="receipt", language="sv").update(
        subject="{% if %}", body="x"
    )
    _ticket(world)
    assert "Vi har tagit emot ditt ärende" in django_mail.outbox[0].subject


def test_real_smtp_with_a_retry(world, reply_box, smtp):
    smtp.fail_next = 1
    ticket = _ticket(world)
    stored = OutboundMessage.objects.get(ticket=ticket)
    assert stored.state == "queued" and stored.attempts == 1 and "451" in stored.last_error
    outbound_send(message_id=stored.pk)  # what the job queue's retry does
    stored.refresh_from_db()
    assert stored.state == "sent" and stored.attempts == 2
    (envelope,) = smtp.messages
    assert envelope.rcpt_tos == ["asa.oberg@herrljunga.example"]
    parsed = email.message_from_bytes(envelope.content, policy=policy.default)
    assert parsed["Reply-To"] == f"servicedesk+{ticket.reference}@it.example"
    assert parsed["Message-ID"] == stored.message_id
    assert "ärende" in parsed.get_content()
    outbound_send(message_id=stored.pk)  # sent once only
    assert len(smtp.messages) == 1


def test_a_reply_to_our_mail_comes_back_into_the_ticket(make_mailbox, world, smtp):
    """Round trip: our receipt over SMTP, the requester answers it, Dovecot, the same ticket."""
    box = make_mailbox()
    deliver(box, corpus("outlook_cp1252.eml"))
    mailbox_poll(mailbox=box)
    ticket = Ticket.objects.get()
    (envelope,) = smtp.messages
    ours = email.message_from_bytes(envelope.content, policy=policy.default)
    answer = (
        f"From: asa.oberg@herrljunga.example\r\nTo: {ours['Reply-To']}\r\n"
        f"Subject: SV: {ours['Subject']}\r\nIn-Reply-To: {ours['Message-ID']}\r\n"
        f"References: {ours['Message-ID']}\r\nMessage-ID: <svar-42@herrljunga.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nTack! Den fungerar nu.\r\n\r\n"
        f"Den 24 nov. 2026 kl 09:15 skrev {ours['From']}:\r\n> {ours.get_content()[:40]}\r\n"
    ).encode()
    deliver(box, answer)
    mailbox_poll(mailbox=box)
    assert Ticket.objects.count() == 1
    reply = TicketActivity.objects.get(ticket=ticket, kind="reply")
    assert reply.body == "Tack! Den fungerar nu."
    assert reply.actor == world["requester"]


def test_replayed_history_is_not_notified(world):
    from arende.mail.services.outbound import notifications_suppressed

    with notifications_suppressed():
        ticket = _ticket(world)
        ticket_services.ticket_resolve(
            actor=world["agent"], ticket=ticket, version=None, resolution="Klart."
        )
    assert django_mail.outbox == []
    _ticket(world)
    assert len(django_mail.outbox) == 1
