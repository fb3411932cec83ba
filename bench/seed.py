"""Bulk seeding for `make bench`: realistic volumes written with set-based SQL on PostgreSQL.

The services are far too slow for a million tickets (each writes a timeline, a line span and an
audit event), so the benchmark builds its rows in the database with generate_series. The demo
world (organisations, people, groups) comes from seed_demo as usual, so the rows reference real
users and the pages render as they would in production.
"""

from __future__ import annotations

import time

from django.db import connection, transaction

from arende.core.models import Organisation, User
from arende.servicedesk.models import SupportGroup, Ticket, TicketCounter
from arende.servicedesk.search import rebuild_search_index

TITLES = [
    "Skrivaren på plan 2 skriver inte ut",
    "Kan inte logga in i Outlook",
    "Ny medarbetare behöver konto",
    "Wifi fungerar inte i matsalen",
    "Telefonväxeln kopplar fel",
    "Behörighet till ekonomisystemet",
    "Datorn startar inte efter uppdatering",
    "Lösenordet har gått ut",
    "Beställning av mobiltelefon",
    "Projektorn i sammanträdesrummet",
    "Verksamhetssystemet är långsamt",
    "Skannern skickar inte e-post",
]
WORDS = [
    "skrivare", "konto", "lösenord", "nätverk", "wifi", "telefon", "växel", "e-post", "server",
    "behörighet", "dator", "skärm", "licens", "uppdatering", "kalender", "Teams", "VPN",
    "surfplatta", "elevkonto", "journal", "ekonomisystem", "lönesystem", "backup", "brandvägg",
]  # fmt: skip


def _array(values: list) -> str:
    return "(ARRAY[" + ",".join(str(int(v)) for v in values) + "]::bigint[])"


def _text_array(values: list[str]) -> str:
    quoted = ",".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"ARRAY[{quoted}]::text[]"


