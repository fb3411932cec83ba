"""What the service desk does to stay fast at a million tickets, and that nothing is lost by it.

The timings themselves are measured in ``make bench`` (bench/run.py), not here. These tests pin
down the behaviour the speed work must keep: searches find every match (the open-ticket index
agrees with the full one), counts are honest (capped counts say so), the filter form loads
lazily with and without JavaScript, the Python-written rows and widgets produce the same HTML
as the templates did, and pages issue the same number of queries whatever the data.
"""

from __future__ import annotations

import re

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from arende.core.tests.factories import OrganisationFactory, UserFactory, grant
from arende.servicedesk import services
from arende.servicedesk.api.tickets import TicketPagination
from arende.servicedesk.forms import use_fast_selects
from arende.servicedesk.models import Ticket
from arende.servicedesk.search import rank_search, search_tickets
from arende.servicedesk.selectors import (
    OPEN_STATUSES,
    QUEUES,
    _queue_condition,
    capped_count,
    desk_tickets,
    queue_counts,
)
from arende.servicedesk.tests.factories import SupportGroupFactory
from arende.servicedesk.views import agent as agent_views

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"
QUEUE = "/desk/"


@pytest.fixture
def desk():
    herrljunga = OrganisationFactory(name="Herrljunga")
    it = OrganisationFactory(kind="joint_board", org_number="")
    agent = grant(UserFactory(organisation=it, language="en", first_name="Erik"), "agent")
    group = SupportGroupFactory(name="Servicedesk", line=1, members=[agent])
    requester = grant(
        UserFactory(organisation=herrljunga, language="en", first_name="Astrid"),
        "requester",
        herrljunga,
    )
    return dict(agent=agent, group=group, requester=requester, herrljunga=herrljunga)


def _ticket(desk, title="Skrivaren skriver inte ut", **kwargs) -> Ticket:
    return services.ticket_create(
        actor=desk["requester"],
        channel="portal",
        title=title,
        requester=desk["requester"],
        **kwargs,
    )


def _resolve(desk, ticket: Ticket) -> Ticket:
    ticket = Ticket.objects.get(pk=ticket.pk)
    services.ticket_assign(
        actor=desk["agent"], ticket=ticket, version=ticket.version, assignee=desk["agent"]
    )
    ticket = Ticket.objects.get(pk=ticket.pk)
    services.ticket_resolve(
        actor=desk["agent"], ticket=ticket, version=ticket.version, resolution="Klart"
    )
    return Ticket.objects.get(pk=ticket.pk)


def _flags() -> dict[int, bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT ticket_id, is_open FROM servicedesk_ticketsearch")
        return dict(cursor.fetchall())


# Search: every match, whichever index -----------------------------------------------------------


def test_open_only_search_finds_exactly_the_open_matches(desk):
    printers = [_ticket(desk, f"Skrivaren {n} skriver inte ut") for n in range(4)]
    _ticket(desk, "Datorn startar inte")
    resolved = _resolve(desk, printers[0])
    reopened = _resolve(desk, printers[1])
    services.ticket_reopen(actor=desk["requester"], ticket=reopened, reason="Fortfarande trasig")
    open_tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)

    everywhere = set(search_tickets(open_tickets, "skrivaren"))
    open_only = set(search_tickets(open_tickets, "skrivaren", open_only=True))

    assert open_only == everywhere == {printers[1], printers[2], printers[3]}
    assert resolved not in open_only
    assert set(search_tickets(Ticket.objects.all(), "skrivaren")) == set(printers)


@pytest.mark.skipif(not POSTGRES, reason="the open flag lives in PostgreSQL's search table")
def test_the_index_knows_which_tickets_are_open_through_every_change(desk):
    ticket = _ticket(desk)
    other = _ticket(desk, "Datorn startar inte")
    assert _flags() == {ticket.pk: True, other.pk: True}
    ticket = _resolve(desk, ticket)
    assert _flags() == {ticket.pk: False, other.pk: True}
    services.ticket_reopen(actor=desk["requester"], ticket=ticket, reason="Nej")
    assert _flags() == {ticket.pk: True, other.pk: True}
    # A bulk status change (one statement for many tickets) is followed as well.
    Ticket.objects.filter(pk__in=[ticket.pk, other.pk]).update(status=Ticket.Status.CANCELLED)
    assert _flags() == {ticket.pk: False, other.pk: False}
    for row in Ticket.objects.all():
        assert _flags()[row.pk] == (row.status in OPEN_STATUSES)


