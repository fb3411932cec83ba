"""Full-text search over tickets: one function, two database engines.

``search_tickets(queryset, text, include_internal=False)`` narrows an already access-scoped
ticket queryset to the tickets that match ``text`` and orders them: exact reference match first,
then relevance, then newest. It is the *staff* search (agent workspace, API for staff).
Requesters never reach it; their portal lists their own tickets. Even so, note text is only
searched when the caller says so, because a requester must never find a ticket by words that
appear only in an internal note.

What is searched
    title (weighted highest), description, and comments: public replies always; internal notes
    (and any non-public reply) only with ``include_internal=True``. Pass that only when the user
    may read the internal notes of *every* ticket in the queryset (e.g. the user has
    ``servicedesk.view_internal_note`` wherever they have ``view_ticket``). Other timeline entries
    (status changes with their reason, escalation reasons, ratings) are not indexed.

How the text is read (``parse_search``)
    The input is cut at 500 characters, NFC-normalised and split into words of letters and
    digits; everything else (quotes, brackets, ``*``, ``:``, ``-``, ``OR``-style operators as
    punctuation, SQL) is a word separator, so user input can never become query syntax. ``OR``
    and ``AND`` typed as words are just words. Swedish stop words (the list PostgreSQL's
    ``swedish`` configuration uses) are dropped, duplicates removed, at most 8 words of at most
    40 characters are kept. Every word is a *prefix*: "skriv" finds "skrivare". All words must
    match (AND). A reference such as ``2026-000123`` (or ``2026-123``, padded) is pulled out
    first: it matches that ticket's reference exactly (ranked first) *or* tickets whose text
    mentions it. Empty/whitespace input returns the queryset unchanged; input with no usable
    word (only punctuation or stop words) returns no tickets.

PostgreSQL (production)
    Side table ``servicedesk_ticketsearch(ticket_id, document, document_internal)`` with two
    ``tsvector`` columns (``swedish`` configuration): ``document`` = title (weight A) +
    description (B) + public replies (C); ``document_internal`` = ``document`` + notes (C). Each
    has a GIN index, so both kinds of search use an index and an AND of words spread over a
    title and a note still matches. Statement-level triggers on ``servicedesk_ticket`` and
    ``servicedesk_ticketactivity`` keep the rows current in the same transaction (so a reply is
    searchable immediately; a per-ticket row lock keeps two concurrent writers from losing each
    other's words); deleting or truncating tickets removes their rows. The query is
    ``to_tsquery('swedish', %s)`` with the sanitised words as ``word:*``, passed as a parameter;
    PostgreSQL stems each word, so "skrivaren" finds "skrivare". Relevance is ``ts_rank``.
    Text is capped per ticket (description 60 000, comments 120 000 characters) so that a
    pasted log cannot push a tsvector over PostgreSQL's 1 MB limit.

SQLite (embedded default)
    FTS5 table ``servicedesk_ticket_fts(title, description, replies, notes)``, rowid = ticket
    id, tokenizer ``unicode61 remove_diacritics 0`` (å, ä, ö stay distinct from a and o),
    prefix indexes of 2 and 3 characters, maintained by row triggers. Each word becomes
    ``"word"*`` (always quoted, so FTS5 operators in the input are inert); the public search
    restricts the match to ``{title description replies}``. FTS5 does not stem, so each word is
    first cut by a light Swedish suffix stripper (the Snowball step 1 suffixes: "skrivaren" →
    "skriv") before it is used as a prefix, which gives close to PostgreSQL's behaviour.
    Relevance is ``bm25`` with column weights 10 / 4 / 1 / 1.

Both engines filter with "ticket id in (ids of the index rows that match)", which composes with
any scoping filter on the queryset (a ticket outside it is never returned). On PostgreSQL it is
``id = ANY(ARRAY(SELECT ticket_id ... WHERE document @@ query))``: the GIN index yields the
matching ids once and the tickets are fetched by primary key, so the cost follows the number of
matches, not of tickets. (With a plain ``IN`` semi-join the planner, which cannot estimate
prefix matches, may walk every ticket in created_at order looking for a rare word.) The rank is
a correlated subquery per matching ticket. Measured on 50 000 tickets (a loaded 2-core box): a
rare word 1-4 ms; a word in 7 000 tickets 60-100 ms ranked, 35-60 ms with ``ranked=False``,
which skips the score for lists that are sorted by a column anyway. The result is annotated
with ``search_exact`` (1 for a reference match) and ``search_rank`` (0 when not ranked); a
caller may re-order it.

The index is created and filled by migration ``0004_ticket_search`` (see there for the SQLite
caveat about migrations that rebuild the ticket tables). ``rebuild_search_index()`` refills it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.db import NotSupportedError, connections
from django.db.models import (
    BooleanField,
    Case,
    Expression,
    F,
    Field,
    FloatField,
    IntegerField,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from arende.servicedesk.models import Ticket

MAX_INPUT = 500
MAX_WORDS = 8
MAX_WORD_LENGTH = 40

# PostgreSQL's tsearch_data/swedish.stop (the Snowball list), so both engines drop the same words.
_STOP_WORDS_TEXT = """
    och det att i en jag hon som han på den med var sig för så till är men ett om hade de av
    icke mig du henne då sin nu har inte hans honom skulle hennes där min man ej vid kunde något
    från ut när efter upp vi dem vara vad över än dig kan sina här ha mot alla under någon eller
    allt mycket sedan ju denna själv detta åt utan varit hur ingen mitt ni bli blev oss din dessa
    några deras blir mina samma vilken er sådan vår blivit dess inom mellan sådant varför varje
    vilka ditt vem vilket sitta sådana vart dina vars vårt våra ert era vilkas
