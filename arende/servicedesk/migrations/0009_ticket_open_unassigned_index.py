"""Unassigned open tickets by line (PostgreSQL): the "unassigned, first line" queue's index.

Counting that queue combined two large bitmaps (200 000 tickets without an assignee, mostly
closed, and 54 000 open first-line ones); this partial index holds only the open unassigned
tickets, newest last, so the count and the first page read a few thousand small entries.
Raw SQL for the same reason as 0008.
"""

from django.db import migrations

OPEN_STATUSES = (
    "('pending_approval', 'new', 'assigned', 'in_progress', 'waiting_requester', "
    "'waiting_supplier')"
)


def forward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS ticket_open_unassigned ON servicedesk_ticket "
            f"(line, created_at, id) WHERE status IN {OPEN_STATUSES} AND assignee_id IS NULL",
            params=None,
        )


def backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS ticket_open_unassigned", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("servicedesk", "0008_ticket_open_created_index"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