def test_ranking_afterwards_is_the_same_as_ranking_at_once(desk):
    in_title = _ticket(desk, "Routern på kontoret", description="Ingen anslutning.")
    in_text = _ticket(desk, "Nätverket", description="Routern blinkar rött.")
    open_tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)
    at_once = list(search_tickets(open_tickets, "routern"))
    afterwards = list(
        rank_search(
            search_tickets(open_tickets, "routern", ranked=False, open_only=True), "routern"
        )
    )
    assert at_once == afterwards == [in_title, in_text]


def test_the_queue_search_ranks_a_few_matches_and_lists_many_newest_first(
    client, desk, monkeypatch
):
    client.force_login(desk["agent"])
    in_text = _ticket(desk, "Utskrifter", description="Skrivaren på plan 3 är trasig.")
    in_title = _ticket(desk, "Skrivaren på plan 2", description="Den skriver inte.")
    response = client.get(QUEUE, {"queue": "open", "q": "skrivaren"})
    assert [t.pk for t in response.context["page_obj"]] == [in_title.pk, in_text.pk]
    assert response.context["search_order"] == "rank"

    newer = [_ticket(desk, f"Skrivaren {n}") for n in range(3)]
    monkeypatch.setattr(agent_views, "LIST_COUNT_CAP", 3)  # more matches than the cap
    response = client.get(QUEUE, {"queue": "open", "q": "skrivaren"})
    listed = [t.pk for t in response.context["page_obj"]]
    # Newest first among *all* matches (the list is never cut to a subset before ordering);
    # like every list, it offers the first `cap` rows and says that there are more.
    assert listed == [t.pk for t in reversed(newer)]
    assert response.context["search_order"] == "newest"
    assert response.context["page_obj"].paginator.is_capped
    text = response.content.decode()
    assert "More than 3 tickets" in text
    assert "Newest first" in text


def test_a_search_that_matches_nothing_says_so(client, desk):
    client.force_login(desk["agent"])
    _ticket(desk)
    response = client.get(QUEUE, {"queue": "open", "q": "brandväggen"})
    assert list(response.context["page_obj"]) == []
    assert "No tickets match the search and filters." in response.content.decode()


# Counts ------------------------------------------------------------------------------------------


def test_queue_counts_in_one_query_match_counting_each_queue(desk):
    mine = _ticket(desk)
    services.ticket_assign(actor=desk["agent"], ticket=mine, version=1, assignee=desk["agent"])
    _ticket(desk, "Ny dator")
    _resolve(desk, _ticket(desk, "Gammal"))
    with CaptureQueriesContext(connection) as queries:
        counts = queue_counts(desk["agent"])
    count_queries = [q for q in queries.captured_queries if "count(" in q["sql"].lower()]
    assert len(count_queries) == 1
    tickets = desk_tickets(desk["agent"])
    now = timezone.now()
    one_by_one = {
        queue.key: capped_count(tickets.filter(_queue_condition(queue.key, desk["agent"], now)))
        for queue in QUEUES
    }
    assert counts == one_by_one
    assert (counts["mine"], counts["open"], counts["resolved"]) == (1, 2, 1)


def test_a_user_without_organisations_counts_zero_everywhere(desk):
    nobody = UserFactory(organisation=desk["herrljunga"])
    assert set(queue_counts(nobody).values()) == {0}


def test_the_api_count_stops_at_its_cap_and_says_so(client, desk, monkeypatch):
    client.force_login(desk["agent"])
    created = [_ticket(desk, f"Ärende {n}") for n in range(5)]
    response = client.get("/api/tickets/", {"limit": 2})
    assert response.json()["count"] == 5
    assert response.json()["count_is_capped"] is False

    monkeypatch.setattr(TicketPagination, "COUNT_CAP", 3)
    seen, url = [], "/api/tickets/?limit=2"
    while url:
        body = client.get(url).json()
        assert body["count_is_capped"] == (body["count"] < 5)
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(t.pk for t in created)  # paging goes on past the cap


# The filter form, lazily --------------------------------------------------------------------------


