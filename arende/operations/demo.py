"""The demo's operations year 2021, from the seed document: two outages of the telephone switch
(answered by buying a rerouting service from Telia), two DDoS attacks stopped by the filters
within minutes, each with its post-incident review and actions; the changes of the year,
among them one that caused a disruption; planned maintenance and blackout periods.

Everything is written through the operations services with fixed times, so the demo is the
same every time, and it is written once: a second run finds the first incident and stops.
No ticket is created here (the service desk's history is its own); when that history exists,
tickets about the telephone switch on the day of an outage are linked as its children.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.db import transaction

from arende.core.demo import world
from arende.core.models import Organisation, User
from arende.operations.models import (
    BlackoutPeriod,
    Change,
    ChangeTemplate,
    MajorIncident,
    StatusPageService,
)
from arende.operations.services import changes as changes
from arende.operations.services import incidents as incidents
from arende.operations.services.maintenance import maintenance_create
from arende.operations.services.problems import problem_create, problem_mark_known_error
from arende.servicedesk.models import Service, SupportGroup, Ticket
from arende.servicedesk.services.tickets import ticket_set_parent

TZ = ZoneInfo("Europe/Stockholm")
# Titles of the history's telephony tickets that read like reports of an outage.
OUTAGE_TITLES = (
    "Vidarekopplingen fungerar inte",
    "Mobilen tar inte emot samtal",
    "Svarsgruppen ringer inte hos alla",
)
FIRST_TITLE = "Avbrott i telefonväxeln"
PHONE, MAIL, NETWORK, INTERNET = (
    "Telefoni och växel",
    "E-post och kalender",
    "Nätverk och wifi",
    "Internet",
)


def at(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=TZ)


def _person(first: str, last: str) -> User | None:
    return User.objects.filter(
        email=world.email_for(first, last, "it.herrljunga.example"), is_active=True
    ).first()


def _services() -> dict[str, Service] | None:
    from arende.core.demo.history import ensure_catalogue
    from arende.core.versioning import audited_create

    first_line = SupportGroup.objects.filter(name="Servicedesk").first()
    if first_line is None:
        return None
    owners = {}
    for group in SupportGroup.objects.filter(line=2):
        member = group.members.order_by("email").first()
        if member is not None:
            owners[group.name] = member
    ensure_catalogue(first_line, owners)
    internet = Service.objects.filter(name=INTERNET).first() or audited_create(
        actor=None,
        instance=Service(
            name=INTERNET,
            description="Kommunernas internetanslutning, brandvägg och skydd mot överbelastning.",
            owner=owners.get("Drift och nätverk"),
            default_group=SupportGroup.objects.filter(name="Drift och nätverk").first(),
            is_public=False,
        ),
        fields=("name", "owner", "default_group", "is_public"),
    )
    found = {
        service.name: service for service in Service.objects.filter(name__in=[PHONE, MAIL, NETWORK])
    }
    found[INTERNET] = internet
    return found if len(found) == 4 else None


def _status_page(services: dict[str, Service]) -> None:
    for position, (name, public) in enumerate(
        [
            (PHONE, "Telefoni och växel"),
            (INTERNET, "Internet"),
            (MAIL, "E-post"),
            (NETWORK, "Nätverk och wifi"),
        ],
        start=1,
    ):
        StatusPageService.objects.get_or_create(
            service=services[name], defaults={"public_name": public, "position": position}
        )


def _link_history_tickets(incident: MajorIncident, service: Service) -> None:
    """Tickets about the service reported on the day of the outage (from the service desk's
    demo history, when it is there): the first becomes the parent, the others its children."""
    day_start = incident.started_at.astimezone(TZ).replace(hour=0, minute=0, second=0)
    tickets = list(
        Ticket.objects.filter(
            service=service,
            created_at__gte=day_start,
            created_at__lt=day_start + datetime.timedelta(days=1),
            parent__isnull=True,
            title__in=OUTAGE_TITLES,
        ).order_by("created_at", "pk")[:4]
    )
    if len(tickets) < 2:
        return
    parent, *children = tickets
    for child in children:
        ticket_set_parent(actor=None, ticket=child, version=None, parent=parent)
    MajorIncident.objects.filter(pk=incident.pk).update(parent_ticket=parent)


def _incident(
    *,
    lead: User | None,
    services: list[Service],
    organisations: list[Organisation],
    title: str,
    public_title: str,
    public_summary: str,
    started: datetime.datetime,
    detected: datetime.datetime,
    mitigated: datetime.datetime,
    resolved: datetime.datetime,
    resolution: str,
    entries: list[tuple[datetime.datetime, str, str, bool]],
    severity: int = 1,
    impact: str = "outage",
    description: str = "",
    security_type: str = "",
    attack_source: str = "",
) -> MajorIncident:
    incident = incidents.major_incident_declare(
        actor=None,
        title=title,
        description=description,
        services=services,
        organisations=organisations,
        severity=severity,
        impact=impact,
        lead=lead,
        public_title=public_title,
        public_summary=public_summary,
        started_at=started,
        detected_at=detected,
        is_security=bool(security_type),
        security_type=security_type,
        attack_source=attack_source,
        at=detected + datetime.timedelta(minutes=2),
        open_parent_ticket=False,
    )
    for moment, kind, body, public in entries:
        incidents.major_incident_add_entry(
            actor=None, incident=incident, kind=kind, body=body, is_public=public, at=moment
        )
    incident = incidents.major_incident_set_status(
        actor=None, incident=incident, version=None, status="mitigated",
        message="Tjänsten fungerar igen. Vi följer upp.", at=mitigated,
    )  # fmt: skip
    return incidents.major_incident_resolve(
        actor=None,
        incident=incident,
        version=None,
        resolution=resolution,
        public_message="Störningen är åtgärdad.",
        at=resolved,
        resolve_tickets=False,
    )


def _review(
    incident: MajorIncident,
    *,
    cause: str,
    worked: str,
    improve: str,
    actions: list[tuple[str, User | None, datetime.date, datetime.datetime | None]],
    completed: datetime.datetime | None,
) -> None:
    review = incident.review
    incidents.review_update(
        actor=None, review=review, version=None, cause=cause, what_worked=worked,
        what_to_improve=improve,
    )  # fmt: skip
    for description, owner, due, done in actions:
        if owner is None:
            continue
        action = incidents.review_action_add(
            actor=None, review=review, description=description, owner=owner, due_date=due
        )
        if done is not None:
            incidents.review_action_set_done(actor=None, action=action, at=done)
    if completed is not None:
        incidents.review_complete(actor=None, review=review, version=None, at=completed)


def _change(
    *,
    requester: User | None,
    approvers: list[User | None],
    title: str,
    type: str,
    description: str,
    reason: str,
    services: list[Service],
    organisations: list[Organisation],
    start: datetime.datetime,
    hours: float,
    systems: str = "",
    risk: dict[str, bool] | None = None,
    template: ChangeTemplate | None = None,
    outcome: str = "successful",
    notes: str = "Genomfört enligt plan.",
    review_notes: str = "",
    caused: list[MajorIncident] | None = None,
    start_before_approval: bool = False,
) -> Change:
    end = start + datetime.timedelta(hours=hours)
    change = changes.change_create(
        actor=None,
        title=title,
        type=type,
        template=template,
        description=description,
        reason=reason,
        organisations=organisations,
        services=services,
        systems=systems,
        risk_answers=risk or {},
        planned_start=start,
        planned_end=end,
        implementation_plan=""
        if template
        else "Enligt bifogad checklista; testsamtal/testflöde efteråt.",
        backout_plan="" if template else "Återställ föregående konfiguration från säkerhetskopian.",
        implementer=requester,
        at=start - datetime.timedelta(days=8),
    )
    Change.objects.filter(pk=change.pk).update(requester=requester)
    submitted = start - datetime.timedelta(days=7) if not start_before_approval else start
    change = changes.change_submit(actor=None, change=change, version=None, at=submitted)
    if start_before_approval:
        change = changes.change_start(actor=None, change=change, version=None, at=start)
    for number, approver in enumerate(a for a in approvers if a is not None):
        if change.approved_at is not None:
            break
        moment = (
            end + datetime.timedelta(hours=1 + number)
            if start_before_approval
            else submitted + datetime.timedelta(days=1 + number)
        )
        change = changes.change_decide(actor=approver, change=change, approve=True, at=moment)
    if change.status == Change.Status.APPROVED:
        change = changes.change_schedule(actor=None, change=change, version=None)
        change = changes.change_start(actor=None, change=change, version=None, at=start)
    change = changes.change_implement(
        actor=None, change=change, version=None, notes=notes, actual_start=start, actual_end=end
    )
    return changes.change_review(
        actor=None, change=change, version=None, outcome=outcome, notes=review_notes,
        incidents=caused or [], at=end + datetime.timedelta(days=2),
    )  # fmt: skip


@transaction.atomic
def seed_operations_demo() -> bool:
    """Write the operations year 2021 once; False when it is there already or cannot be."""
    if MajorIncident.objects.filter(title=FIRST_TITLE).exists():
        return False
    herrljunga = Organisation.objects.filter(short_name="Herrljunga").first()
    vargarda = Organisation.objects.filter(short_name="Vårgårda").first()
    services = _services() if herrljunga and vargarda else None
    if services is None:
        return False
    both = [herrljunga, vargarda]
    _status_page(services)
    anna, sara = _person("Anna", "Sjöberg"), _person("Sara", "Lindqvist")
    peter, johan = _person("Peter", "Dahl"), _person("Johan", "Berg")
    phone, mail, internet = services[PHONE], services[MAIL], services[INTERNET]

    BlackoutPeriod.objects.get_or_create(
        name="Skolstart",
        defaults={
            "reason": "Inga förändringar i nät och system när skolorna startar.",
            "starts_at": at(2021, 8, 16),
            "ends_at": at(2021, 8, 21),
        },
    )
    BlackoutPeriod.objects.get_or_create(
        name="Bokslut och årsskifte",
        defaults={
            "reason": "Ekonomisystem och löner ska vara stabila vid bokslutet.",
            "starts_at": at(2021, 12, 20),
            "ends_at": at(2022, 1, 11),
        },
    )
    template_group = ChangeTemplate.objects.get_or_create(
        name="Ny svarsgrupp i växeln",
        defaults={
            "description": "En ny svarsgrupp eller ändrade medlemmar i en befintlig.",
            "implementation_plan": "Lägg upp svarsgruppen i växelns administration; testsamtal.",
            "backout_plan": "Ta bort svarsgruppen; samtalen går till växeln som förut.",
        },
    )[0]
    template_group.services.add(phone)

    # The first outage of the telephone switch.
    first = _incident(
        lead=anna,
        services=[phone],
        organisations=both,
        title=FIRST_TITLE,
        description="Inga inkommande samtal når kommunernas växelnummer. Operatörens plattform svarar inte.",
        public_title="Störning i telefoni och växel",
        public_summary="Det går inte att ringa till kommunernas växelnummer. Direktnummer och mobiler fungerar.",
        started=at(2021, 3, 9, 8, 5),
        detected=at(2021, 3, 9, 8, 12),
        mitigated=at(2021, 3, 9, 11, 40),
        resolved=at(2021, 3, 9, 14, 0),
        resolution="Operatören har bytt en trasig nod i växelplattformen. Samtal kopplas som vanligt igen.",
        entries=[
            (
                at(2021, 3, 9, 8, 20),
                "update",
                "Vi felsöker ett fel som gör att samtal till växeln inte kommer fram.",
                True,
            ),
            (
                at(2021, 3, 9, 8, 35),
                "action",
                "Felanmälan till Telia, ärende hos operatören öppnat.",
                False,
            ),
            (
                at(2021, 3, 9, 9, 10),
                "decision",
                "Receptionen hänvisar till direktnummer på webben och intranätet.",
                False,
            ),
            (
                at(2021, 3, 9, 9, 15),
                "update",
                "Ring direktnummer eller mobil under tiden. Numren finns på kommunens webbplats.",
                True,
            ),
        ],
    )
    _review(
        first,
        cause="Hårdvarufel i en nod i operatörens växelplattform. Det fanns ingen reservväg för inkommande samtal.",
        worked="Snabb information på webben och intranätet; receptionen hänvisade till direktnummer.",
        improve="Reservväg för inkommande samtal saknas; felanmälan till operatören tog 20 minuter.",
        actions=[
            (
                "Utred omstyrningstjänst för inkommande samtal",
                sara,
                datetime.date(2021, 4, 15),
                at(2021, 4, 12, 10),
            ),
            (
                "Rutin för felanmälan till operatören i växelns driftpärm",
                anna,
                datetime.date(2021, 3, 31),
                at(2021, 3, 29, 9),
            ),
        ],
        completed=at(2021, 3, 17, 15, 0),
    )
    _link_history_tickets(first, phone)

    # The first DDoS attack, stopped by the filters in three minutes.
    ddos_one = _incident(
        lead=anna,
        services=[internet],
        organisations=both,
        title="DDoS-attack mot kommunernas internetanslutning",
        description="Överbelastningsattack mot brandväggens publika adresser; operatörens filter slog till.",
        public_title="Kortvarig störning i internetanslutningen",
        public_summary="Internet och kommunernas webbplatser var långsamma under några minuter.",
        started=at(2021, 2, 16, 10, 21),
        detected=at(2021, 2, 16, 10, 22),
        mitigated=at(2021, 2, 16, 10, 25),
        resolved=at(2021, 2, 16, 10, 50),
        resolution="Operatörens DDoS-filter stoppade trafiken; normal drift sedan 10:25.",
        severity=2,
        impact="degraded",
        security_type="ddos",
        attack_source="Botnät, UDP-reflektion mot brandväggens publika adresser (ca 12 Gbit/s)",
        entries=[
            (
                at(2021, 2, 16, 10, 23),
                "action",
                "Larm från brandväggen; trafiken kontrollerad hos operatören.",
                False,
            ),
            (
                at(2021, 2, 16, 10, 25),
                "update",
                "Internetanslutningen fungerar normalt igen.",
                True,
            ),
        ],
    )
    _review(
        ddos_one,
        cause="Överbelastningsattack (DDoS) från ett botnät mot brandväggens publika adresser.",
        worked="Operatörens filter stoppade attacken inom tre minuter; larmet gick direkt.",
        improve="Avtalet om DDoS-skydd behöver ses över så att skyddet täcker alla adresser.",
        actions=[
            (
                "Se över avtalet om DDoS-skydd med operatören",
                peter,
                datetime.date(2021, 3, 31),
                at(2021, 3, 24, 14),
            )
        ],
        completed=at(2021, 2, 19, 11, 0),
    )

    # A standard change.
    _change(
        requester=johan, approvers=[], template=template_group, type="standard",
        title="Ny svarsgrupp i växeln för Vårgårda socialtjänst",
        description="Svarsgrupp för socialtjänstens mottagning.", reason="Beställning från förvaltningen.",
        services=[phone], organisations=[vargarda], start=at(2021, 4, 13, 15), hours=1,
    )  # fmt: skip

    # The second outage of the telephone switch: its review came late.
    second = _incident(
        lead=anna,
        services=[phone],
        organisations=both,
        title="Nytt avbrott i telefonväxeln",
        description="Samtal till växeln bryts efter några sekunder. Samma plattform som i mars.",
        public_title="Störning i telefoni och växel",
        public_summary="Samtal till växeln bryts. Ring direktnummer eller mobil under tiden.",
        started=at(2021, 5, 27, 13, 5),
        detected=at(2021, 5, 27, 13, 9),
        mitigated=at(2021, 5, 27, 13, 50),
        resolved=at(2021, 5, 27, 16, 30),
        resolution="Operatören har startat om samtalsstyrningen. Samtal kopplas som vanligt igen.",
        entries=[
            (
                at(2021, 5, 27, 13, 15),
                "update",
                "Samtal till växeln bryts. Vi arbetar med operatören.",
                True,
            ),
            (
                at(2021, 5, 27, 13, 30),
                "decision",
                "IT-chefen beslutar att upphandla en omstyrningstjänst så att samtal kan styras om vid nästa avbrott.",
                False,
            ),
        ],
    )
    _review(
        second,
        cause="Fel i operatörens samtalsstyrning; andra avbrottet på samma plattform i år.",
        worked="Information ute inom tio minuter; operatören åtgärdade på 45 minuter.",
        improve="Vi behöver kunna styra om samtal själva när operatörens plattform fallerar.",
        actions=[
            (
                "Köp omstyrningstjänst av telefoni från Telia",
                sara,
                datetime.date(2021, 6, 30),
                at(2021, 6, 21, 9),
            )
        ],
        completed=at(2021, 6, 15, 10, 0),
    )
    _link_history_tickets(second, phone)

    # The answer: the rerouting service, bought from Telia and put in place.
    _change(
        requester=johan, approvers=[peter, sara], type="normal",
        title="Införande av omstyrningstjänst för telefoni (Telia)",
        description="Omstyrning av kommunernas växelnummer till mobilsvar och reservnummer vid avbrott.",
        reason="Två avbrott i växeln under våren 2021.",
        services=[phone], organisations=both, start=at(2021, 6, 22, 18), hours=2,
        systems="Telias växelplattform\nOmstyrningsportalen", risk={"many_users": True, "critical_service": True},
        review_notes="Omstyrningen testad med testsamtal till båda kommunernas växelnummer.",
    )  # fmt: skip

    # The second DDoS attack; the filters were tightened as an emergency change.
    ddos_two = _incident(
        lead=anna,
        services=[internet],
        organisations=both,
        title="Ny DDoS-attack mot internetanslutningen",
        description="Ny överbelastningsattack, nu mot webbplatsernas adresser.",
        public_title="Kortvarig störning i internetanslutningen",
        public_summary="Kommunernas webbplatser var svåra att nå under några minuter.",
        started=at(2021, 9, 22, 14, 3),
        detected=at(2021, 9, 22, 14, 3),
        mitigated=at(2021, 9, 22, 14, 6),
        resolved=at(2021, 9, 22, 14, 30),
        resolution="Filtren stoppade attacken; filterreglerna skärptes.",
        severity=2,
        impact="degraded",
        security_type="ddos",
        attack_source="Botnät, SYN-flod mot webbplatsernas adresser",
        entries=[(at(2021, 9, 22, 14, 6), "update", "Webbplatserna fungerar normalt igen.", True)],
    )
    _review(
        ddos_two,
        cause="Överbelastningsattack (DDoS) mot webbplatsernas publika adresser.",
        worked="Filtren stoppade attacken inom tre minuter.",
        improve="Incident Manager bör larmas automatiskt när filtren slår till.",
        actions=[
            (
                "Larma Incident Manager automatiskt när DDoS-filtren slår till",
                peter,
                datetime.date(2021, 10, 29),
                None,
            )
        ],
        completed=at(2021, 9, 24, 9, 0),
    )
    _change(
        requester=peter, approvers=[sara], type="emergency",
        title="Skärpta DDoS-filter hos operatören",
        description="Lägre tröskelvärden och geoblockering i operatörens DDoS-filter.",
        reason="Pågående attack mot webbplatserna.", services=[internet], organisations=both,
        start=at(2021, 9, 22, 14, 10), hours=0.5, start_before_approval=True,
        risk={"many_users": True, "critical_service": True, "untested": True},
        review_notes="Filtren har inte stoppat legitim trafik.",
    )  # fmt: skip

    # The change that caused a disruption: a certificate on the mail gateway.
    mail_change_start = at(2021, 10, 5, 18)
    mail_incident = _incident(
        lead=anna,
        services=[mail],
        organisations=both,
        title="E-post från externa avsändare kommer inte fram",
        description="Gatewayen avvisar TLS-anslutningar efter certifikatbytet kvällen innan.",
        public_title="Störning i e-posten",
        public_summary="E-post från andra organisationer kommer fram med fördröjning.",
        started=at(2021, 10, 6, 6, 30),
        detected=at(2021, 10, 6, 7, 30),
        mitigated=at(2021, 10, 6, 9, 10),
        resolved=at(2021, 10, 6, 10, 0),
        resolution="Certifikatkedjan kompletterad på e-postgatewayen; köade meddelanden levererade.",
        severity=2,
        entries=[
            (at(2021, 10, 6, 7, 45), "update", "E-post utifrån är försenad. Vi felsöker.", True)
        ],
    )
    _review(
        mail_incident,
        cause="Certifikatbytet på e-postgatewayen saknade mellanliggande certifikat.",
        worked="Köade meddelanden gick inte förlorade.",
        improve="Testa TLS utifrån efter varje certifikatbyte (ingår nu i checklistan).",
        actions=[
            (
                "Lägg till test av TLS utifrån i checklistan för certifikatbyte",
                peter,
                datetime.date(2021, 10, 15),
                at(2021, 10, 12, 13),
            )
        ],
        completed=at(2021, 10, 11, 16, 0),
    )
    _change(
        requester=johan, approvers=[peter], type="normal",
        title="Byte av certifikat på e-postgatewayen",
        description="Det utgående certifikatet ersätts med ett nytt.", reason="Certifikatet löper ut 2021-10-10.",
        services=[mail], organisations=both, start=mail_change_start, hours=1,
        systems="E-postgateway", outcome="caused_disruption",
        review_notes="Mellanliggande certifikat saknades; e-post utifrån försenades morgonen efter.",
        caused=[mail_incident],
    )  # fmt: skip
    problem = problem_create(
        actor=None, title="Certifikatbyten saknar test av hela kedjan", organisations=both,
        services=[mail], owner=peter, major_incidents=[mail_incident], at=at(2021, 10, 7, 9),
    )  # fmt: skip
    problem_mark_known_error(
        actor=None, problem=problem, version=None,
        root_cause="Checklistan för certifikatbyte saknade kontroll av mellanliggande certifikat.",
        workaround="Kontrollera kedjan med en extern TLS-test efter bytet; komplettera kedjan vid fel.",
    )  # fmt: skip
    switch_problem = problem_create(
        actor=None, title="Växelplattformen saknar reservväg", organisations=both,
        services=[phone], owner=sara, major_incidents=[first, second], at=at(2021, 5, 28, 9),
    )  # fmt: skip
    problem_mark_known_error(
        actor=None, problem=switch_problem, version=None,
        root_cause="Operatörens växelplattform har en enda samtalsstyrning utan reservväg.",
        workaround="Styr om växelnumret till mobilsvar i omstyrningsportalen (sedan juni 2021).",
    )  # fmt: skip

    # Planned maintenance, counted apart from the downtime.
    upgrade = _change(
        requester=johan, approvers=[peter, sara], type="normal",
        title="Uppgradering av växelns programvara",
        description="Ny programversion i växelplattformen.", reason="Leverantörens säkerhetsrättningar.",
        services=[phone], organisations=both, start=at(2021, 11, 16, 18), hours=3,
        systems="Telias växelplattform", risk={"many_users": True, "critical_service": True},
    )  # fmt: skip
    maintenance_create(
        actor=None, title="Uppgradering av växeln", services=[phone], organisations=both,
        starts_at=at(2021, 11, 16, 18), ends_at=at(2021, 11, 16, 21), change=upgrade,
        public_description="Växeln kan vara otillgänglig korta stunder under kvällen.",
        internal_note="Leverantören på plats; Johan Berg jourhavande.",
    )  # fmt: skip
    maintenance_create(
        actor=None, title="Servicefönster för e-posten", services=[mail], organisations=both,
        starts_at=at(2021, 4, 20, 19), ends_at=at(2021, 4, 20, 21),
        public_description="E-posten kan vara långsam under kvällen.",
    )  # fmt: skip
    return True
