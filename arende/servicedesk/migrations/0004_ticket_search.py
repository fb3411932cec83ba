"""Full-text search index over tickets: see arende/servicedesk/search.py for the design.

PostgreSQL: a side table ``servicedesk_ticketsearch(ticket_id, document, document_internal)``
of ``swedish`` tsvectors with GIN indexes, kept up to date by statement-level triggers (with
transition tables) on tickets and ticket activities.
SQLite: an FTS5 table ``servicedesk_ticket_fts`` (rowid = ticket id) kept up to date by row
triggers. Other databases get no index (search_tickets refuses to run on them).

Existing tickets are indexed here. The SQL is frozen in this file on purpose: a later change of
the index gets a migration of its own.

SQLite caveat: when a later migration makes Django *rebuild* servicedesk_ticket or
servicedesk_ticketactivity on SQLite (most AlterField operations do), SQLite drops that table's
triggers with the old table (the rebuild itself works: no trigger names the other table). Such
a migration must end with ``RunPython`` calling ``install_sqlite`` again (import this module
with importlib; it is idempotent and re-indexes); test_search.py fails until it does.
"""

from django.db import migrations

# Comment text taken into the index per ticket and field is capped, so that a pasted log can
# never push a tsvector over PostgreSQL's 1 MB limit (which would make the ticket unsavable).
DESCRIPTION_CAP = 60000
COMMENTS_CAP = 120000

# Replies that the requester can see go into the public document; internal notes (and any
# non-public reply) only into the internal one.
PUBLIC_COMMENT = "a.kind = 'reply' AND a.is_public"
INTERNAL_COMMENT = "a.kind IN ('reply', 'note') AND NOT (a.kind = 'reply' AND a.is_public)"
INDEXED_KINDS = "('reply', 'note')"


# PostgreSQL ----------------------------------------------------------------------------------

