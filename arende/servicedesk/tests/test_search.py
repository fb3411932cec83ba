"""Full-text search over tickets, on SQLite (FTS5) and PostgreSQL (tsvector) alike."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from arende.core.tests.factories import OrganisationFactory, UserFactory, grant
from arende.servicedesk import services
from arende.servicedesk.models import Ticket, TicketActivity
from arende.servicedesk.search import (
    light_swedish_stem,
    parse_search,
    rebuild_search_index,
    search_tickets,
)
from arende.servicedesk.tests.factories import SupportGroupFactory

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def desk():
    herrljunga, vargarda = OrganisationFactory(), OrganisationFactory()
    it = OrganisationFactory(kind="joint_board", org_number="")
    agent = grant(UserFactory(organisation=it), "agent")
    SupportGroupFactory(name="Servicedesk", line=1, members=[agent])
    requester = grant(UserFactory(organisation=herrljunga), "requester", herrljunga)
    other = grant(UserFactory(organisation=vargarda), "requester", vargarda)
    return dict(
        herrljunga=herrljunga, vargarda=vargarda, agent=agent, requester=requester, other=other
    )


def _ticket(desk, title, description="", requester=None, **kwargs):
    requester = requester or desk["requester"]
    return services.ticket_create(
        actor=requester,
        channel="portal",
        title=title,
        description=description,
        requester=requester,
        **kwargs,
    )


def _found(text, queryset=None, **kwargs):
    queryset = Ticket.objects.all() if queryset is None else queryset
    return list(search_tickets(queryset, text, **kwargs))


def _indexed_ids():
    with connection.cursor() as cursor:
        if POSTGRES:
            cursor.execute("SELECT ticket_id FROM servicedesk_ticketsearch")
        else:
            cursor.execute("SELECT rowid FROM servicedesk_ticket_fts")
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def tickets(desk):
    printer = _ticket(desk, "Skrivaren på plan 2 skriver inte ut", "Papperet fastnar hela tiden.")
    login = _ticket(desk, "Kan inte logga in", "Lösenordet till lönesystemet har gått ut.")
    phone = _ticket(desk, "Ny mobiltelefon", "Behöver en telefon till en nyanställd.")
    services.ticket_reply(
        actor=desk["agent"], ticket=phone, body="Beställd hos leverantören, kommer på fredag."
    )
    return dict(printer=printer, login=login, phone=phone)


# What is matched ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("skrivaren", "printer"),  # title
        ("papperet fastnar", "printer"),  # description, two words
        ("lönesystemet", "login"),  # description, Swedish letters
        ("leverantören", "phone"),  # public reply
        ("FREDAG", "phone"),  # case does not matter
    ],
)
def test_finds_words_in_title_description_and_replies(tickets, text, key):
    assert _found(text) == [tickets[key]]


def test_every_word_must_match(tickets):
    assert _found("skrivaren lönesystemet") == []


def test_words_are_prefixes(tickets):
    assert _found("skriv") == [tickets["printer"]]
    assert _found("lönesys") == [tickets["login"]]
    assert _found("mobil") == [tickets["phone"]]


def test_swedish_letters_are_distinct_from_their_bases(desk):
    meeting = _ticket(desk, "Projektorn i mötesrummet fungerar inte")
    fashion = _ticket(desk, "Bild till sidan om mote och kläder")
    assert _found("mötesrummet") == [meeting]
    assert _found("möte") == [meeting]
    assert _found("mote") == [fashion]
    assert _found("MÖTESRUM") == [meeting]
    access = _ticket(desk, "ÅTKOMST till Äldreomsorgens system")
    assert _found("åtkomst") == [access]
    assert _found("äldreomsorg") == [access]
    assert _found("atkomst") == []


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("skrivaren", "Ny skrivare behövs"),
        ("skrivarna", "Ny skrivare behövs"),
        ("skärmen", "Trasig skärm"),
        ("datorerna", "Datorer till skolan"),
    ],
)
def test_inflected_swedish_words_find_each_other(desk, text, title):
    # PostgreSQL stems with Snowball; on SQLite the light suffix stripper gets the same result.
    ticket = _ticket(desk, title)
    assert _found(text) == [ticket]


def test_light_stemmer_cuts_one_suffix_and_keeps_short_words():
    assert light_swedish_stem("skrivaren") == "skriv"
    assert light_swedish_stem("datorerna") == "dator"
    assert light_swedish_stem("skriv") == "skriv"
    assert light_swedish_stem("tre") == "tre"


# References ---------------------------------------------------------------------------------


def test_reference_finds_the_ticket_first_then_mentions(desk, tickets):
    target = tickets["login"]
    mention = _ticket(desk, "Följdfråga", f"Se {target.reference} om lösenordet.")
    found = _found(target.reference)
    assert found == [target, mention]
    assert found[0].search_exact == 1


def test_reference_without_leading_zeros_and_with_words(desk, tickets):
    target = tickets["login"]
    year, number = target.reference.split("-")
    assert _found(f"{year}-{int(number)}") == [target]
    # The reference matches on its own; the words match other tickets; the reference comes first.
    assert _found(f"{target.reference} skrivaren") == [target]
    assert _found("2019-999999") == []


def test_reference_is_scoped_too(desk):
    hidden = _ticket(desk, "Vårgårdas ärende", requester=desk["other"])
    scoped = Ticket.objects.filter(organisation=desk["herrljunga"])
    assert _found(hidden.reference, scoped) == []


# Ordering -----------------------------------------------------------------------------------


def test_title_ranks_above_description_and_replies_then_newest(desk):
    in_reply = _ticket(desk, "Allmän fråga")
    services.ticket_reply(actor=desk["agent"], ticket=in_reply, body="Det gäller routern.")
    in_description = _ticket(desk, "Nätverket är långsamt", "Routern blinkar rött.")
    at = datetime.datetime(2025, 3, 1, 9, 0, tzinfo=datetime.UTC)
    older = _ticket(desk, "Routern är trasig", created_at=at)
    newer = _ticket(desk, "Routern är trasig", created_at=at + datetime.timedelta(days=1))
    assert _found("routern") == [newer, older, in_description, in_reply]


def test_unranked_search_is_newest_first_with_the_reference_still_first(desk):
    at = datetime.datetime(2025, 3, 1, 9, 0, tzinfo=datetime.UTC)
    in_title = _ticket(desk, "Routern är trasig", created_at=at)
    in_description = _ticket(desk, "Nätverket", "Routern blinkar.", created_at=at + HOUR)
    referenced = _ticket(desk, "Annat", created_at=at - HOUR)
    results = search_tickets(Ticket.objects.all(), "routern", ranked=False)
    assert list(results) == [in_description, in_title]
    results = search_tickets(Ticket.objects.all(), f"{referenced.reference}", ranked=False)
    assert list(results) == [referenced]
    assert {t.search_rank for t in results} == {0.0}


# Input that must not break anything --------------------------------------------------------


HOSTILE = [
    '"',
    "'",
    '"skrivaren',
    "skrivaren'",
    "(skrivaren",
    "skrivaren)",
    "()",
    "*",
    "skrivaren*",
    "skrivaren OR lönesystemet",
    "OR",
    "NOT skrivaren",
    "skrivaren AND",
    "NEAR(skrivaren fastnar)",
    "title:skrivaren",
    "{title description}: skrivaren",
    "^skrivaren",
    "-skrivaren",
    "!skrivaren",
    "skrivaren & | ! <-> :*",
    "'; DROP TABLE servicedesk_ticket; --",
    "1' OR '1'='1",
    "%",
    "_",
    "\\",
    "\x00skrivaren",
    "😀",
    "a" * 100_000,
    "skrivaren " * 20_000,
    " ".join(f"ord{n}" for n in range(5_000)),
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:30]))
@pytest.mark.parametrize("include_internal", [False, True])
def test_hostile_input_neither_errors_nor_matches_everything(tickets, text, include_internal):
    found = _found(text, include_internal=include_internal)
    assert len(found) < Ticket.objects.count()
    assert set(found) <= {tickets["printer"]}
    assert Ticket.objects.count() == 3  # nothing was dropped


def test_blank_text_returns_the_queryset_unchanged(tickets):
    queryset = Ticket.objects.filter(organisation=tickets["printer"].organisation)
    for text in ("", "   ", "\n\t"):
        assert search_tickets(queryset, text) is queryset


def test_only_punctuation_or_stop_words_finds_nothing(tickets):
    assert _found("?!.,") == []
    assert _found("och inte") == []  # Swedish stop words


def test_parse_search_keeps_only_letters_and_digits():
    parsed = parse_search('"Skriv" (OR) 2026-7 e-post; DROP *')
    assert parsed.words == ("skriv", "or", "e", "post", "drop")
    assert parsed.references == ("2026-000007",)
    assert len(parse_search(" ".join(f"w{n}" for n in range(100))).words) == 8


# Internal notes ----------------------------------------------------------------------------


def test_internal_note_words_are_found_only_when_asked_for(desk, tickets):
    printer = tickets["printer"]
    services.ticket_add_note(
        actor=desk["agent"], ticket=printer, body="Leverantörsavtalet hemligstämplat."
    )
    assert _found("hemligstämplat") == []
    assert _found("hemligstämplat", include_internal=True) == [printer]
    # A word from the title and one from a note: only a search of notes matches both.
    assert _found("skrivaren hemligstämplat") == []
    assert _found("skrivaren hemligstämplat", include_internal=True) == [printer]
    # Public text is found both ways.
    assert _found("papperet", include_internal=True) == [printer]


# Scoping -----------------------------------------------------------------------------------


def test_a_ticket_outside_the_queryset_is_never_returned(desk, tickets):
    theirs = _ticket(desk, "Skrivaren i Vårgårda", requester=desk["other"])
    assert set(_found("skrivaren")) == {tickets["printer"], theirs}

    herrljunga_agent = grant(
        UserFactory(organisation=desk["herrljunga"]), "agent", desk["herrljunga"]
    )
    scoped = Ticket.objects.visible_to(herrljunga_agent)
    assert _found("skrivaren", scoped) == [tickets["printer"]]
    assert _found("skrivaren", Ticket.objects.visible_to(desk["other"])) == [theirs]
    assert _found("skrivaren", Ticket.objects.none()) == []


def test_result_is_a_queryset_that_composes(desk, tickets):
    results = search_tickets(Ticket.objects.all(), "skrivaren")
    assert results.count() == 1
    assert list(results.filter(status="new")[:10]) == [tickets["printer"]]
    assert list(results.values_list("pk", flat=True)) == [tickets["printer"].pk]
    # Used as a subquery (tables get new aliases) and over a queryset with joins.
    assert list(Ticket.objects.filter(pk__in=results.values("pk"))) == [tickets["printer"]]
    joined = Ticket.objects.filter(requester__organisation=desk["herrljunga"]).select_related(
        "requester", "group"
    )
    assert list(search_tickets(joined, "skrivaren")) == [tickets["printer"]]


# Keeping the index current -----------------------------------------------------------------


def test_title_change_and_new_reply_are_searchable_at_once(desk, tickets):
    login = tickets["login"]
    services.ticket_update(
        actor=desk["agent"], ticket=login, version=login.version, title="Kontot är låst"
    )
    assert _found("låst") == [login]
    assert _found("logga") == []
    assert _found("lönesystemet") == [login]  # the description is still indexed

    services.ticket_reply(actor=desk["requester"], ticket=login, body="Nu fungerar vpn-klienten.")
    assert _found("vpn klienten") == [login]


def test_deleting_a_ticket_removes_it_from_the_index(tickets):
    printer = tickets["printer"]
    assert printer.pk in _indexed_ids()
    printer.delete()
    assert printer.pk not in _indexed_ids()
    assert _found("skrivaren") == []
    assert _indexed_ids() == {tickets["login"].pk, tickets["phone"].pk}


def test_status_changes_do_not_disturb_the_index(desk, tickets):
    printer = tickets["printer"]
    services.ticket_assign(
        actor=desk["agent"], ticket=printer, version=printer.version, assignee=desk["agent"]
    )
    assert _found("skrivaren") == [printer]


def test_rebuild_indexes_existing_rows(tickets):
    """The migration indexes the tickets that exist when it runs; this is that code path."""
    with connection.cursor() as cursor:
        if POSTGRES:
            cursor.execute("DELETE FROM servicedesk_ticketsearch")
        else:
            cursor.execute("DELETE FROM servicedesk_ticket_fts")
    assert _found("skrivaren") == []
    rebuild_search_index()
    assert _found("skrivaren") == [tickets["printer"]]
    assert _found("leverantören") == [tickets["phone"]]
    assert _indexed_ids() == {t.pk for t in tickets.values()}


def test_index_triggers_survive_all_migrations():
    """A later migration that rebuilds a ticket table on SQLite would drop these silently."""
    with connection.cursor() as cursor:
        if POSTGRES:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgname LIKE 'servicedesk_ticketsearch_%%'"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'servicedesk_ticket_fts_%%'"
            )
        names = {row[0] for row in cursor.fetchall()}
    expected = 7 if POSTGRES else 6
    assert len(names) == expected, (
        f"Search index triggers missing: {sorted(names)}. A migration that rebuilds a ticket "
        "table on SQLite must re-run install_sqlite from migration 0004_ticket_search."
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not POSTGRES, reason="needs concurrent connections")
def test_comments_written_at_once_by_two_transactions_are_both_indexed():
    """Writers that do not lock the ticket first (imports, future code) must not lose words."""
    org = OrganisationFactory()
    requester = UserFactory(organisation=org)
    ticket = services.ticket_create(actor=None, channel="api", title="Larm", requester=requester)
    first_inserted, errors = threading.Event(), []

    def add(body, hold):
        try:
            with transaction.atomic():
                TicketActivity.objects.create(
                    ticket=ticket, at=timezone.now(), kind="reply", is_public=True, body=body
                )
                if hold:
                    first_inserted.set()
                    time.sleep(0.5)  # the other transaction's trigger runs meanwhile
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=add, args=("brandlarmet", True))
    second = threading.Thread(target=add, args=("inbrottslarmet", False))
    first.start()
    first_inserted.wait(5)
    second.start()
    first.join()
    second.join()
    assert errors == []
    assert _found("brandlarmet inbrottslarmet") == [ticket]