def seed_tickets(target: int, *, batch: int = 100_000, report=print) -> int:
    """Add generated tickets (with two timeline entries each) until there are ``target``."""
    if connection.vendor != "postgresql":
        raise SystemExit("make bench needs PostgreSQL (set BENCH_DATABASE_URL).")
    have = Ticket.objects.count()
    if have >= target:
        return have
    requesters = list(
        User.objects.filter(role_assignments__role__code="requester").values_list(
            "pk", "organisation_id", "department_id"
        )
    )
    agents = list(
        User.objects.filter(role_assignments__role__code__in=["agent", "specialist"])
        .values_list("pk", flat=True)
        .distinct()
    )
    groups = list(SupportGroup.objects.values_list("pk", "line"))
    if not requesters or not agents or not groups:
        raise SystemExit("Run seed_demo first: the benchmark needs its people and groups.")
    first_line = [pk for pk, line in groups if line == 1]
    second_line = [pk for pk, line in groups if line == 2]
    req_ids = _array([r[0] for r in requesters])
    req_orgs = _array([r[1] for r in requesters])
    req_depts = _array([r[2] or 0 for r in requesters])
    n_req = len(requesters)
    started = time.perf_counter()
    # Row triggers keep the search index current one ticket at a time; for a bulk load it is
    # far quicker to switch them off and rebuild the index once at the end.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE servicedesk_ticket DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE servicedesk_ticketactivity DISABLE TRIGGER USER")
    try:
        have = _insert_batches(have, target, batch, started, report, locals())
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE servicedesk_ticket ENABLE TRIGGER USER")
            cursor.execute("ALTER TABLE servicedesk_ticketactivity ENABLE TRIGGER USER")
    report("  rebuilding the search index...")
    rebuild_search_index()
    report(f"  done ({time.perf_counter() - started:.0f} s)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    TicketCounter.objects.get_or_create(year=2026)
    return have


def _insert_batches(have, target, batch, started, report, names) -> int:
    req_ids, req_orgs, req_depts, n_req = (
        names["req_ids"],
        names["req_orgs"],
        names["req_depts"],
        names["n_req"],
    )
    first_line, second_line, agents = names["first_line"], names["second_line"], names["agents"]
    while have < target:
        size = min(batch, target - have)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(max(id), 0) FROM servicedesk_ticket")
            (before,) = cursor.fetchone()
            cursor.execute(
                f"""
                INSERT INTO servicedesk_ticket (
                    reference, kind, channel, title, description, requester_id, contact_name,
                    contact_email, contact_phone, organisation_id, department_id, custom_fields,
                    impact, urgency, priority, line, group_id, assignee_id, status, resolution,
                    created_at, updated_at, first_response_at, escalated_at, resolved_at,
                    closed_at, resolved_in_first_line, sla_state, version)
                SELECT
                    -- Years before any real ticket, so references never meet the live counter.
                    (1990 + g %% 30)::text || '-' || lpad((g / 30)::text, 7, '0'),
                    (ARRAY['incident','request','question'])[1 + g %% 3],
                    (ARRAY['portal','email','phone','email','portal','api'])[1 + g %% 6],
                    titles[1 + (g * 7) %% array_length(titles, 1)] || ' (' || g || ')',
                    'Hej! ' || words[1 + (g * 3) %% array_length(words, 1)] || ' och '
                        || words[1 + (g * 11) %% array_length(words, 1)]
                        || ' fungerar inte som det ska sedan i morse. Mvh',
                    {req_ids}[1 + (g * 13) %% {n_req}], '', '', '',
                    {req_orgs}[1 + (g * 13) %% {n_req}],
                    NULLIF({req_depts}[1 + (g * 13) %% {n_req}], 0),
                    '{{}}'::jsonb,
                    1 + g %% 3, 1 + (g / 3) %% 3, 1 + g %% 4,
                    CASE WHEN g %% 3 = 0 THEN 2 ELSE 1 END,
                    CASE WHEN g %% 3 = 0 THEN {_array(second_line)}[1 + g %% {len(second_line)}]
                         ELSE {_array(first_line)}[1] END,
                    CASE WHEN g %% 5 = 0 THEN NULL
                         ELSE {_array(agents)}[1 + g %% {len(agents)}] END,
                    CASE WHEN g %% 50 = 0 THEN 'new' WHEN g %% 50 = 1 THEN 'assigned'
                         WHEN g %% 50 = 2 THEN 'in_progress'
                         WHEN g %% 50 = 3 THEN 'waiting_requester'
                         WHEN g %% 50 = 4 THEN 'resolved' ELSE 'closed' END,
                    CASE WHEN g %% 50 >= 4 THEN 'Åtgärdat' ELSE '' END,
                    created, created, created + interval '1 hour',
                    CASE WHEN g %% 3 = 0 THEN created + interval '2 hours' END,
                    CASE WHEN g %% 50 >= 4 THEN created + interval '1 day' END,
                    CASE WHEN g %% 50 >= 5 THEN created + interval '6 days' END,
                    CASE WHEN g %% 50 >= 4 THEN g %% 3 <> 0 END,
                    '', 1
                FROM (
                    SELECT g, now() - ((%s - g) * interval '2 minutes') AS created,
                           {_text_array(TITLES)} AS titles, {_text_array(WORDS)} AS words
                    FROM generate_series(%s, %s) AS g
                ) AS rows
                """,  # noqa: S608 - only integers and constants are formatted in
                [target, have + 1, have + size],
            )
            cursor.execute(
                """
                INSERT INTO servicedesk_ticketactivity (ticket_id, at, actor_id, kind, is_public,
                                                        body, data, channel)
                SELECT t.id, t.created_at + interval '30 minutes', t.assignee_id, 'reply', true,
                       'Tack för ditt ärende, vi tittar på det.', '{}'::jsonb, 'portal'
                FROM servicedesk_ticket t WHERE t.id > %s
                """,
                [before],
            )
            cursor.execute(
                """
                INSERT INTO servicedesk_ticketactivity (ticket_id, at, actor_id, kind, is_public,
                                                        body, data, channel)
                SELECT t.id, t.created_at + interval '40 minutes', t.assignee_id, 'note', false,
                       'Intern anteckning: kontrollerat loggar på servern.', '{}'::jsonb, ''
                FROM servicedesk_ticket t WHERE t.id > %s
                """,
                [before],
            )
        have += size
        report(f"  seeded {have:>9,} tickets ({time.perf_counter() - started:.0f} s)")
    return have


def organisations() -> list[Organisation]:
    return list(Organisation.objects.filter(kind="municipality").order_by("name"))
