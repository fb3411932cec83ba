"""Intake: from a mailbox to tickets, with nothing lost and nothing doubled.

1. ``inbound_store`` (a poll: ``inbound_store_many``, per batch) keeps the raw bytes first,
   in a transaction of its own. Two unique constraints (server position; hash of the
   Message-ID) make a second fetch, or a second poller, find the row instead of making another.
2. ``inbound_process`` locks the row and, in one transaction, turns it into a new ticket or a
   reply on its ticket (or records why not: ignored, quarantined). A poll does a batch in one
   transaction (``_process_stored``): first all or nothing, then, if a message failed, again
   with a savepoint per message.
3. Only after that commit does ``mailbox_poll`` flag or move the message on the server.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from arende.core.audit import audit_record
from arende.core.errors import ValidationFailed
from arende.core.models import User
from arende.mail.imap import ImapSession, MailboxError
from arende.mail.models import InboundMessage, Mailbox, OutboundMessage
from arende.mail.parsing import (
    ParsedMessage,
    ParseFailure,
    message_key,
    parse_message,
    quick_headers,
)
from arende.mail.quotes import trim_quoted
from arende.mail.services.outbound import notification_batch_split, notifications_deferred
from arende.servicedesk.models import Ticket, TicketLink
from arende.servicedesk.services import tickets as ticket_services

logger = logging.getLogger(__name__)
State = InboundMessage.State
RATE_WINDOW = datetime.timedelta(minutes=10)
# A batch is one transaction, which holds the year's ticket counter from its first new ticket
# to its commit: 50 messages are about half a second.
FETCH_BATCH = 50


@dataclass
class PollResult:
    fetched: int = 0
    processed: int = 0
    ignored: int = 0
    quarantined: int = 0
    duplicates: int = 0
    error: str = ""


@dataclass
class BatchLookups:
    """What a poll looks up once per batch instead of once per message: the users by
    address, and how many messages each sender sent in the rate-limit window before it."""

    users: dict[str, User | None]
    earlier: dict[str, int]
    # Rows processed but not yet written back (written together at the batch's end).
    unsaved: list[InboundMessage] = field(default_factory=list)

    def save_unsaved(self) -> None:
        """Write back the batch's processed rows now: a message that answers one earlier in
        the batch finds its ticket by the earlier row's Message-ID."""
        _save_processed(self.unsaved)
        self.unsaved.clear()

    @classmethod
    def for_messages(cls, messages: list[InboundMessage]) -> BatchLookups:
        addresses = sorted({m.from_address for m in messages if m.from_address})
        users: dict[str, User | None] = dict.fromkeys(addresses)
        for user in (
            User.objects.annotate(address=Lower("email"))
            .filter(address__in=addresses, is_active=True)
            .select_related("organisation", "department")
        ):
            users[user.address] = user
        earlier: dict[str, int] = {}
        if messages:
            first = min(m.pk for m in messages)
            rows = (
                InboundMessage.objects.filter(
                    from_address__in=addresses,
                    received_at__gte=timezone.now() - RATE_WINDOW,
                    pk__lt=first,
                )
                .values("from_address")
                .annotate(count=Count("id"))
                .order_by()
            )
            earlier = {row["from_address"]: row["count"] for row in rows}
        return cls(users=users, earlier=earlier)

    def user(self, address: str) -> User | None:
        if address not in self.users:
            self.users[address] = _sender_user(address)
        return self.users[address]

    def count_and_add(self, message: InboundMessage, address: str) -> int:
        """Messages from ``address`` before this one (in batch order); then count this one."""
        if address not in self.earlier and address != message.from_address:
            self.earlier[address] = _earlier_from(message, address)
        seen = self.earlier.get(address, 0)
        self.earlier[address] = seen + 1
        return seen


# Storing ---------------------------------------------------------------------------------------


