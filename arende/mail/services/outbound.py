"""Outbound mail: notifications collected per transaction, one mail per recipient, sent by jobs.

``notification_add`` writes a ``Notification`` row inside the caller's transaction (so a
rollback takes it away) under the transaction's batch id, and schedules one job per batch on
commit. ``notifications_send`` (the job's body) renders at most one mail per recipient of the
batch (a digest when there are several), stores it as an ``OutboundMessage`` and queues its
sending; ``outbound_send`` sends one mail over SMTP and is retried by the job queue.

Requester mails are answerable: Reply-To is the mailbox's plus-address for the ticket, the
subject carries the reference, and the Message-ID is stored so that In-Reply-To finds it.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from arende.core.models import User
from arende.mail.models import (
    InboundMessage,
    Mailbox,
    Notification,
    NotificationPreference,
    OutboundMessage,
)
from arende.mail.rendering import render_notification
from arende.servicedesk.models import Ticket, TicketActivity

logger = logging.getLogger(__name__)
Kind = Notification.Kind
REQUESTER_KINDS = (Kind.RECEIPT, Kind.REPLY, Kind.RESOLVED)
_local = threading.local()
SLA_LEVELS = {
    "warning": gettext_lazy("warning"),
    "critical": gettext_lazy("critical"),
    "breached": gettext_lazy("breached"),
}


def site_url() -> str:
    return settings.SITE_URL.rstrip("/") or "http://localhost:8000"


# Collecting ------------------------------------------------------------------------------------


def _flush_on_commit(batches: list[uuid.UUID]) -> None:
    from arende.mail.jobs import send_notifications

    send_notifications([str(batch) for batch in batches])


class _Pending:
    """The notification batches of the running transaction and its one on-commit callback."""

    def __init__(self) -> None:
        self.batch = uuid.uuid4()
        self.batches = [self.batch]

        def callback() -> None:
            if getattr(_local, "pending", None) is self:
                _local.pending = None
            _flush_on_commit(self.batches)

        self.callback = callback


def _pending() -> _Pending | None:
    """The pending batches while their on-commit callback waits; after the commit (callback
    run) or a rollback (callback dropped) the next notification starts afresh."""
    pending = getattr(_local, "pending", None)
    if pending is None:
        return None
    connection = transaction.get_connection()
    if any(entry[1] is pending.callback for entry in connection.run_on_commit):
        return pending
    return None


def _current_batch() -> uuid.UUID:
    """The batch id for the running transaction: one mail per recipient per batch."""
    pending = _pending()
    if pending is None:
        pending = _local.pending = _Pending()
        transaction.on_commit(pending.callback)
    return pending.batch


def notification_batch_split() -> None:
    """Start a new batch within the running transaction (intake: one per incoming message, so
    that two mails from one person in one poll get two receipts, each answerable)."""
    pending = _pending()
    if pending is not None:
        pending.batch = uuid.uuid4()
        pending.batches.append(pending.batch)


@contextmanager
def notifications_suppressed() -> Iterator[None]:
    """Tell no one of what happens inside (replaying demo history through the services)."""
    previous = getattr(_local, "suppressed", False)
    _local.suppressed = True
    try:
        yield
    finally:
        _local.suppressed = previous


@contextmanager
def notifications_deferred() -> Iterator[None]:
    """Inside, notification rows are kept in hand and written in one statement as the block
    ends without an error (on an error they are dropped: the caller's transaction is rolled
    back). For a block that is all or nothing, e.g. a poll's batch; nothing inside may read
    the rows back."""
    previous = getattr(_local, "deferred", None)
    _local.deferred = []
    try:
        yield
        Notification.objects.bulk_create(_local.deferred)
    finally:
        _local.deferred = previous


def wants(user: User | None, kind: str) -> bool:
    if user is None or kind not in Notification.STAFF_KINDS:
        return True  # preferences are for staff notifications
    return not NotificationPreference.objects.filter(user=user, kind=kind, enabled=False).exists()


def notification_add(
    *,
    kind: str,
    ticket: Ticket,
    user: User | None = None,
    email: str = "",
    name: str = "",
    activity: TicketActivity | None = None,
    data: dict[str, Any] | None = None,
) -> Notification | None:
    """Note that ``user`` (or the contact at ``email``) should hear of this; sent after commit."""
    if getattr(_local, "suppressed", False):
        return None
    if user is not None:
        if not user.is_active:
            return None
        email, name = user.email, user.get_full_name()
    if not email or not wants(user, kind):
        return None
    if not transaction.get_connection().in_atomic_block:
        with transaction.atomic():  # so that the row exists before the on-commit job runs
            return notification_add(
                kind=kind, ticket=ticket, user=user, email=email, name=name,
                activity=activity, data=data,
            )  # fmt: skip
    note = Notification(
        batch=_current_batch(),
        kind=kind,
        recipient=user,
        email=email.strip(),
        name=name[:200],
        language=(user.language if user else "") or "sv",
        ticket=ticket,
        activity=activity,
        data=data or {},
    )
    deferred = getattr(_local, "deferred", None)
    if deferred is not None:
        deferred.append(note)  # written with the others at the end of the block
    else:
        note.save()
    return note


def _requester(ticket: Ticket) -> tuple[User | None, str, str]:
    if ticket.requester_id:
        return ticket.requester, ticket.requester.email, ticket.requester.get_full_name()
    return None, ticket.contact_email, ticket.contact_name


def _is_staff(user: User | None, ticket: Ticket) -> bool:
    return bool(user and user.has_perm("servicedesk.work_ticket", ticket))


def notify_ticket_changed(
    *, ticket: Ticket, verb: str, actor: User | None, activity: TicketActivity | None
) -> None:
    """Decide who hears of a ticket write (called by the ``ticket_changed`` receiver)."""
    requester, requester_email, requester_name = _requester(ticket)

    def to_requester(kind: str) -> None:
        notification_add(
            kind=kind,
            ticket=ticket,
            user=requester,
            email=requester_email,
            name=requester_name,
            activity=activity,
        )

    def to_staff(kind: str, user: User | None) -> None:
        if user is not None and (actor is None or user.pk != actor.pk):
            notification_add(kind=kind, ticket=ticket, user=user, activity=activity)

    if verb == "create":
        to_requester(Kind.RECEIPT)
        if ticket.assignee_id:
            to_staff(Kind.ASSIGNED, ticket.assignee)
    elif verb == "reply" and activity is not None and activity.is_public:
        if _is_staff(actor, ticket):
            to_requester(Kind.REPLY)
        else:
            to_staff(Kind.REQUESTER_REPLIED, ticket.assignee)
    elif verb == "reopen" and not _is_staff(actor, ticket):
        to_staff(Kind.REQUESTER_REPLIED, ticket.assignee)
    elif verb == "resolve":
        to_requester(Kind.RESOLVED)
    elif verb == "assign":
        to_staff(Kind.ASSIGNED, ticket.assignee)
    elif verb == "escalate":
        if ticket.assignee_id:
            to_staff(Kind.ESCALATED, ticket.assignee)
        elif ticket.group_id:
            for member in ticket.group.members.filter(is_active=True):
                to_staff(Kind.ESCALATED, member)
    # Internal notes and every other write: no mail, and never to the requester.


def notify_sla_alert(
    *, ticket: Ticket, metric_label: str, level: str, deadline: Any, recipients: list[User]
) -> None:
    data = {
        "sla_metric": str(metric_label),
        "sla_level": level,
        "sla_deadline": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M") if deadline else "",
    }
    seen: set[int] = set()
    for user in recipients:
        if user.pk not in seen:
            seen.add(user.pk)
            notification_add(kind=Kind.SLA, ticket=ticket, user=user, data=data)


def notify_action_overdue(*, action: Any) -> OutboundMessage | None:
    """A reminder to the owner of a follow-up action past its due date, in their language.

    Not a ticket's notification (no batch, digest or preference: an overdue action of the
    incident process is not something its owner may switch off); sent after the commit."""
    from arende.mail.jobs import send_outbound

    owner = action.owner
    if not owner.is_active or not owner.email:
        return None
    incident = action.review.incident
    language = owner.language or "sv"
    name = owner.get_full_name() or owner.email
    with translation.override(language):
        subject, body = render_notification(
            Kind.ACTION_OVERDUE,
            language,
            {
                "recipient_name": name,
                "reference": incident.reference,
                "title": incident.title,
                "action": action.description,
                "due_date": action.due_date.isoformat(),
                "incident_url": site_url()
                + reverse("operations:incident_detail", args=[incident.pk])
                + "#review",
            },
        )
    sender = settings.DEFAULT_FROM_EMAIL
    message = OutboundMessage.objects.create(
        message_id=make_msgid(idstring="arende", domain=sender.rpartition("@")[2] or "localhost"),
        kind=Kind.ACTION_OVERDUE,
        to=_address(name, owner.email),
        from_address=sender,
        subject=subject,
        body=body,
    )
    transaction.on_commit(lambda: send_outbound(message.pk))
    return message


# Rendering -------------------------------------------------------------------------------------


def mailbox_for(ticket: Ticket) -> Mailbox | None:
    """The mailbox replies should go to: the one the ticket came in by, else its organisation's."""
    via = (
        InboundMessage.objects.filter(ticket=ticket)
        .order_by("pk")
        .values_list("mailbox_id", flat=True)
        .first()
    )
    boxes = Mailbox.objects.filter(is_active=True)
    return (
        (boxes.filter(pk=via).first() if via else None)
        or boxes.filter(organisation_id=ticket.organisation_id).order_by("pk").first()
        or boxes.order_by("pk").first()
    )


