"""Open tickets newest first (PostgreSQL): a partial index on (created_at, id) of open tickets.

The default order of every open queue, and of a search among open tickets, is newest first.
The plain created_at index holds all tickets, so finding the first page of open ones walks past
the closed ones (with a million tickets and 8 % open, about twelve entries per row shown, each
with a visit to the table); this index holds only the open ones.

Raw SQL rather than ``Meta.indexes``: the model file belongs to another part of the project.
It can move there later with ``SeparateDatabaseAndState`` (same name, same definition). Not on
SQLite, whose table rebuilds would silently drop an index that the model does not declare.
"""

from django.db import migrations

OPEN_STATUSES = (
    "('pending_approval', 'new', 'assigned', 'in_progress', 'waiting_requester', "
    "'waiting_supplier')"
)


def forward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS ticket_open_created ON servicedesk_ticket "
            f"(created_at, id) WHERE status IN {OPEN_STATUSES}",
            params=None,
        )


def backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS ticket_open_created", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("servicedesk", "0007_ticket_search_open"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