def inbound_store(
    *,
    mailbox: Mailbox,
    uidvalidity: int,
    uid: int,
    raw: bytes,
    too_large_size: int | None = None,
) -> tuple[InboundMessage | None, bool]:
    """Keep the raw message. Returns ``(message, created)``; ``(None, False)`` when the same
    message (same Message-ID) is already kept from another mailbox or position."""
    existing = InboundMessage.objects.filter(
        mailbox=mailbox, uidvalidity=uidvalidity, uid=uid
    ).first()
    if existing is not None:
        return existing, False
    message_id, from_address, subject = quick_headers(raw)
    key = message_key(message_id, raw)
    row = InboundMessage(
        mailbox=mailbox,
        organisation_id=mailbox.organisation_id,
        uidvalidity=uidvalidity,
        uid=uid,
        message_id=message_id[:998],
        message_key=key,
        sha256=hashlib.sha256(raw).hexdigest(),
        raw=raw,
        size=too_large_size or len(raw),
        from_address=from_address,
        subject=subject,
    )
    if too_large_size is not None:
        row.state = State.QUARANTINED
        row.reason = "too_large"
        row.error = (
            f"The message is {too_large_size:,} bytes; this mailbox takes at most "
            f"{mailbox.max_message_bytes:,}. Only its headers were fetched."
        )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        same_position = InboundMessage.objects.filter(
            mailbox=mailbox, uidvalidity=uidvalidity, uid=uid
        ).first()
        if same_position is not None:
            return same_position, False
        return None, False
    return row, True


def inbound_store_many(
    *, mailbox: Mailbox, uidvalidity: int, items: list[tuple[int, bytes, int | None]]
) -> dict[int, InboundMessage | None]:
    """``inbound_store`` for a batch of ``(uid, raw, too_large_size)`` in one transaction:
    UID -> the stored row, or None for a message already kept from elsewhere."""
    if not items:
        return {}
    rows = []
    for uid, raw, too_large in items:
        message_id, from_address, subject = quick_headers(raw)
        row = InboundMessage(
            mailbox=mailbox,
            organisation_id=mailbox.organisation_id,
            uidvalidity=uidvalidity,
            uid=uid,
            message_id=message_id[:998],
            message_key=message_key(message_id, raw),
            sha256=hashlib.sha256(raw).hexdigest(),
            raw=raw,
            size=too_large or len(raw),
            from_address=from_address,
            subject=subject,
        )
        if too_large is not None:
            row.state, row.reason = State.QUARANTINED, "too_large"
            row.error = (
                f"The message is {too_large:,} bytes; this mailbox takes at most "
                f"{mailbox.max_message_bytes:,}. Only its headers were fetched."
            )
        rows.append(row)
    with transaction.atomic():
        # Conflicts (the same position or the same Message-ID, from another poller or
        # mailbox) are skipped by the database; what was kept is read back below.
        InboundMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=100)
    uids = [uid for uid, _raw, _size in items]
    # Read back without the raw bytes (a row kept here or by another poller from this very
    # position has the bytes just fetched) and with the caller's mailbox.
    raws = {uid: raw for uid, raw, _size in items}
    stored = {}
    for row in InboundMessage.objects.filter(
        mailbox=mailbox, uidvalidity=uidvalidity, uid__in=uids
    ).defer("raw"):
        row.mailbox, row.raw = mailbox, raws[row.uid]
        stored[row.uid] = row
    return {uid: stored.get(uid) for uid in uids}


# Processing ------------------------------------------------------------------------------------


def _sender_user(address: str) -> User | None:
    return User.objects.filter(email__iexact=address, is_active=True).first()


def _follow_merges(ticket: Ticket | None) -> Ticket | None:
    seen: set[int] = set()
    while ticket is not None and ticket.merged_into_id and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = ticket.merged_into
    return ticket


def thread_ticket(parsed: ParsedMessage) -> Ticket | None:
    """The ticket a message belongs to: plus-address, then In-Reply-To/References, then the
    reference in the subject."""
    reference = parsed.plus_reference
    if reference:
        ticket = Ticket.objects.filter(reference=reference).first()
        if ticket is not None:
            return _follow_merges(ticket)
    ids = [*parsed.in_reply_to, *reversed(parsed.references)]
    if ids:
        sent = (
            OutboundMessage.objects.filter(message_id__in=ids, ticket__isnull=False)
            .values_list("ticket_id", flat=True)
            .first()
        )
        if sent is None:
            sent = (
                InboundMessage.objects.filter(message_id__in=ids, ticket__isnull=False)
                .values_list("ticket_id", flat=True)
                .first()
            )
        if sent is not None:
            return _follow_merges(Ticket.objects.filter(pk=sent).first())
    reference = parsed.subject_reference
    if reference:
        return _follow_merges(Ticket.objects.filter(reference=reference).first())
    return None