PG_INSTALL = [
    """
    CREATE TABLE servicedesk_ticketsearch (
        ticket_id bigint PRIMARY KEY,
        document tsvector NOT NULL,
        document_internal tsvector NOT NULL
    )
    """,
    "CREATE INDEX servicedesk_ticketsearch_document_gin "
    "ON servicedesk_ticketsearch USING gin (document)",
    "CREATE INDEX servicedesk_ticketsearch_internal_gin "
    "ON servicedesk_ticketsearch USING gin (document_internal)",
    f"""
    CREATE FUNCTION servicedesk_ticketsearch_refresh(ticket_ids bigint[]) RETURNS void
    LANGUAGE sql VOLATILE AS $body$
        -- One refresh per ticket at a time. The statements below then run with a fresh
        -- snapshot (the function is VOLATILE) taken after the lock, so they see the comments
        -- a concurrent transaction committed meanwhile; without the lock its upsert could
        -- overwrite this one's words. NO KEY UPDATE does not block inserting activities.
        SELECT 1 FROM servicedesk_ticket
         WHERE id IN (SELECT unnest(ticket_ids)) ORDER BY id FOR NO KEY UPDATE;
        DELETE FROM servicedesk_ticketsearch
         WHERE ticket_id IN (SELECT unnest(ticket_ids))
           AND NOT EXISTS (SELECT 1 FROM servicedesk_ticket t WHERE t.id = ticket_id);
        INSERT INTO servicedesk_ticketsearch (ticket_id, document, document_internal)
        SELECT t.id, d.document, d.document || n.notes
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
           SET document = EXCLUDED.document, document_internal = EXCLUDED.document_internal;
    $body$
    """,
    # Tickets.
    """
    CREATE FUNCTION servicedesk_ticketsearch_ticket_inserted() RETURNS trigger
    LANGUAGE plpgsql AS $body$
    BEGIN
        PERFORM servicedesk_ticketsearch_refresh(ARRAY(SELECT id FROM new_rows));
        RETURN NULL;
    END
    $body$
    """,
    """
    CREATE TRIGGER servicedesk_ticketsearch_ticket_insert
    AFTER INSERT ON servicedesk_ticket REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION servicedesk_ticketsearch_ticket_inserted()
    """,
    """
    CREATE FUNCTION servicedesk_ticketsearch_ticket_updated() RETURNS trigger
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
        RETURN NULL;
    END
    $body$
    """,
    """
    CREATE TRIGGER servicedesk_ticketsearch_ticket_update
    AFTER UPDATE ON servicedesk_ticket REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION servicedesk_ticketsearch_ticket_updated()
    """,
    """
    CREATE FUNCTION servicedesk_ticketsearch_ticket_deleted() RETURNS trigger
    LANGUAGE plpgsql AS $body$
    BEGIN
        DELETE FROM servicedesk_ticketsearch WHERE ticket_id IN (SELECT id FROM old_rows);
        RETURN NULL;
    END
    $body$
    """,
    """
    CREATE TRIGGER servicedesk_ticketsearch_ticket_delete
    AFTER DELETE ON servicedesk_ticket REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION servicedesk_ticketsearch_ticket_deleted()
    """,
    # Django's flush (TransactionTestCase) truncates the tickets; the index goes with them.
    """
    CREATE FUNCTION servicedesk_ticketsearch_ticket_truncated() RETURNS trigger
    LANGUAGE plpgsql AS $body$
    BEGIN
        TRUNCATE servicedesk_ticketsearch;
        RETURN NULL;
    END
    $body$
    """,
    """
    CREATE TRIGGER servicedesk_ticketsearch_ticket_truncate
    AFTER TRUNCATE ON servicedesk_ticket
    FOR EACH STATEMENT EXECUTE FUNCTION servicedesk_ticketsearch_ticket_truncated()
    """,
    # Activities: only replies and notes carry searchable text.
    f"""
    CREATE FUNCTION servicedesk_ticketsearch_activity_inserted() RETURNS trigger
    LANGUAGE plpgsql AS $body$
    DECLARE
        changed bigint[];
    BEGIN
        changed := ARRAY(
            SELECT DISTINCT ticket_id FROM new_rows WHERE kind IN {INDEXED_KINDS}
        );
        IF cardinality(changed) > 0 THEN
            PERFORM servicedesk_ticketsearch_refresh(changed);
        END IF;
        RETURN NULL;
    END
    $body$
    """,
    """
    CREATE TRIGGER servicedesk_ticketsearch_activity_insert
    AFTER INSERT ON servicedesk_ticketactivity REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION servicedesk_ticketsearch_activity_inserted()
    """,
    f"""
    CREATE FUNCTION servicedesk_ticketsearch_activity_updated() RETURNS trigger
    LANGUAGE plpgsql AS $body$
    DECLARE
        changed bigint[];
    BEGIN
        changed := ARRAY(
            SELECT x.ticket_id
              FROM new_rows n JOIN old_rows o ON o.id = n.id
             CROSS JOIN LATERAL (VALUES (o.ticket_id), (n.ticket_id)) AS x(ticket_id)
             WHERE (o.kind IN {INDEXED_KINDS} OR n.kind IN {INDEXED_KINDS})
               AND (n.body IS DISTINCT FROM o.body
                    OR n.kind IS DISTINCT FROM o.kind
                    OR n.is_public IS DISTINCT FROM o.is_public
                    OR n.ticket_id IS DISTINCT FROM o.ticket_id)
        );
        IF cardinality(changed) > 0 THEN
            PERFORM servicedesk_ticketsearch_refresh(changed);
        END IF;
        RETURN NULL;
    END
    $body$
    """,
    """
    CREATE TRIGGER servicedesk_ticketsearch_activity_update
    AFTER UPDATE ON servicedesk_ticketactivity
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION servicedesk_ticketsearch_activity_updated()
    """,
    f"""
    CREATE FUNCTION servicedesk_ticketsearch_activity_deleted() RETURNS trigger
    LANGUAGE plpgsql AS $body$
    DECLARE
        changed bigint[];
    BEGIN
        changed := ARRAY(
            SELECT DISTINCT ticket_id FROM old_rows WHERE kind IN {INDEXED_KINDS}
        );
        IF cardinality(changed) > 0 THEN
            PERFORM servicedesk_ticketsearch_refresh(changed);
        END IF;
        RETURN NULL;
    END
    $body$
    """,
    """
    CREATE TRIGGER servicedesk_ticketsearch_activity_delete
    AFTER DELETE ON servicedesk_ticketactivity REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION servicedesk_ticketsearch_activity_deleted()
    """,
]