"""
SWEDISH_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

_REFERENCE = re.compile(r"(?<![\w-])(\d{4})-(\d{1,6})(?![\w-])")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class ParsedSearch:
    """The sanitised search: words (prefix terms) and ticket references."""

    words: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.words or self.references)


def parse_search(text: str) -> ParsedSearch:
    """Split user input into safe words and references (see the module docstring)."""
    text = unicodedata.normalize("NFC", (text or "")[:MAX_INPUT])
    references = []
    for year, number in _REFERENCE.findall(text):
        reference = f"{year}-{int(number):06d}"
        if reference not in references:
            references.append(reference)
    text = _REFERENCE.sub(" ", text)
    words: list[str] = []
    for match in _WORD.finditer(text.lower()):
        word = match.group()[:MAX_WORD_LENGTH]
        if word in SWEDISH_STOP_WORDS or word in words:
            continue
        words.append(word)
    return ParsedSearch(words=tuple(words[:MAX_WORDS]), references=tuple(references[:MAX_WORDS]))


def search_tickets(
    queryset: QuerySet[Ticket],
    text: str,
    *,
    include_internal: bool = False,
    ranked: bool = True,
    open_only: bool = False,
    narrow: bool = False,
) -> QuerySet[Ticket]:
    """Narrow ``queryset`` to tickets matching ``text``, best match first, then newest.

    For staff only. ``include_internal`` also searches internal notes; pass True only when
    the user may read the notes of every ticket in ``queryset``. ``ranked=False`` skips the
    relevance score (an exact reference still comes first, then newest): use it when the list
    is sorted by a column anyway, since scoring costs time in proportion to the matches.
    ``open_only=True`` says that ``queryset`` holds open tickets only (its own status
    condition still applies); on PostgreSQL the words are then looked up in the index of open
    tickets, which is far smaller than the index of all tickets. ``narrow=True`` says that
    ``queryset``'s own conditions select few rows through an index (e.g. resolved in the last
    two weeks): PostgreSQL may then check those rows against the words one by one instead of
    collecting every match in all tickets first (a broad word matches 166 000 of a million).
    """
    if not text or not text.strip():
        return queryset
    parsed = parse_search(text)
    if not parsed:
        return queryset.none()
    vendor = connections[queryset.db].vendor
    match_params: tuple[Any, ...]
    if vendor == "postgresql":
        match_sql, rank_sql, params = _postgresql(parsed, include_internal, open_only)
        match_params = params
        if narrow:
            # The queryset's own rows, checked against the words one by one (by the index
            # on ticket_id): the cost follows the few rows of the queue, however many tickets
            # the words match. Left to itself the planner, unable to estimate a prefix match,
            # may collect all 166 000 matches of a broad word first (half a second, cold).
            within, within_params = (
                queryset.order_by().values("pk").query.get_compiler(queryset.db).as_sql()
            )
            match_sql, rank_sql, params = _postgresql(
                parsed, include_internal, open_only, within=within
            )
            match_params = (*within_params, *params)
            filter_sql = "{pk} IN ({match})"
        else:
            # An array built once (an InitPlan fed by the GIN index), then ticket rows fetched
            # by primary key: the cost follows the number of matches, whatever the planner's
            # guess of it. A plain IN lets PostgreSQL walk all tickets by created_at when it
            # guesses "many".
            filter_sql = "{pk} = ANY(ARRAY({match}))"
    elif vendor == "sqlite":
        match_sql, rank_sql, params = _sqlite(parsed, include_internal)
        match_params = params
        filter_sql = "{pk} IN ({match})"
    else:
        raise NotSupportedError(f"Ticket search is not available on {vendor}.")
    if parsed.references:
        placeholders = ", ".join(["%s"] * len(parsed.references))
        # Only "%s" placeholders are spliced in; the references themselves are parameters.
        match_sql += f" UNION SELECT id FROM servicedesk_ticket WHERE reference IN ({placeholders})"  # noqa: S608
        match_params = (*match_params, *parsed.references)
        exact = Case(
            When(reference__in=parsed.references, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    else:
        exact = Value(0, output_field=IntegerField())
    if vendor == "postgresql" and open_only:
        # Open tickets only: read the matching ids from the (small) index of open tickets
        # now, and hand them to the ticket query as a constant array. The planner then knows
        # how many there are (it cannot estimate a prefix match) and checks membership with
        # a hash: newest first it can walk the queue in order and stop after a page, instead
        # of fetching every match by primary key. Every match is in the array; nothing is cut.
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(match_sql, match_params)
            ids = "{" + ",".join(str(row[0]) for row in cursor.fetchall()) + "}"
        # An array literal passed as text: far quicker to send than a list adapted item by item.
        matches = _TicketSQL("{pk} = ANY(%s::bigint[])", (ids,), BooleanField())
    else:
        matches = _TicketSQL(filter_sql.replace("{match}", match_sql), match_params, BooleanField())
    if ranked:
        rank = Coalesce(
            _TicketSQL(rank_sql, params, FloatField()), Value(0.0), output_field=FloatField()
        )
    else:
        rank = Value(0.0, output_field=FloatField())
    return (
        queryset.filter(matches)
        .annotate(search_exact=exact, search_rank=rank)
        .order_by("-search_exact", "-search_rank", "-created_at", "-id")
    )


def rank_search(
    matches: QuerySet[Ticket], text: str, *, include_internal: bool = False
) -> QuerySet[Ticket]:
    """Order the result of ``search_tickets(..., ranked=False)`` best match first after all.

    For a caller that first counts the matches and ranks only when that is cheap; the ticket
    set is unchanged (and on PostgreSQL with ``open_only`` the index is not read again).
    """
    parsed = parse_search(text)
    vendor = connections[matches.db].vendor
    if not parsed or vendor not in ("postgresql", "sqlite"):
        return matches
    if vendor == "postgresql":
        _match, rank_sql, params = _postgresql(parsed, include_internal)
    else:
        _match, rank_sql, params = _sqlite(parsed, include_internal)
    rank = Coalesce(
        _TicketSQL(rank_sql, params, FloatField()), Value(0.0), output_field=FloatField()
    )
    return matches.annotate(search_rank=rank).order_by(
        "-search_exact", "-search_rank", "-created_at", "-id"
    )


def among(ids: list[int], using: str = "default") -> Expression:
    """A filter for tickets whose id is in ``ids``, sent as one parameter however many.

    ``pk__in`` sends a placeholder per id; for the two thousand ids of a search result the
    driver then spends longer splitting the query than the database spends running it.
    """
    if connections[using].vendor == "postgresql":
        literal = "{" + ",".join(str(int(pk)) for pk in ids) + "}"
        return _TicketSQL("{pk} = ANY(%s::bigint[])", (literal,), BooleanField())
    literal = "[" + ",".join(str(int(pk)) for pk in ids) + "]"
    return _TicketSQL("{pk} IN (SELECT value FROM json_each(%s))", (literal,), BooleanField())


def rebuild_search_index(using: str = "default") -> None:
    """Re-index every ticket (after a bulk load with triggers disabled, or a repair)."""
    import importlib

    migration = importlib.import_module("arende.servicedesk.migrations.0004_ticket_search")
    migration.backfill(connections[using])


# PostgreSQL ----------------------------------------------------------------------------------


def postgresql_tsquery(parsed: ParsedSearch) -> str:
    """The ``to_tsquery`` input: ``word:*`` for words, a quoted phrase for references.

    Words hold only letters and digits and references only digits and one hyphen, so nothing
    in here can be tsquery syntax; the string is still passed as a parameter, never spliced.
    """
    terms = [f"{word}:*" for word in parsed.words]
    terms += [f"'{reference}'" for reference in parsed.references]
    return " & ".join(terms)


def _postgresql(
    parsed: ParsedSearch, include_internal: bool, open_only: bool = False, within: str = ""
) -> tuple[str, str, tuple]:
    # ``column`` is one of two fixed names; the query text is the parameter. ``is_open``
    # selects the partial GIN indexes of migration 0007 (open tickets only). ``within`` is a
    # query of ticket ids (compiled by Django, its parameters passed before the words').
    column = "document_internal" if include_internal else "document"
    where_open = "is_open AND " if open_only else ""
    if within:
        where_open = f"ticket_id = ANY(ARRAY({within})) AND {where_open}"
    match_sql = f"SELECT ticket_id FROM servicedesk_ticketsearch WHERE {where_open}{column} @@ to_tsquery('swedish', %s)"  # noqa: S608
    rank_sql = f"(SELECT ts_rank(s.{column}, to_tsquery('swedish', %s)) FROM servicedesk_ticketsearch s WHERE s.ticket_id = {{pk}})"  # noqa: S608
    return match_sql, rank_sql, (postgresql_tsquery(parsed),)


# SQLite --------------------------------------------------------------------------------------

# Snowball's Swedish step 1 suffixes, longest first.
_SUFFIXES_TEXT = """
    heterna hetens anden heten heter arnas ernas ornas andes arens andet arna erna orna ande
    arne aste aren ades erns ade are ern ens het ast ad en ar er or as es at a e