def _may_reply(ticket: Ticket, user: User | None, address: str) -> bool:
    """Only people who take part in a ticket add to it by mail; others start a new one."""
    if ticket.contact_email and ticket.contact_email.lower() == address:
        return True
    if user is None:
        return False
    if ticket.requester_id == user.pk or ticket.watchers.filter(pk=user.pk).exists():
        return True
    return user.has_perm("servicedesk.work_ticket", ticket)


def _attach(message: InboundMessage, ticket: Ticket, parsed: ParsedMessage) -> None:
    for attachment in parsed.attachments:
        upload = ContentFile(attachment.content, name=attachment.filename)
        try:
            with transaction.atomic():
                ticket_services.ticket_add_attachment(
                    actor=None, ticket=ticket, uploaded_file=upload, is_public=True
                )
        except ValidationFailed as error:
            message.notes.append(str(error.message))


def _earlier_from(message: InboundMessage, address: str) -> int:
    """Messages from ``address`` in the rate-limit window that came before this one (a batch
    is stored before any of it is processed)."""
    since = timezone.now() - RATE_WINDOW
    return InboundMessage.objects.filter(
        from_address=address, received_at__gte=since, pk__lt=message.pk
    ).count()


def _route(
    message: InboundMessage,
    parsed: ParsedMessage,
    *,
    force: bool,
    lookups: BatchLookups | None,
) -> None:
    message.from_address = parsed.from_address
    message.from_name = parsed.from_name
    message.subject = parsed.subject[:500]
    if parsed.automatic:
        message.state, message.reason = State.IGNORED, parsed.automatic
        return
    earlier = (
        lookups.count_and_add(message, parsed.from_address)
        if lookups is not None
        else _earlier_from(message, parsed.from_address)
    )
    if not force and earlier >= message.mailbox.rate_limit:
        message.state, message.reason = State.QUARANTINED, "rate_limit"
        message.error = (
            f"More than {message.mailbox.rate_limit} messages from {parsed.from_address} in "
            "10 minutes: held back as a possible mail loop."
        )
        return
    user = lookups.user(parsed.from_address) if lookups else _sender_user(parsed.from_address)
    mailbox = message.mailbox
    if lookups is not None and (parsed.in_reply_to or parsed.references):
        lookups.save_unsaved()
    ticket = thread_ticket(parsed)
    related = None
    if ticket is not None and not _may_reply(ticket, user, parsed.from_address):
        ticket, related = None, ticket
    if ticket is not None:
        body = trim_quoted(parsed.text) or _("(The message has no text.)")
        ticket_services.rows_flush()  # the reply may be to a ticket made earlier in the batch
        try:
            with transaction.atomic():
                ticket_services.ticket_reply(actor=user, ticket=ticket, body=body, channel="email")
        except ValidationFailed as error:
            message.notes.append(str(error.message))
            ticket, related = None, ticket  # closed, or resolved too long ago: a new ticket
    if ticket is None:
        organisation = (user.organisation if user else None) or mailbox.organisation
        ticket = ticket_services.ticket_create(
            actor=user,
            channel=Ticket.Channel.EMAIL,
            title=parsed.clean_subject or _("(no subject)"),
            description=parsed.text or _("(The message has no text.)"),
            requester=user,
            contact_email="" if user else parsed.from_address,
            contact_name="" if user else (parsed.from_name or parsed.from_address)[:200],
            organisation=organisation,
            department=user.department
            if user and user.organisation_id == organisation.pk
            else None,
            group=mailbox.default_group,
        )
        if related is not None:
            TicketLink.objects.get_or_create(
                source=ticket, target=related, kind=TicketLink.Kind.RELATED
            )
    _attach(message, ticket, parsed)
    message.ticket = ticket
    message.state, message.reason = State.PROCESSED, ""
    message.error = ""