def _ticket_url(ticket: Ticket, *, staff: bool) -> str:
    name = "servicedesk:ticket" if staff else "servicedesk:portal_ticket"
    return site_url() + reverse(name, kwargs={"reference": ticket.reference})


def _context(note: Notification) -> dict[str, Any]:
    from arende.servicedesk.rating import rating_url
    from arende.servicedesk.services.tickets import RULES

    ticket = note.ticket
    activity = note.activity
    staff = note.kind in Notification.STAFF_KINDS
    author = ""
    if activity is not None:
        author = (
            activity.actor.get_full_name()
            if activity.actor_id
            else (ticket.contact_name or ticket.contact_email)
        )
    context = {
        "recipient_name": note.name or note.email,
        "reference": ticket.reference,
        "title": ticket.title,
        "status": ticket.get_status_display(),
        "priority": ticket.get_priority_display(),
        "requester": ticket.requester_label,
        "group": str(ticket.group) if ticket.group_id else "",
        "actor": activity.actor.get_full_name() if activity and activity.actor_id else "",
        "author": author or _("The service desk"),
        "message": activity.body if activity is not None and (activity.is_public or staff) else "",
        "resolution": ticket.resolution,
        "ticket_url": _ticket_url(ticket, staff=staff),
        "rating_url": rating_url(ticket, base_url=site_url()) if note.kind == Kind.RESOLVED else "",
        "reopen_days": RULES.reopen_days,
    }
    context.update({key: str(value) for key, value in note.data.items()})
    if "sla_level" in note.data:
        context["sla_level"] = str(SLA_LEVELS.get(note.data["sla_level"], note.data["sla_level"]))
    return context