def test_the_filter_form_is_fetched_when_needed(client, desk):
    client.force_login(desk["agent"])
    _ticket(desk)
    page = client.get(QUEUE, {"queue": "open", "q": "skrivaren"}).content.decode()
    assert 'id="id_group"' not in page  # not rendered with the page...
    link = re.search(r'<a href="(/desk/filters/\?[^"]*)">', page).group(1)
    assert "queue=open" in link and "q=skrivaren" in link
    assert 'hx-get="/desk/filters/?' in page and 'hx-trigger="toggle once' in page

    # ... with HTMX: only the fields, to go into the queue's own form.
    fragment = client.get(link.replace("&amp;", "&"), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="id_group"' in fragment and "<html" not in fragment
    assert "<form" not in fragment

    # ... without JavaScript: a page of its own that submits to the queue, search kept.
    full = client.get(link.replace("&amp;", "&")).content.decode()
    assert "<html" in full and 'id="id_group"' in full
    assert f'action="{QUEUE}"' in full
    assert 'name="queue" value="open"' in full and 'value="skrivaren"' in full


def test_active_filters_are_shown_with_the_page(client, desk):
    client.force_login(desk["agent"])
    page = client.get(QUEUE, {"queue": "open", "priority": 1}).content.decode()
    assert 'id="id_group"' in page and 'id="id_priority"' in page
    assert '<details class="filters" open>' in page


def test_the_filter_page_is_for_the_desk_only(client, desk):
    client.force_login(desk["requester"])
    assert client.get("/desk/filters/").status_code == 403


# The same HTML, written in Python ------------------------------------------------------------------


class _Everything(forms.Form):
    choice = forms.ChoiceField(
        choices=[("", "–"), ("Frukt", [("a", "Äpple & päron")]), ("b", '"Banan"')],
        initial="a",
    )
    text = forms.CharField(initial="<b>fet</b>", widget=forms.TextInput(attrs={"x": True}))
    hidden = forms.IntegerField(initial=3, widget=forms.HiddenInput)
    email = forms.EmailField(required=False)
    number = forms.IntegerField(required=False)
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    body = forms.CharField(initial="rad 1\n<rad 2>", widget=forms.Textarea(attrs={"rows": 2}))


def _normalised(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", str(html))).strip()


@pytest.mark.parametrize("bound", [False, True])
def test_fast_widgets_write_what_the_django_templates_write(bound):
    data = {"choice": "b", "text": "x<y", "hidden": "4", "body": "hej", "day": "2026-01-02"}
    django_form = _Everything(data if bound else None)
    fast_form = _Everything(data if bound else None)
    use_fast_selects(fast_form)
    for name in django_form.fields:
        assert type(fast_form.fields[name].widget) is not type(django_form.fields[name].widget)
        assert _normalised(fast_form[name]) == _normalised(django_form[name]), name


class _People(forms.Form):
    group = forms.ModelChoiceField(queryset=None, empty_label="– alla –", required=False)
    required_group = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from arende.servicedesk.models import SupportGroup

        for field in self.fields.values():
            field.queryset = SupportGroup.objects.order_by("name")


@pytest.mark.parametrize("bound", [False, True])
def test_fast_model_selects_write_what_the_django_templates_write(desk, bound):
    other = SupportGroupFactory(name='Drift & "nät" <2>', line=2)
    data = {"group": str(other.pk), "required_group": str(desk["group"].pk)}
    django_form = _People(data if bound else None)
    fast_form = _People(data if bound else None)
    use_fast_selects(fast_form)
    for name in django_form.fields:
        fast, slow = _normalised(fast_form[name]), _normalised(django_form[name])
        assert fast == slow, name
    if bound:
        chosen = f'<option value="{other.pk}" selected>Drift &amp; &quot;nät&quot; &lt;2&gt;'
        assert chosen in str(fast_form["group"])


class _Labelled(forms.Form):
    name = forms.CharField(label='Namn & "titel"', help_text="Hjälp <b>text</b>", max_length=5)
    note = forms.CharField(label="Anteckning", required=False)
    kind = forms.ChoiceField(label="Typ", choices=[("a", "A"), ("b", "B")], required=False)


@pytest.mark.parametrize("data", [None, {"name": "<för långt>", "kind": "x"}])
def test_field_row_writes_what_the_field_template_writes(data):
    from django.template.loader import render_to_string

    from arende.core.templatetags.arende import field_row

    form = _Labelled(data)
    use_fast_selects(form)
    for field in form:
        expected = render_to_string("servicedesk/agent/_field.html", {"field": field})
        assert _normalised(field_row(field)) == _normalised(expected), field.name
    if data:
        assert "field--invalid" in field_row(form["name"])


def test_queue_rows_are_escaped_and_complete(client, desk):
    client.force_login(desk["agent"])
    ticket = _ticket(desk, "<script>alert(1)</script> & skrivare", kind="question")
    page = client.get(QUEUE, {"queue": "open"}).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; skrivare" in page
    row = re.search(r"<tr>(?:(?!</tr>).)*" + re.escape(ticket.reference) + ".*?</tr>", page, re.S)
    assert row, "the ticket has a row"
    row = row.group(0)
    assert f'value="{ticket.pk}:{ticket.version}"' in row
    assert f'href="/desk/{ticket.reference}/"' in row
    assert desk["requester"].get_full_name() in row, row
    assert desk["herrljunga"].short_name in row and "Question" in row
    local = timezone.localtime(ticket.created_at)
    assert f'<time datetime="{local.isoformat()}"><span>{local:%Y-%m-%d}</span>' in row


# Query counts ----------------------------------------------------------------------------------


def _count(client, url: str, **headers) -> int:
    """Queries of a page in the steady state (after a first view has filled the caches)."""
    client.get(url, **headers)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(queries)


def test_search_and_filter_pages_do_not_grow_with_the_data(client, desk):
    client.force_login(desk["agent"])
    _ticket(desk)
    _resolve(desk, _ticket(desk))  # something in every list, so that each page has rows
    urls = [
        "/desk/?queue=open&q=skrivaren",
        "/desk/?queue=resolved&q=skrivaren",
        "/desk/?queue=open&q=skrivaren&sort=priority",
        "/desk/filters/?queue=open",
        "/api/tickets/?limit=50",
    ]
    few = [_count(client, url) for url in urls]
    for number in range(20):
        ticket = _ticket(desk, f"Skrivaren {number}", kind="question" if number % 2 else "incident")
        if number % 3 == 0:
            services.ticket_assign(
                actor=desk["agent"], ticket=ticket, version=1, assignee=desk["agent"]
            )
        if number % 4 == 0:
            _resolve(desk, ticket)
    many = [_count(client, url) for url in urls]
    assert many == few, f"{few} queries with little data, {many} with more"


def test_the_planned_api_representation_is_drfs(desk, rf):
    from rest_framework import serializers
    from rest_framework.request import Request

    from arende.servicedesk.api.serializers import (
        RequesterTicketSerializer,
        StaffTicketDetailSerializer,
        StaffTicketSerializer,
    )

    plain = _ticket(desk, description="Hej", kind="request", custom_fields={"rum": "B12"})
    contact = services.ticket_create(
        actor=desk["agent"],
        channel="phone",
        title="Samtal",
        contact_name="Okänd",
        organisation=desk["herrljunga"],
    )
    services.ticket_set_watching(
        actor=desk["agent"], ticket=plain, user=desk["agent"], watching=True
    )
    merged = _ticket(desk, "Dubblett")
    services.ticket_merge(actor=desk["agent"], source=merged, target=plain)
    resolved = _resolve(desk, _ticket(desk, "Löst"))
    request = Request(rf.get("/api/tickets/"))
    request.user = desk["agent"]
    for serializer_class in (
        RequesterTicketSerializer,
        StaffTicketSerializer,
        StaffTicketDetailSerializer,
    ):
        serializer = serializer_class(context={"request": request})
        for ticket in Ticket.objects.filter(pk__in=[plain.pk, contact.pk, merged.pk, resolved.pk]):
            expected = serializers.ModelSerializer.to_representation(serializer, ticket)
            assert serializer.to_representation(ticket) == expected
            assert list(serializer.to_representation(ticket)) == list(expected)
            assert expected["status_label"] == str(ticket.get_status_display())


def test_the_open_index_uses_the_same_open_statuses_as_the_queues():
    """A new open status needs a migration that updates the trigger's list (see 0007),
    or open-queue searches on PostgreSQL would miss the tickets in it."""
    import importlib

    migration = importlib.import_module("arende.servicedesk.migrations.0007_ticket_search_open")
    index_statuses = set(re.findall(r"'([a-z_]+)'", migration.OPEN_STATUSES))
    assert index_statuses == set(OPEN_STATUSES)
    assert set(OPEN_STATUSES) == {
        value for value, _label in Ticket.Status.choices if value not in Ticket.CLOSED_STATUSES
    }
