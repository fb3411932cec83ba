"""The search index learns which tickets are open (PostgreSQL): see arende/servicedesk/search.py.

``servicedesk_ticketsearch`` gets ``is_open`` (the ticket's status is one of the open statuses,
the same list as ``OPEN_STATUS_VALUES`` and the queues) and a partial GIN index per document
over the open rows only. "Open tickets matching X" is then one lookup in a small index, however
many closed tickets carry the same words (with 1 000 000 tickets a broad prefix such as
"skriv:*" reads 166 000 entries in the full index, 13 000 in the open one).

The flag is kept by the same triggers as the documents, in the same transaction: the refresh
function sets it from the ticket's status, and the ticket update trigger sets it again when a
status changes (without re-reading the text). The flag is only ever used *together with* the
ticket's own status condition, so it can narrow the index lookup but never decide on its own
which tickets a queue holds.

SQLite needs nothing: its FTS5 index is small enough, and the queue's own status condition
applies as before. The SQL is frozen here on purpose (see 0004).
"""

import importlib

from django.db import migrations

OPEN_STATUSES = (
    "('pending_approval', 'new', 'assigned', 'in_progress', 'waiting_requester', "
    "'waiting_supplier')"
)
DESCRIPTION_CAP = 60000
COMMENTS_CAP = 120000
PUBLIC_COMMENT = "a.kind = 'reply' AND a.is_public"
INTERNAL_COMMENT = "a.kind IN ('reply', 'note') AND NOT (a.kind = 'reply' AND a.is_public)"

PG_FORWARD = [
    "ALTER TABLE servicedesk_ticketsearch ADD COLUMN is_open boolean NOT NULL DEFAULT false",
    f"""
    UPDATE servicedesk_ticketsearch s SET is_open = true
      FROM servicedesk_ticket t
     WHERE t.id = s.ticket_id AND t.status IN {OPEN_STATUSES}
    """,
    "CREATE INDEX servicedesk_ticketsearch_open_document_gin "
    "ON servicedesk_ticketsearch USING gin (document) WHERE is_open",
    "CREATE INDEX servicedesk_ticketsearch_open_internal_gin "
    "ON servicedesk_ticketsearch USING gin (document_internal) WHERE is_open",
    f"""
    CREATE OR REPLACE FUNCTION servicedesk_ticketsearch_refresh(ticket_ids bigint[]) RETURNS void
    LANGUAGE sql VOLATILE AS $body$
        -- See 0004: one refresh per ticket at a time, then a fresh snapshot.
        SELECT 1 FROM servicedesk_ticket
         WHERE id IN (SELECT unnest(ticket_ids)) ORDER BY id FOR NO KEY UPDATE;
        DELETE FROM servicedesk_ticketsearch
         WHERE ticket_id IN (SELECT unnest(ticket_ids))
           AND NOT EXISTS (SELECT 1 FROM servicedesk_ticket t WHERE t.id = ticket_id);
        INSERT INTO servicedesk_ticketsearch (ticket_id, document, document_internal, is_open)
        SELECT t.id, d.document, d.document || n.notes, t.status IN {OPEN_STATUSES}
          FROM servicedesk_ticket t
         CROSS JOIN LATERAL (
               SELECT setweight(to_tsvector('swedish', t.title), 'A')
                   || setweight(to_tsvector('swedish', left(t.description, {DESCRIPTION_CAP})), 'B')
                   || setweight(to_tsvector('swedish', left(coalesce((
                          SELECT string_agg(a.body, E'\\n' ORDER BY a.at, a.id)
                            FROM servicedesk_ticketactivity a
                           WHERE a.ticket_id = t.id AND {PUBLIC_COMMENT}
                      ), ''), {COMMENTS_CAP})), 'C') AS document
         ) d
         CROSS JOIN LATERAL (
               SELECT setweight(to_tsvector('swedish', left(coalesce((
                          SELECT string_agg(a.body, E'\\n' ORDER BY a.at, a.id)
                            FROM servicedesk_ticketactivity a
                           WHERE a.ticket_id = t.id AND {INTERNAL_COMMENT}
                      ), ''), {COMMENTS_CAP})), 'C') AS notes
         ) n
         WHERE t.id IN (SELECT unnest(ticket_ids))
        ON CONFLICT (ticket_id) DO UPDATE
           SET document = EXCLUDED.document, document_internal = EXCLUDED.document_internal,
               is_open = EXCLUDED.is_open;
    $body$
    """,
    f"""
    CREATE OR REPLACE FUNCTION servicedesk_ticketsearch_ticket_updated() RETURNS trigger
    LANGUAGE plpgsql AS $body$
    DECLARE
        changed bigint[];
    BEGIN
        changed := ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE n.title IS DISTINCT FROM o.title
                OR n.description IS DISTINCT FROM o.description
        );
        IF cardinality(changed) > 0 THEN
            PERFORM servicedesk_ticketsearch_refresh(changed);
        END IF;
        -- A status change moves the ticket in or out of the open index; the text stays.
        UPDATE servicedesk_ticketsearch s SET is_open = n.status IN {OPEN_STATUSES}
          FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE s.ticket_id = n.id
           AND n.status IS DISTINCT FROM o.status
           AND s.is_open IS DISTINCT FROM (n.status IN {OPEN_STATUSES});
        RETURN NULL;
    END
    $body$
    """,
    "ANALYZE servicedesk_ticketsearch",
]


def _original_functions() -> list[str]:
    """The two functions as 0004 made them, for going back."""
    original = importlib.import_module("arende.servicedesk.migrations.0004_ticket_search")
    wanted = (
        "FUNCTION servicedesk_ticketsearch_refresh(",
        "FUNCTION servicedesk_ticketsearch_ticket_updated(",
    )
    return [
        sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
        for sql in original.PG_INSTALL
        if any(name in sql for name in wanted)
    ]


def forward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in PG_FORWARD:
        schema_editor.execute(sql, params=None)


def backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in _original_functions():
        schema_editor.execute(sql, params=None)
    for sql in (
        "DROP INDEX IF EXISTS servicedesk_ticketsearch_open_internal_gin",
        "DROP INDEX IF EXISTS servicedesk_ticketsearch_open_document_gin",
        "ALTER TABLE servicedesk_ticketsearch DROP COLUMN IF EXISTS is_open",
    ):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("servicedesk", "0006_ticket_sla_fields"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