# How a digest line says what happened, to the person it is for (the kinds' own labels name
# the recipient, for the administration and the preferences page).
DIGEST_WHAT = {
    Kind.RECEIPT: gettext_lazy("We have received your ticket."),
    Kind.REPLY: gettext_lazy("The service desk has replied."),
    Kind.RESOLVED: gettext_lazy("The ticket is resolved."),
    Kind.ASSIGNED: gettext_lazy("Assigned to you."),
    Kind.ESCALATED: gettext_lazy("Escalated to your group."),
    Kind.REQUESTER_REPLIED: gettext_lazy("The requester has replied."),
    Kind.SLA: gettext_lazy("SLA warning."),
}


def _what(note: Notification) -> str:
    return str(DIGEST_WHAT.get(note.kind) or Notification.Kind(note.kind).label)


def _thread_parent(ticket: Ticket) -> str:
    """The Message-ID a mail about this ticket answers: the requester's own first mail."""
    return (
        InboundMessage.objects.filter(ticket=ticket, state=InboundMessage.State.PROCESSED)
        .exclude(message_id="")
        .order_by("pk")
        .values_list("message_id", flat=True)
        .first()
        or ""
    )


def notifications_send(*, batch: str) -> list[OutboundMessage]:
    """Turn a committed batch into one mail per recipient and queue them for sending."""
    from arende.mail.jobs import send_outbound

    notes = list(
        Notification.objects.filter(batch=batch, outbound__isnull=True)
        .select_related(
            "ticket", "ticket__requester", "ticket__group", "activity", "activity__actor"
        )
        .order_by("pk")
    )
    by_recipient: dict[str, list[Notification]] = defaultdict(list)
    for note in notes:
        by_recipient[note.email.lower()].append(note)
    created = []
    for recipient_notes in by_recipient.values():
        outbound = _compose(recipient_notes)
        Notification.objects.filter(pk__in=[n.pk for n in recipient_notes]).update(
            outbound=outbound
        )
        created.append(outbound)
    for outbound in created:
        send_outbound(outbound.pk)
    return created