"""
_SUFFIXES = sorted(_SUFFIXES_TEXT.split(), key=len, reverse=True)
_VOWELS = set("aeiouyäåö")
_S_ENDING = set("bcdfghjklmnoprtvy")


def light_swedish_stem(word: str) -> str:
    """Cut one inflection suffix (Snowball Swedish step 1) so the rest can be a prefix."""
    r1 = len(word)
    for index in range(1, len(word)):
        if word[index - 1] in _VOWELS and word[index] not in _VOWELS:
            r1 = index + 1
            break
    r1 = max(r1, 3)
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= r1:
            return word[: -len(suffix)]
    if word.endswith("s") and len(word) - 1 >= r1 and word[-2] in _S_ENDING:
        return word[:-1]
    return word


def sqlite_match(parsed: ParsedSearch, include_internal: bool) -> str:
    """The FTS5 MATCH expression: every term double-quoted, so input is never FTS syntax."""
    terms = [f'"{light_swedish_stem(word)}"*' for word in parsed.words]
    terms += [f'"{reference}"' for reference in parsed.references]
    expression = " AND ".join(terms)
    if include_internal:
        return expression
    return "{title description replies} : (" + expression + ")"


def _sqlite(parsed: ParsedSearch, include_internal: bool) -> tuple[str, str, tuple]:
    match_sql = "SELECT rowid FROM servicedesk_ticket_fts WHERE servicedesk_ticket_fts MATCH %s"
    rank_sql = (
        "(SELECT -bm25(servicedesk_ticket_fts, 10.0, 4.0, 1.0, 1.0) FROM servicedesk_ticket_fts "
        "WHERE servicedesk_ticket_fts MATCH %s AND servicedesk_ticket_fts.rowid = {pk})"
    )
    return match_sql, rank_sql, (sqlite_match(parsed, include_internal),)


# SQL that refers to the outer ticket row --------------------------------------------------


class _TicketSQL(Expression):
    """Fixed SQL with ``{pk}`` replaced by the outer query's (correctly aliased) ticket id.

    Unlike RawSQL, this stays right when the queryset becomes a subquery with new aliases.
    User input only ever travels in ``params``.
    """

    def __init__(self, sql: str, params: tuple, output_field: Field) -> None:
        super().__init__(output_field=output_field)
        self.sql, self.params = sql, tuple(params)
        self.pk = F("pk")

    def get_source_expressions(self) -> list:
        return [self.pk]

    def set_source_expressions(self, exprs: list) -> None:
        (self.pk,) = exprs

    def as_sql(self, compiler, connection) -> tuple[str, tuple]:
        pk_sql, pk_params = compiler.compile(self.pk)
        if pk_params:  # a plain column has none; keep the parameter order obviously right
            raise NotSupportedError("The ticket id must compile to a plain column.")
        return self.sql.replace("{pk}", pk_sql), self.params
