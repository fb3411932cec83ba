"""The mail app's jobs: poll the mailboxes every minute, build and send notifications."""

from __future__ import annotations

from huey.exceptions import TaskLockedException

from arende.core.jobs import HUEY, crontab, job, periodic_job


@periodic_job(crontab(minute="*"))
def poll_mailboxes() -> None:
    from arende.mail.models import Mailbox

    for pk in Mailbox.objects.filter(is_active=True).values_list("pk", flat=True):
        poll_mailbox(pk)


@job()
def poll_mailbox(mailbox_id: int) -> None:
    from arende.mail.models import Mailbox
    from arende.mail.services.intake import mailbox_poll

    mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).first()
    if mailbox is None:
        return
    try:
        # Two polls of one mailbox at once would be harmless (intake is idempotent), but wasteful.
        with HUEY.lock_task(f"mail-poll-{mailbox_id}"):
            mailbox_poll(mailbox=mailbox)
    except TaskLockedException:
        return


@job()
def send_notifications(batches: list[str]) -> None:
    from arende.mail.services.outbound import notifications_send

    for batch in batches:
        notifications_send(batch=batch)


@job(retries=6, retry_delay=120, context=True)
def send_outbound(message_id: int, task=None) -> None:
    from arende.mail.services.outbound import outbound_send

    outbound_send(message_id=message_id, final_attempt=task is None or not task.retries)