def _address(name: str, address: str) -> str:
    """``Name <address>``, unencoded: Django encodes non-ASCII names when it sends."""
    clean = re.sub(r'[<>",;\r\n]', "", name).strip()
    return f"{clean} <{address}>" if clean else address


def _compose(notes: list[Notification]) -> OutboundMessage:
    first = notes[0]
    tickets = {note.ticket_id for note in notes}
    language = first.language or "sv"
    with translation.override(language):
        if len(notes) == 1 or (len(tickets) == 1 and len({n.kind for n in notes}) == 1):
            kind = first.kind
            subject, body = render_notification(kind, language, _context(first))
            ticket = first.ticket
        else:
            kind = Kind.DIGEST
            items = []
            for note in notes:
                # What the single mail would have said, so that a digest loses nothing: the
                # message or resolution, and the rating link of a resolved ticket.
                context = _context(note)
                text = context["resolution"] if note.kind == Kind.RESOLVED else context["message"]
                items.append(
                    {
                        "reference": note.ticket.reference,
                        "title": note.ticket.title,
                        "what": _what(note),
                        "text": text,
                        "rating_url": context["rating_url"],
                        "url": context["ticket_url"],
                    }
                )
            subject, body = render_notification(
                kind,
                language,
                {
                    "recipient_name": first.name or first.email,
                    "count": len(tickets),
                    "items": items,
                },
            )
            ticket = first.ticket if len(tickets) == 1 else None
    mailbox = mailbox_for(ticket) if ticket is not None else None
    sender = mailbox.address if mailbox else settings.DEFAULT_FROM_EMAIL
    reply_to = ""
    in_reply_to = ""
    if ticket is not None and kind not in Notification.STAFF_KINDS and mailbox is not None:
        reply_to = mailbox.plus_address(ticket.reference)
    if ticket is not None and kind in REQUESTER_KINDS:
        in_reply_to = _thread_parent(ticket)
    domain = sender.rpartition("@")[2] or "localhost"
    return OutboundMessage.objects.create(
        message_id=make_msgid(idstring="arende", domain=domain),
        ticket=ticket,
        kind=kind,
        to=_address(first.name, first.email),
        reply_to=reply_to,
        from_address=sender,
        in_reply_to=in_reply_to,
        subject=subject,
        body=body,
    )


# Sending ---------------------------------------------------------------------------------------


class SendFailed(Exception):
    """SMTP refused or did not answer; the job queue tries again."""


def outbound_send(*, message_id: int, final_attempt: bool = False) -> OutboundMessage:
    """Send one stored mail once. Raises ``SendFailed`` (for a retry) when SMTP fails."""
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update().get(pk=message_id)
        if message.state == OutboundMessage.State.SENT:
            return message
        message.attempts += 1
        message.save(update_fields=["attempts"])
    headers = {"Message-ID": message.message_id, "Auto-Submitted": "auto-generated"}
    headers["X-Auto-Response-Suppress"] = "All"
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
        headers["References"] = message.in_reply_to
    mail = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=message.from_address,
        to=[message.to],
        reply_to=[message.reply_to] if message.reply_to else None,
        headers=headers,
        connection=get_connection(fail_silently=False),
    )
    try:
        mail.send(fail_silently=False)
    except Exception as error:
        text = f"{type(error).__name__}: {error}"[:2000]
        OutboundMessage.objects.filter(pk=message.pk).update(
            last_error=text,
            state=OutboundMessage.State.FAILED if final_attempt else OutboundMessage.State.QUEUED,
        )
        logger.warning("Mail %s to %s not sent: %s", message.pk, message.to, text)
        raise SendFailed(text) from error
    OutboundMessage.objects.filter(pk=message.pk).update(
        state=OutboundMessage.State.SENT, sent_at=timezone.now(), last_error=""
    )
    message.refresh_from_db()
    return message