PG_BACKFILL = [
    "SELECT servicedesk_ticketsearch_refresh(ARRAY(SELECT id FROM servicedesk_ticket))",
    "ANALYZE servicedesk_ticketsearch",
]

PG_UNINSTALL = [
    "DROP TRIGGER IF EXISTS servicedesk_ticketsearch_activity_delete ON servicedesk_ticketactivity",
    "DROP TRIGGER IF EXISTS servicedesk_ticketsearch_activity_update ON servicedesk_ticketactivity",
    "DROP TRIGGER IF EXISTS servicedesk_ticketsearch_activity_insert ON servicedesk_ticketactivity",
    "DROP TRIGGER IF EXISTS servicedesk_ticketsearch_ticket_truncate ON servicedesk_ticket",
    "DROP TRIGGER IF EXISTS servicedesk_ticketsearch_ticket_delete ON servicedesk_ticket",
    "DROP TRIGGER IF EXISTS servicedesk_ticketsearch_ticket_update ON servicedesk_ticket",
    "DROP TRIGGER IF EXISTS servicedesk_ticketsearch_ticket_insert ON servicedesk_ticket",
    "DROP FUNCTION IF EXISTS servicedesk_ticketsearch_activity_deleted()",
    "DROP FUNCTION IF EXISTS servicedesk_ticketsearch_activity_updated()",
    "DROP FUNCTION IF EXISTS servicedesk_ticketsearch_activity_inserted()",
    "DROP FUNCTION IF EXISTS servicedesk_ticketsearch_ticket_truncated()",
    "DROP FUNCTION IF EXISTS servicedesk_ticketsearch_ticket_deleted()",
    "DROP FUNCTION IF EXISTS servicedesk_ticketsearch_ticket_updated()",
    "DROP FUNCTION IF EXISTS servicedesk_ticketsearch_ticket_inserted()",
    "DROP FUNCTION IF EXISTS servicedesk_ticketsearch_refresh(bigint[])",
    "DROP TABLE IF EXISTS servicedesk_ticketsearch",
]


# SQLite --------------------------------------------------------------------------------------


def _sqlite_documents(where: str) -> str:
    """INSERT the FTS rows of the tickets selected by ``where`` (a fixed SQL fragment).

    Used only to fill the index (migration, rebuild), never inside a trigger.
    """
    return f"""
    INSERT INTO servicedesk_ticket_fts (rowid, title, description, replies, notes)
    SELECT t.id, t.title, t.description,
           coalesce((SELECT group_concat(a.body, char(10)) FROM servicedesk_ticketactivity a
                      WHERE a.ticket_id = t.id AND {PUBLIC_COMMENT}), ''),
           coalesce((SELECT group_concat(a.body, char(10)) FROM servicedesk_ticketactivity a
                      WHERE a.ticket_id = t.id AND {INTERNAL_COMMENT}), '')
      FROM servicedesk_ticket t
     WHERE {where};
    """


def _sqlite_comments(ticket_id: str) -> str:
    """SET the comment columns of one ticket's FTS row from its activities."""
    return f"""
    UPDATE servicedesk_ticket_fts
       SET replies = coalesce((SELECT group_concat(a.body, char(10))
                                 FROM servicedesk_ticketactivity a
                                WHERE a.ticket_id = {ticket_id} AND {PUBLIC_COMMENT}), ''),
           notes = coalesce((SELECT group_concat(a.body, char(10))
                               FROM servicedesk_ticketactivity a
                              WHERE a.ticket_id = {ticket_id} AND {INTERNAL_COMMENT}), '')
     WHERE rowid = {ticket_id};
    """