def inbound_process(
    *, message: InboundMessage, force: bool = False, lookups: BatchLookups | None = None
) -> InboundMessage:
    """Turn a stored message into a ticket or a reply (or ignore or quarantine it). Runs once
    per message even with several pollers: the row is locked and its state checked.
    (No savepoint of its own: ``_process_locked`` gives ``_route`` one.)"""
    with transaction.atomic(savepoint=False):
        locked = (
            InboundMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("mailbox")
            .filter(pk=message.pk, state=State.RECEIVED)
            .first()
        )
        if locked is None:
            return InboundMessage.objects.get(pk=message.pk)
        _process_locked(locked, force=force, lookups=lookups)
    return locked


# What processing changes on the row (never the raw bytes: they are not written back).
PROCESSED_FIELDS = [
    "from_address",
    "from_name",
    "subject",
    "state",
    "reason",
    "error",
    "notes",
    "ticket",
    "processed_at",
    "version",
]


def _save_processed(rows: list[InboundMessage]) -> None:
    """Write processed rows back: on PostgreSQL in one UPDATE from a VALUES list (Django's
    ``bulk_update`` builds a CASE per field and row, which costs more than it saves)."""
    if connection.vendor != "postgresql" or len(rows) < 2:
        for row in rows:
            row.save(update_fields=PROCESSED_FIELDS)
        return
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    params: list[Any] = []
    for row in rows:
        params += [
            row.pk, row.from_address, row.from_name, row.subject, row.state, row.reason,
            row.error, json.dumps(row.notes), row.ticket_id, row.processed_at, row.version,
        ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mail_inboundmessage AS m SET from_address = v.from_address, "  # noqa: S608 - only placeholders are added
            "from_name = v.from_name, subject = v.subject, state = v.state, reason = v.reason, "
            "error = v.error, notes = v.notes::jsonb, ticket_id = v.ticket_id::bigint, "
            "processed_at = v.processed_at::timestamptz, version = v.version::integer "
            f"FROM (VALUES {values}) AS v(id, from_address, from_name, subject, state, reason, "
            "error, notes, ticket_id, processed_at, version) WHERE m.id = v.id::bigint",
            params,
        )


def _process_locked(
    locked: InboundMessage,
    *,
    force: bool,
    lookups: BatchLookups | None,
    isolated: bool = True,
    save: bool = True,
) -> InboundMessage:
    """``inbound_process`` for a row the caller has locked (and seen in state "received").

    ``isolated``: the message's writes get a savepoint of their own, and whatever goes wrong
    with it quarantines it alone. Without (a poll's first attempt at a batch, saving two
    statements per message), an error goes to the caller, who starts the batch over isolated.
    With ``save=False`` the caller writes the row back (``_save_processed``).
    """
    locked.notes = []
    notification_batch_split()
    try:
        parsed = parse_message(bytes(locked.raw))
    except ParseFailure as error:
        locked.state, locked.reason, locked.error = State.QUARANTINED, "unparseable", str(error)
    else:
        if not isolated:
            _route(locked, parsed, force=force, lookups=lookups)
        else:
            try:
                with transaction.atomic():
                    _route(locked, parsed, force=force, lookups=lookups)
            except Exception as error:
                # Whatever else goes wrong with one message must not stop the others (nor
                # come back at every poll): it waits in quarantine, raw, with the error.
                message_text = getattr(error, "message", None) or str(error)
                locked.state, locked.reason = State.QUARANTINED, "failed"
                locked.error = f"{type(error).__name__}: {message_text}"[:5000]
                logger.warning("Mail %s quarantined: %s", locked.pk, locked.error)
    locked.handled_here = True
    locked.processed_at = timezone.now()
    locked.version += 1
    if save:
        locked.save(update_fields=PROCESSED_FIELDS)
    if locked.state == State.QUARANTINED:
        audit_record(
            actor=None,
            action="update",
            obj=locked,
            verb="quarantine",
            changes={"state": [State.RECEIVED, locked.state], "reason": [None, locked.reason]},
            actor_label=_("E-mail intake"),
        )
    return locked


# Polling ---------------------------------------------------------------------------------------


def _process_batch(
    stored: dict[int, InboundMessage | None], *, isolated: bool
) -> dict[int, InboundMessage | None]:
    """``inbound_process`` for a batch, in one transaction, locking the batch's waiting rows
    with one query: those another poller holds, or has finished, are read back as they are."""
    waiting = [m for m in stored.values() if m is not None and m.state == State.RECEIVED]
    lookups = BatchLookups.for_messages(waiting)
    locked_ids = set(
        InboundMessage.objects.select_for_update(skip_locked=True)
        .filter(pk__in=[message.pk for message in waiting], state=State.RECEIVED)
        .values_list("pk", flat=True)
    )
    elsewhere = {
        row.pk: row
        for row in InboundMessage.objects.filter(
            pk__in=[message.pk for message in waiting if message.pk not in locked_ids]
        ).defer("raw")
    }
    processed: dict[int, InboundMessage | None] = {}
    for uid, message in stored.items():
        if message is None or message.state != State.RECEIVED:
            processed[uid] = message
        elif message.pk in locked_ids:
            # Locked in state "received": nothing changed it since it was read back above.
            # Isolated, each row is written at once: rows held back would be written inside
            # a later message's savepoint, and lost with it.
            processed[uid] = _process_locked(
                message, force=False, lookups=lookups, isolated=isolated, save=isolated
            )
            if not isolated:
                lookups.unsaved.append(message)
        else:
            processed[uid] = elsewhere.get(message.pk, message)
    lookups.save_unsaved()
    return processed


def _process_stored(
    mailbox: Mailbox, stored: dict[int, InboundMessage | None]
) -> dict[int, InboundMessage | None]:
    """Process a stored batch in one transaction: one commit and one notification job per
    batch instead of per message. First without a savepoint per message; if any message
    fails, that attempt is rolled back whole and the batch done again with one per message,
    so that the failure is quarantined alone."""
    waiting = [m.pk for m in stored.values() if m is not None and m.state == State.RECEIVED]
    try:
        with (
            transaction.atomic(),
            ticket_services.constant_lookups(),
            notifications_deferred(),
            ticket_services.reference_numbers_held(),
            ticket_services.rows_deferred(),
        ):
            return _process_batch(dict(stored), isolated=False)
    except Exception as error:
        logger.info("Mailbox %s: a batch starts over message by message (%r)", mailbox.pk, error)
    # The rows as they are now: the attempt changed the objects in hand, and was rolled back.
    again = InboundMessage.objects.filter(pk__in=waiting).defer("raw").in_bulk()
    for uid, message in list(stored.items()):
        if message is not None and message.pk in again:
            row = again[message.pk]
            row.mailbox, row.raw = mailbox, message.raw
            stored[uid] = row
    with transaction.atomic(), ticket_services.constant_lookups():
        return _process_batch(stored, isolated=True)


def mailbox_poll(*, mailbox: Mailbox, batch: int = FETCH_BATCH) -> PollResult:
    """Fetch the mailbox's new messages and make tickets of them; flag them when committed."""
    result = PollResult()
    # The mailbox as it is now, with what every message's ticket needs from it.
    mailbox = Mailbox.objects.select_related("organisation", "default_group").get(pk=mailbox.pk)
    try:
        with ImapSession(mailbox) as session:
            uidvalidity = session.select(mailbox.folder)
            if mailbox.processed_folder:
                session.ensure_folder(mailbox.processed_folder)
                session.select(mailbox.folder)
            uids = session.new_uids()
            for start in range(0, len(uids), batch):
                chunk = uids[start : start + batch]
                sizes = session.sizes(chunk)
                small = [uid for uid in chunk if sizes.get(uid, 0) <= mailbox.max_message_bytes]
                large = [uid for uid in chunk if uid not in small]
                done: list[int] = []
                items = [(item.uid, item.raw, None) for item in session.fetch(small)]
                items += [
                    (item.uid, item.raw, sizes[item.uid])
                    for item in session.fetch(large, headers_only=True)
                ]
                result.fetched += len(items)
                stored = inbound_store_many(mailbox=mailbox, uidvalidity=uidvalidity, items=items)
                processed = _process_stored(mailbox, stored)
                for uid, message in processed.items():
                    if message is None:
                        result.duplicates += 1
                        done.append(uid)
                    elif message.state == State.RECEIVED:
                        continue  # another poller holds it; it will flag it
                    else:
                        done.append(uid)
                        fresh_too_large = message.reason == "too_large" and not message.server_done
                        if not getattr(message, "handled_here", False) and not fresh_too_large:
                            result.duplicates += 1  # done earlier, or by another poller
                        elif message.state == State.PROCESSED:
                            result.processed += 1
                        elif message.state == State.IGNORED:
                            result.ignored += 1
                        else:
                            result.quarantined += 1
                session.mark_done(done)
                InboundMessage.objects.filter(
                    mailbox=mailbox, uidvalidity=uidvalidity, uid__in=done
                ).update(server_done=True)
    except MailboxError as error:
        result.error = str(error)
        logger.warning("Mailbox %s: %s", mailbox.pk, error)
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_polled_at=timezone.now(), last_error=result.error[:2000]
    )
    return result