# Each trigger reads only its own table and the FTS table. A trigger on one table that named
# the other would make SQLite refuse the table rebuild Django does for most AlterField
# operations ("error in trigger ...: no such table"). A new ticket has no activities yet.
SQLITE_TRIGGERS = {
    "servicedesk_ticket_fts_ticket_insert": """
        AFTER INSERT ON servicedesk_ticket
        BEGIN
            DELETE FROM servicedesk_ticket_fts WHERE rowid = NEW.id;
            INSERT INTO servicedesk_ticket_fts (rowid, title, description, replies, notes)
            VALUES (NEW.id, NEW.title, NEW.description, '', '');
        END""",
    "servicedesk_ticket_fts_ticket_update": """
        AFTER UPDATE OF title, description ON servicedesk_ticket
        WHEN OLD.title IS NOT NEW.title OR OLD.description IS NOT NEW.description
        BEGIN
            UPDATE servicedesk_ticket_fts SET title = NEW.title, description = NEW.description
             WHERE rowid = NEW.id;
        END""",
    "servicedesk_ticket_fts_ticket_delete": """
        AFTER DELETE ON servicedesk_ticket
        BEGIN DELETE FROM servicedesk_ticket_fts WHERE rowid = OLD.id; END""",
    "servicedesk_ticket_fts_activity_insert": f"""
        AFTER INSERT ON servicedesk_ticketactivity
        WHEN NEW.kind IN {INDEXED_KINDS}
        BEGIN {_sqlite_comments("NEW.ticket_id")} END""",
    "servicedesk_ticket_fts_activity_update": f"""
        AFTER UPDATE OF ticket_id, kind, is_public, body ON servicedesk_ticketactivity
        WHEN (OLD.kind IN {INDEXED_KINDS} OR NEW.kind IN {INDEXED_KINDS})
         AND (OLD.body IS NOT NEW.body OR OLD.kind IS NOT NEW.kind
              OR OLD.is_public IS NOT NEW.is_public OR OLD.ticket_id IS NOT NEW.ticket_id)
        BEGIN {_sqlite_comments("OLD.ticket_id")} {_sqlite_comments("NEW.ticket_id")} END""",
    "servicedesk_ticket_fts_activity_delete": f"""
        AFTER DELETE ON servicedesk_ticketactivity
        WHEN OLD.kind IN {INDEXED_KINDS}
        BEGIN {_sqlite_comments("OLD.ticket_id")} END""",
}


def install_sqlite(schema_editor) -> None:
    """Create the FTS table and (re-)create its triggers, then index every ticket.

    Idempotent, so that a later migration which rebuilds a ticket table on SQLite can call it.
    """
    execute = schema_editor.execute
    execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS servicedesk_ticket_fts USING fts5("
        "title, description, replies, notes, "
        "tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3')",
        params=None,
    )
    for name, body in SQLITE_TRIGGERS.items():
        execute(f"DROP TRIGGER IF EXISTS {name}", params=None)
        execute(f"CREATE TRIGGER {name} {body}", params=None)
    backfill(schema_editor.connection)


def backfill(connection) -> None:
    """Index every existing ticket (replacing whatever the index held)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for sql in PG_BACKFILL:
                cursor.execute(sql)
        elif connection.vendor == "sqlite":
            cursor.execute("DELETE FROM servicedesk_ticket_fts")
            cursor.execute(_sqlite_documents("1 = 1"))


def install(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for sql in PG_INSTALL:
            schema_editor.execute(sql, params=None)
        backfill(schema_editor.connection)
    elif vendor == "sqlite":
        install_sqlite(schema_editor)


def uninstall(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for sql in PG_UNINSTALL:
            schema_editor.execute(sql, params=None)
    elif vendor == "sqlite":
        for name in reversed(SQLITE_TRIGGERS):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}", params=None)
        schema_editor.execute("DROP TABLE IF EXISTS servicedesk_ticket_fts", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("servicedesk", "0003_agent_saved_views"),
    ]

    operations = [
        migrations.RunPython(install, uninstall, elidable=False),
    ]