def mailboxes_poll() -> dict[int, PollResult]:
    return {box.pk: mailbox_poll(mailbox=box) for box in Mailbox.objects.filter(is_active=True)}


# By hand (the quarantine page) -----------------------------------------------------------------


@transaction.atomic
def inbound_retry(*, actor: User, message: InboundMessage) -> InboundMessage:
    """Process a quarantined (or ignored) message again, past the rate limit."""
    locked = InboundMessage.objects.select_for_update().get(pk=message.pk)
    if locked.state not in (State.QUARANTINED, State.IGNORED):
        raise ValidationFailed(_("Only a quarantined or ignored message can be retried."))
    before = locked.state
    locked.state = State.RECEIVED
    locked.version += 1
    locked.save(update_fields=["state", "version"])
    audit_record(
        actor=actor,
        action="update",
        obj=locked,
        verb="retry",
        changes={"state": [before, "received"]},
    )
    return inbound_process(message=locked, force=True)


@transaction.atomic
def inbound_assign(*, actor: User, message: InboundMessage, ticket: Ticket) -> InboundMessage:
    """Add a quarantined message to a ticket by hand, as the sender's reply."""
    locked = (
        InboundMessage.objects.select_for_update(of=("self",))
        .select_related("mailbox")
        .get(pk=message.pk)
    )
    if locked.state not in (State.QUARANTINED, State.IGNORED):
        raise ValidationFailed(_("Only a quarantined or ignored message can be assigned."))
    if not actor.has_perm("servicedesk.work_ticket", ticket):
        raise ValidationFailed(_("No ticket with that reference."), field="reference")
    try:
        parsed = parse_message(bytes(locked.raw))
        body = trim_quoted(parsed.text)
        sender = _sender_user(parsed.from_address)
    except ParseFailure:
        parsed, sender = None, None
        body = bytes(locked.raw).decode("utf-8", errors="replace")[:20000]
    body = body or _("(The message has no text.)")
    if sender is None:
        heading = _("E-mail from %(sender)s:") % {"sender": locked.from_address or "?"}
        body = f"{heading}\n\n{body}"
    ticket_services.ticket_reply(actor=sender, ticket=ticket, body=body, channel="email")
    if parsed is not None:
        locked.notes = []
        _attach(locked, ticket, parsed)
    before = locked.state
    locked.state, locked.ticket, locked.processed_at = State.PROCESSED, ticket, timezone.now()
    locked.version += 1
    locked.save()
    audit_record(
        actor=actor,
        action="update",
        obj=locked,
        verb="assign",
        changes={"state": [before, locked.state], "ticket": [None, ticket.reference]},
    )
    return locked


@transaction.atomic
def inbound_dismiss(*, actor: User, message: InboundMessage) -> InboundMessage:
    """Mark a quarantined message as dealt with, without a ticket (spam, a loop)."""
    locked = InboundMessage.objects.select_for_update().get(pk=message.pk)
    if locked.state != State.QUARANTINED:
        raise ValidationFailed(_("Only a quarantined message can be dismissed."))
    locked.state, locked.reason = State.IGNORED, "dismissed"
    locked.version += 1
    locked.save(update_fields=["state", "reason", "version"])
    audit_record(
        actor=actor,
        action="update",
        obj=locked,
        verb="dismiss",
        changes={"state": [State.QUARANTINED, State.IGNORED]},
    )
    return locked
