"""A year of service-desk history for the demo: the backlog that went from 400 to 130.

The seed document's story: about 400 open tickets at the board meeting in spring 2021 and about
130 at the one of 2021-10-20; praised for quality in first line, weaker on what first line cannot
solve. This module makes that history, in two steps:

1. **Plan** (pure Python, seeded random, so the same every time): every working day brings 20–30
   tickets (fewer in July, more when schools start in August). About two in three are solved by
   the first line within hours or days; the rest are escalated to a second-line group, whose
   daily output is steered so that the total backlog follows the story's curve (up to ~400 in
   April, down to ~130 by 2021-10-20).
2. **Write** it, in one transaction, two ways:
   - tickets still open at the end, and those of the last two weeks, are **replayed through the
     ticket services** (``ticket_create`` with ``created_at``, then approve, assign, escalate,
     set status, resolve, close, rate, cancel), with their audit trail;
   - the older, finished tickets (about 95 %) are written by ``BulkWriter``: the same ticket,
     line-span, timeline and rating rows the services write, field for field (a test replays
     the same plans both ways and compares every row), in a few bulk inserts. Through the
     services a year took about five minutes on SQLite; this way the whole ``seed_demo`` takes
     about 20 seconds. One audit event records the import.

The services stamp their later steps with the current time, so after each call ``Backdater``
moves what that call wrote "now" (timeline entries, line spans, the ticket's escalated /
resolved / closed / updated times, the rating) to the planned moment with plain UPDATEs.
Together with ``BulkWriter`` this is the ONE place in Ärende where ticket rows are written
outside a service: a history import, where the services' "now" is the wrong clock. The audit
log is append-only and keeps the real time of the import, which is the truth about when these
rows were written.

Finally the daily backlog snapshots are taken for every day of the period with the same service
the nightly job uses.
"""

from __future__ import annotations

import bisect
import datetime
import random
import time
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from arende.core import services as core_services
from arende.core.audit import audit_record
from arende.core.demo import world
from arende.core.demo.history_catalogue import (
    JOB_TITLES,
    KINDS,
    NEW_EMPLOYEE_FIELDS,
    NEW_PHONE_FIELDS,
    RATING_COMMENTS,
    SYSTEMS,
    Kind,
)
from arende.core.models import Department, Organisation, Role, User
from arende.core.versioning import audited_create
from arende.servicedesk.models import (
    Category,
    LineSpan,
    RequestType,
    SatisfactionRating,
    Service,
    SupportGroup,
    Ticket,
    TicketActivity,
    TicketCounter,
)
from arende.servicedesk.services import tickets as services
from arende.servicedesk.services.snapshots import backlog_snapshots_take
from arende.sla.demo import ensure_sla_configuration
from arende.sla.services import clocks_recompute, status_spans_rebuild

HISTORY_START = datetime.date(2021, 1, 1)
HISTORY_END = datetime.date(2021, 11, 26)
ZONE = zoneinfo.ZoneInfo(settings.TIME_ZONE)

# Swedish public holidays (and the days everyone takes) in the demo's years.
HOLIDAYS = {
    datetime.date(*day)
    for day in [
        (2020, 12, 24), (2020, 12, 25), (2020, 12, 31),
        (2021, 1, 1), (2021, 1, 6), (2021, 4, 2), (2021, 4, 5), (2021, 5, 13),
        (2021, 6, 25), (2021, 12, 24), (2021, 12, 31),
    ]
}  # fmt: skip

# The story's backlog (all organisations): (day, open tickets at the end of the day).
STORY = [
    (datetime.date(2021, 1, 1), 235),
    (datetime.date(2021, 2, 15), 300),
    (datetime.date(2021, 3, 31), 385),
    (datetime.date(2021, 4, 23), 408),
    (datetime.date(2021, 5, 20), 392),
    (datetime.date(2021, 6, 23), 312),
    (datetime.date(2021, 7, 30), 318),
    (datetime.date(2021, 8, 20), 292),
    (datetime.date(2021, 9, 20), 200),
    (datetime.date(2021, 10, 20), 130),
    (datetime.date(2021, 11, 26), 124),
]


# The catalogue ---------------------------------------------------------------------------------


@dataclass
class Catalogue:
    categories: dict[str, Category]
    new_employee: RequestType
    new_phone: RequestType


def _service(name: str, description: str, owner: User | None, group: SupportGroup) -> Service:
    existing = Service.objects.filter(name=name).first()
    if existing:
        return existing
    # Catalogue records have no service functions yet: validate, save and audit like one.
    return audited_create(
        actor=None,
        instance=Service(name=name, description=description, owner=owner, default_group=group),
        fields=("name", "owner", "default_group"),
    )


def ensure_catalogue(first_line: SupportGroup, owners: dict[str, User]) -> Catalogue:
    """The demo's services, categories and two request types (created when missing)."""
    categories = {}
    for kind in KINDS:
        service = _service(
            kind.service, kind.service_description, owners.get(kind.group), first_line
        )
        category = Category.objects.filter(parent=None, name=kind.category).first()
        if category is None:
            category = audited_create(
                actor=None,
                instance=Category(name=kind.category, service=service),
                fields=("name", "service"),
            )
        categories[kind.category] = category
    ordering = categories["Beställning"].service
    new_employee = RequestType.objects.filter(service=ordering, name="Ny medarbetare").first()
    if new_employee is None:
        new_employee = audited_create(
            actor=None,
            instance=RequestType(
                service=ordering,
                name="Ny medarbetare",
                description=(
                    "Konto, e-post, behörigheter och utrustning till en ny medarbetare. "
                    "Godkänns av förvaltningens chef."
                ),
                kind=Ticket.Kind.REQUEST,
                category=categories["Beställning"],
                fields=NEW_EMPLOYEE_FIELDS,
                approval=RequestType.Approval.DEPARTMENT_MANAGER,
            ),
            fields=("service", "name", "approval"),
        )
    new_phone = RequestType.objects.filter(service=ordering, name="Ny mobiltelefon").first()
    if new_phone is None:
        new_phone = audited_create(
            actor=None,
            instance=RequestType(
                service=ordering,
                name="Ny mobiltelefon",
                description="En mobiltelefon med abonnemang. Godkänns av IT-chefen.",
                kind=Ticket.Kind.REQUEST,
                category=categories["Beställning"],
                fields=NEW_PHONE_FIELDS,
                approval=RequestType.Approval.ROLE,
                approver_role=Role.objects.get(code="manager"),
            ),
            fields=("service", "name", "approval", "approver_role"),
        )
    return Catalogue(categories, new_employee, new_phone)


def ensure_department_managers(organisations: list[Organisation]) -> dict[int, User]:
    """Give every top-level department without a manager one (the first employee of its
    units), so that "approved by the department manager" has someone to ask."""
    managers = {}
    for department in Department.objects.filter(
        organisation__in=organisations, parent=None
    ).order_by("pk"):
        if department.manager_id is None:
            candidate = (
                User.objects.filter(department__parent=department).order_by("pk").first()
                or User.objects.filter(department=department).order_by("pk").first()
            )
            if candidate is None:
                continue
            department = core_services.department_update(
                actor=None, department=department, version=department.version, manager=candidate
            )
        managers[department.pk] = department.manager
    return managers


# Time ------------------------------------------------------------------------------------------


def is_working_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS


def _at(day: datetime.date, hours: float) -> datetime.datetime:
    """``day`` at ``hours`` o'clock (9.5 = 09:30), Stockholm time."""
    minutes = round(hours * 60)
    return datetime.datetime.combine(day, datetime.time(minutes // 60, minutes % 60), ZONE)


def add_working_hours(moment: datetime.datetime, hours: float) -> datetime.datetime:
    """``hours`` of office time (08–17 on working days) after ``moment``."""
    local = timezone.localtime(moment, ZONE)
    day, clock = local.date(), local.hour + local.minute / 60
    if not is_working_day(day) or clock >= 17:
        day, clock = _next_working_day(day), 8.0
    clock = max(clock, 8.0)
    while clock + hours > 17:
        hours -= 17 - clock
        day, clock = _next_working_day(day), 8.0
    return _at(day, clock + hours) + datetime.timedelta(seconds=local.second)


def _next_working_day(day: datetime.date) -> datetime.date:
    day += datetime.timedelta(days=1)
    while not is_working_day(day):
        day += datetime.timedelta(days=1)
    return day


def story_target(day: datetime.date, start: datetime.date, end: datetime.date) -> float:
    """The story's backlog on ``day``; the curve is stretched onto other periods (tests)."""
    first, last = STORY[0][0], STORY[-1][0]
    position = (day - start).days / max((end - start).days, 1)
    story_day = first + datetime.timedelta(days=position * (last - first).days)
    days = [d for d, _n in STORY]
    index = bisect.bisect_right(days, story_day) - 1
    if index >= len(STORY) - 1:
        return float(STORY[-1][1])
    (d0, n0), (d1, n1) = STORY[index], STORY[index + 1]
    return n0 + (n1 - n0) * (story_day - d0).days / (d1 - d0).days


def inflow_factor(day: datetime.date) -> float:
    """Seasons: quiet July, busy school start in mid-August, busy Mondays."""
    factor = 1.0
    if day.month == 7:
        factor = 0.45
    elif (day.month == 8 and day.day < 9) or (day.month == 6 and day.day > 21):
        factor = 0.7
    elif (day.month == 8 and day.day >= 9) or (day.month == 9 and day.day < 15):
        factor = 1.15
    weekday = {0: 1.15, 4: 0.85}.get(day.weekday(), 1.0)
    return factor * weekday


# The plan --------------------------------------------------------------------------------------


@dataclass(eq=False)
class Plan:
    """Everything that will happen to one ticket."""

    created_at: datetime.datetime
    kind: Kind
    category: Category
    organisation: Organisation
    requester: User | None
    channel: str
    title: str
    first_line: bool
    impact: int
    urgency: int
    request_type: RequestType | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)
    contact_name: str = ""
    contact_email: str = ""
    logged_by: User | None = None
    approve_at: datetime.datetime | None = None
    approver: User | None = None
    agent: User | None = None
    assign_at: datetime.datetime | None = None
    progress_at: datetime.datetime | None = None
    group: SupportGroup | None = None
    escalate_at: datetime.datetime | None = None
    escalation_reason: str = ""
    specialist: User | None = None
    specialist_at: datetime.datetime | None = None
    resolve_at: datetime.datetime | None = None
    resolution: str = ""
    cancel_at: datetime.datetime | None = None
    close_at: datetime.datetime | None = None
    rating: tuple[int, str, datetime.datetime] | None = None
    final_status: str = ""
    final_status_at: datetime.datetime | None = None
    stuck: bool = False  # waits for a supplier or a decision that does not come this year


@dataclass
class Cast:
    """The people and groups of the demo world that the history needs."""

    organisations: list[tuple[Organisation, float]]
    requesters: dict[int, list[User]]
    agents: list[User]
    intern: User | None
    switchboard: list[User]
    manager: User
    first_line: SupportGroup
    groups: dict[str, SupportGroup]
    members: dict[str, list[User]]
    department_managers: dict[int, User]
    catalogue: Catalogue


class Planner:
    def __init__(self, cast: Cast, *, start: datetime.date, end: datetime.date, volume: float,
                 seed: int) -> None:  # fmt: skip
        self.cast, self.start, self.end, self.volume = cast, start, end, volume
        self.rng = random.Random(seed)
        self.end_at = _at(end, 23.99)
        self.plans: list[Plan] = []

    # One ticket ------------------------------------------------------------------------------

    def new_ticket(self, created_at: datetime.datetime, *, requests: bool = True) -> Plan:
        rng, cast = self.rng, self.cast
        kind = rng.choices(KINDS, weights=[k.weight for k in KINDS])[0]
        organisation = rng.choices(
            [o for o, _w in cast.organisations], weights=[w for _o, w in cast.organisations]
        )[0]
        requester = rng.choice(cast.requesters[organisation.pk])
        channel = rng.choices(
            ["portal", "email", "phone", "walk_in", "monitoring"], weights=[40, 30, 22, 4, 4]
        )[0]
        if channel == "monitoring" and kind.category not in ("Nätverk och wifi", "E-post"):
            channel = "email"
        plan = Plan(
            created_at=created_at,
            kind=kind,
            category=cast.catalogue.categories[kind.category],
            organisation=organisation,
            requester=requester,
            channel=channel,
            title=rng.choice(kind.titles),
            first_line=rng.random() < kind.first_line,
            impact=rng.choices([3, 2, 1], weights=[70, 25, 5])[0],
            urgency=rng.choices([2, 3, 1], weights=[55, 30, 15])[0],
        )
        if channel == "monitoring":
            plan.requester = None
            plan.contact_name = "Driftövervakning"
            plan.contact_email = "overvakning@it.herrljunga.example"
            plan.title = f"Larm: {plan.title.lower()}"
            plan.impact = 2
        elif channel == "phone":
            plan.logged_by = rng.choice(cast.switchboard)
        if kind.category == "Beställning" and requests:
            self._request(plan)
        return plan

    def _request(self, plan: Plan) -> None:
        rng, cast = self.rng, self.cast
        which = rng.random()
        if plan.requester is None or which > 0.7:
            return
        department = plan.requester.department
        top = department.parent_id or department.pk if department else None
        if which < 0.4:
            approver = cast.department_managers.get(top)
            if approver is None or approver.pk == plan.requester.pk:
                return
            plan.request_type = cast.catalogue.new_employee
            starts = plan.created_at.date() + datetime.timedelta(days=rng.randint(10, 40))
            name = f"{rng.choice(world.FIRST_NAMES)} {rng.choice(world.LAST_NAMES)}"
            plan.custom_fields = {
                "name": name,
                "starts_on": starts.isoformat(),
                "title": rng.choice(JOB_TITLES),
                "equipment": rng.choice(NEW_EMPLOYEE_FIELDS[3]["choices"]),
                "systems": rng.choice(SYSTEMS),
            }
            plan.title = f"Ny medarbetare: {name}, börjar {starts.isoformat()}"
            plan.approver = approver
        else:
            plan.request_type = cast.catalogue.new_phone
            plan.custom_fields = {
                "model": rng.choice(NEW_PHONE_FIELDS[0]["choices"]),
                "reason": "Tjänsten kräver att man nås på språng.",
                "cost_centre": str(rng.randint(1100, 1999)),
            }
            plan.title = f"Ny mobiltelefon till {plan.requester.get_full_name()}"
            plan.approver = cast.manager
        plan.channel = "portal"
        plan.logged_by = None
        plan.approve_at = add_working_hours(plan.created_at, rng.uniform(0.5, 16))

    def first_steps(self, plan: Plan) -> None:
        """Approval, first-line pick-up, and (for second-line tickets) the escalation."""
        rng = self.rng
        ready = plan.approve_at or plan.created_at
        plan.assign_at = add_working_hours(ready, rng.uniform(0.05, 1.5))
        agents = list(self.cast.agents)
        if self.cast.intern and plan.assign_at.date() >= datetime.date(2021, 8, 16):
            agents.append(self.cast.intern)
        plan.agent = rng.choice(agents)
        if plan.first_line:
            hours = rng.choices(
                [rng.uniform(0.1, 3), rng.uniform(3, 9), rng.uniform(9, 45), rng.uniform(45, 135),
                 rng.uniform(135, 360)],
                weights=[45, 25, 18, 9, 3],
            )[0]  # fmt: skip
            plan.resolve_at = add_working_hours(plan.assign_at, hours)
            plan.resolution = rng.choice(plan.kind.resolutions)
            if rng.random() < 0.025 and plan.requester is not None:
                plan.cancel_at = add_working_hours(plan.assign_at, rng.uniform(0.2, 12))
                plan.resolve_at = None
            elif hours > 9:
                plan.progress_at = add_working_hours(plan.assign_at, 0.2)
        else:
            plan.group = self.cast.groups[plan.kind.group]
            plan.escalate_at = add_working_hours(
                plan.assign_at, rng.choices([rng.uniform(0.2, 4), rng.uniform(4, 24)], [75, 25])[0]
            )
            plan.escalation_reason = rng.choice(
                [
                    "Behöver åtgärdas av andra linjen.",
                    "Kräver behörighet i systemet som första linjen saknar.",
                    "Felet kvarstår efter felsökning enligt rutin.",
                    "Leverantörskontakt behövs.",
                ]
            )
            plan.specialist = rng.choice(self.cast.members[plan.kind.group])
            plan.stuck = rng.random() < 0.012
            plan.specialist_at = add_working_hours(plan.escalate_at, rng.uniform(0.5, 20))

    def finish(self, plan: Plan) -> None:
        """Closing (five days after resolution, by the nightly job) and the rating."""
        rng = self.rng
        done = plan.resolve_at
        if done is None:
            return
        close_at = done + datetime.timedelta(days=5, minutes=rng.randint(60, 120))
        if close_at <= self.end_at:
            plan.close_at = close_at
        if rng.random() < 0.35 and plan.requester is not None:
            slow = plan.resolve_at - plan.created_at > datetime.timedelta(days=10)
            weights = [6, 9, 15, 32, 38] if not plan.first_line or slow else [2, 3, 7, 28, 60]
            score = rng.choices([1, 2, 3, 4, 5], weights=weights)[0]
            comment = rng.choice(RATING_COMMENTS[score]) if rng.random() < 0.4 else ""
            rated_at = done + datetime.timedelta(hours=rng.uniform(0.5, 60))
            if rated_at <= self.end_at:
                plan.rating = (score, comment, rated_at)

    # The days --------------------------------------------------------------------------------

    def run(self) -> list[Plan]:
        rng = self.rng
        open_first: list[Plan] = []  # solved by the first line on their own schedule
        open_second: list[Plan] = []  # waiting for the second line
        self._carry_over(open_first, open_second)
        day = self.start
        while day <= self.end:
            working = is_working_day(day)
            count = (
                round(rng.randint(20, 30) * inflow_factor(day) * self.volume)
                if working
                else rng.choice([0, 0, 1, 1, 2, 3]) * (1 if self.volume >= 0.5 else 0)
            )
            times = sorted(
                _at(day, rng.uniform(7.5, 16.5) if working else rng.uniform(0, 23.9))
                for _ in range(count)
            )
            for created_at in times:
                plan = self.new_ticket(created_at)
                self.first_steps(plan)
                self.plans.append(plan)
                (open_first if plan.first_line else open_second).append(plan)
            end_of_day = _at(day, 23.99)
            # First-line tickets finish on their own schedule.
            open_first = [p for p in open_first if (p.resolve_at or p.cancel_at) > end_of_day]
            if working:
                self._second_line_day(day, open_first, open_second)
            day += datetime.timedelta(days=1)
        self._leave_open(open_first + open_second)
        for plan in self.plans:
            self.finish(plan)
        self.plans.sort(key=lambda p: p.created_at)
        return self.plans

    def _second_line_day(self, day: datetime.date, open_first: list[Plan],
                         open_second: list[Plan]) -> None:  # fmt: skip
        """Resolve as many second-line tickets today as keep the backlog on the story."""
        rng = self.rng
        target = story_target(day, self.start, self.end) * self.volume
        backlog = len(open_first) + len(open_second)
        late = _at(day, 15.5)
        ready = [p for p in open_second if p.escalate_at < late and not p.stuck]
        wanted = round(backlog - target + rng.uniform(-3, 3) * self.volume)
        wanted = max(0, min(wanted, len(ready), round(40 * self.volume) + 1))
        if not wanted:
            return
        ready.sort(key=lambda p: p.created_at)
        oldest = ready[: wanted * 2 // 5]
        taken = {id(p) for p in oldest}
        rest = [p for p in ready if id(p) not in taken]
        chosen = oldest + rng.sample(rest, wanted - len(oldest))
        for plan in chosen:
            earliest = max(plan.escalate_at + datetime.timedelta(minutes=20), _at(day, 8))
            if earliest >= _at(day, 16.8):
                continue
            span = (_at(day, 16.8) - earliest).total_seconds()
            plan.resolve_at = earliest + datetime.timedelta(seconds=rng.uniform(0, span))
            if plan.specialist_at >= plan.resolve_at:
                plan.specialist_at = plan.resolve_at - (plan.resolve_at - plan.escalate_at) / 3
            if plan.resolve_at - plan.specialist_at > datetime.timedelta(hours=6):
                plan.progress_at = plan.specialist_at + datetime.timedelta(minutes=15)
            plan.resolution = rng.choice(plan.kind.resolutions)
            open_second.remove(plan)

    def _carry_over(self, open_first: list[Plan], open_second: list[Plan]) -> None:
        """The tickets still open when the period starts (the backlog of the year before)."""
        rng = self.rng
        count = round(story_target(self.start, self.start, self.end) * self.volume)
        for _ in range(count):
            days_back = int(rng.triangular(1, 150, 1))
            day = self.start - datetime.timedelta(days=days_back)
            while not is_working_day(day):
                day -= datetime.timedelta(days=1)
            plan = self.new_ticket(_at(day, rng.uniform(7.5, 16.5)), requests=False)
            plan.first_line = rng.random() < 0.2
            self.first_steps(plan)
            if plan.first_line:
                first_day = _next_working_day(self.start - datetime.timedelta(days=1))
                plan.resolve_at = max(
                    plan.resolve_at or plan.cancel_at,
                    _at(first_day, 8) + datetime.timedelta(hours=rng.uniform(0, 40)),
                )
                plan.cancel_at = None
                plan.resolution = rng.choice(plan.kind.resolutions)
                open_first.append(plan)
            else:
                open_second.append(plan)
            self.plans.append(plan)

    def _leave_open(self, still_open: list[Plan]) -> None:
        """Tickets open at the end: not resolved, some waiting for the requester or a supplier."""
        rng = self.rng
        for plan in still_open:
            plan.resolve_at = plan.cancel_at = plan.close_at = None
            for name in ("approve_at", "assign_at", "escalate_at", "specialist_at", "progress_at"):
                moment = getattr(plan, name)
                if moment is not None and moment > self.end_at:
                    setattr(plan, name, None)
            if plan.approve_at is None and plan.request_type is not None:
                plan.assign_at = plan.escalate_at = plan.specialist_at = None
                continue
            if plan.assign_at is None:
                continue
            last = max(m for m in (plan.assign_at, plan.escalate_at, plan.specialist_at) if m)
            roll = 0.0 if plan.stuck else rng.random()
            status = (
                Ticket.Status.WAITING_SUPPLIER
                if roll < (0.2 if plan.escalate_at else 0.03)
                else Ticket.Status.WAITING_REQUESTER
                if roll < 0.35
                else Ticket.Status.IN_PROGRESS
                if roll < 0.8
                else ""
            )
            if status:
                at = last + (self.end_at - last) * rng.uniform(0.05, 0.5)
                if at < self.end_at:
                    plan.final_status, plan.final_status_at = status, at
            plan.progress_at = None


# Writing the plan: through the services, or in bulk --------------------------------------------

# Order of steps that fall on the same moment.
STEP_ORDER = ("approve", "assign", "escalate", "specialist", "progress", "final_status",
              "cancel", "resolve", "close", "rate")  # fmt: skip


def steps_of(plan: Plan) -> list[tuple[datetime.datetime, str]]:
    """What happens to the ticket after it is created, in order."""
    steps = [
        (plan.approve_at, "approve"),
        (plan.assign_at, "assign"),
        (plan.escalate_at, "escalate"),
        (plan.specialist_at, "specialist"),
        (plan.progress_at, "progress"),
        (plan.final_status_at if plan.final_status else None, "final_status"),
        (plan.cancel_at, "cancel"),
        (plan.resolve_at, "resolve"),
        (plan.close_at, "close"),
        (plan.rating[2] if plan.rating else None, "rate"),
    ]
    if plan.escalate_at and plan.progress_at and not plan.specialist_at:
        steps = [(at, step) for at, step in steps if step != "progress"]
    return sorted(
        ((at, step) for at, step in steps if at is not None),
        key=lambda item: (item[0], STEP_ORDER.index(item[1])),
    )


def _worker(plan: Plan, at: datetime.datetime) -> User | None:
    """Who works the ticket at ``at``: the specialist after the escalation, else the agent."""
    if plan.escalate_at and at >= plan.escalate_at and plan.specialist:
        return plan.specialist
    return plan.agent


class Backdater:
    """Moves what one service call wrote "now" to the planned moment (see the module doc).

    Plain SQL, because it runs after every step of thousands of tickets; everything written by
    this run carries a time after ``since``, everything already moved a time before it.
    """

    def __init__(self) -> None:
        self.since = timezone.now()
        self.ops = connection.ops

    def __call__(self, ticket_id: int, at: datetime.datetime, *, spans: bool = False,
                 ticket_fields: tuple[str, ...] = (), rating: bool = False,
                 saved: bool = True) -> None:  # fmt: skip
        moment = self.ops.adapt_datetimefield_value(at)
        since = self.ops.adapt_datetimefield_value(self.since)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE servicedesk_ticketactivity SET at = %s WHERE ticket_id = %s AND at >= %s",
                [moment, ticket_id, since],
            )
            if spans:
                cursor.execute(
                    "UPDATE servicedesk_linespan SET started_at = %s "
                    "WHERE ticket_id = %s AND started_at >= %s",
                    [moment, ticket_id, since],
                )
                cursor.execute(
                    "UPDATE servicedesk_linespan SET ended_at = %s "
                    "WHERE ticket_id = %s AND ended_at >= %s",
                    [moment, ticket_id, since],
                )
            assignments, params = (["updated_at = %s"], [moment]) if saved else ([], [])
            for name in ticket_fields:
                assignments.append(f"{name} = CASE WHEN {name} >= %s THEN %s ELSE {name} END")
                params += [since, moment]
            if assignments:
                cursor.execute(
                    f"UPDATE servicedesk_ticket SET {', '.join(assignments)} WHERE id = %s",  # noqa: S608 - field names are ours
                    [*params, ticket_id],
                )
            if rating:
                cursor.execute(
                    "UPDATE servicedesk_satisfactionrating SET rated_at = %s WHERE ticket_id = %s",
                    [moment, ticket_id],
                )


def _kind(plan: Plan) -> str:
    return Ticket.Kind.REQUEST if plan.kind.category == "Beställning" else Ticket.Kind.INCIDENT


def replay(plan: Plan, backdate: Backdater) -> Ticket:
    """Run one planned ticket through the services, in the order its steps happened."""
    ticket = services.ticket_create(
        actor=plan.logged_by or plan.requester,
        channel=plan.channel,
        title=plan.title,
        description=plan.title + ".",
        requester=plan.requester,
        contact_name=plan.contact_name,
        contact_email=plan.contact_email,
        organisation=plan.organisation,
        kind=_kind(plan),
        category=None if plan.request_type else plan.category,
        request_type=plan.request_type,
        custom_fields=plan.custom_fields or None,
        impact=plan.impact,
        urgency=plan.urgency,
        created_at=plan.created_at,
    )
    pk = ticket.pk
    backdate(pk, plan.created_at)  # the save stamped updated_at with the real time
    for at, step in steps_of(plan):
        worker = _worker(plan, at)
        if step == "approve":
            services.ticket_approve(actor=plan.approver, ticket=ticket)
            backdate(pk, at)
        elif step in ("assign", "specialist"):
            services.ticket_assign(actor=worker, ticket=ticket, version=None, assignee=worker)
            backdate(pk, at, spans=True)
        elif step == "escalate":
            services.ticket_escalate(
                actor=plan.agent,
                ticket=ticket,
                version=None,
                group=plan.group,
                reason=plan.escalation_reason,
            )
            backdate(pk, at, spans=True, ticket_fields=("escalated_at",))
        elif step in ("progress", "final_status"):
            status = Ticket.Status.IN_PROGRESS if step == "progress" else plan.final_status
            current = Ticket.objects.only("status").get(pk=pk).status
            if status in services.MANUAL_TRANSITIONS.get(current, ()):
                services.ticket_set_status(actor=worker, ticket=ticket, version=None, status=status)
                backdate(pk, at)
        elif step == "cancel":
            services.ticket_cancel(
                actor=plan.requester, ticket=ticket, version=None, reason=CANCEL_REASON
            )
            backdate(pk, at, spans=True, ticket_fields=("closed_at",))
        elif step == "resolve":
            services.ticket_resolve(
                actor=worker, ticket=ticket, version=None, resolution=plan.resolution
            )
            backdate(pk, at, spans=True, ticket_fields=("resolved_at", "first_response_at"))
        elif step == "close":
            services.ticket_close(actor=None, ticket=ticket)
            backdate(pk, at, ticket_fields=("closed_at",))
        elif step == "rate":
            score, comment, _rated = plan.rating
            services.ticket_rate(ticket=ticket, score=score, comment=comment)
            backdate(pk, at, rating=True, saved=False)
    return ticket


CANCEL_REASON = "Löste sig av sig själv, tack."


class BulkWriter:
    """Writes finished tickets the way the services would, but with a handful of bulk inserts.

    A year of history through the services takes minutes on SQLite; the old, finished tickets
    are written here instead: the same ticket, line-span, timeline and rating rows, field for
    field (test_demo_history compares the two paths on the same plans), without an audit event
    per step (one event records the import). Only tickets that are finished are written here,
    so no workflow rule is bypassed for a ticket anyone can still act on.
    """

    def __init__(self) -> None:
        self.since = timezone.now()
        self.tickets: list[Ticket] = []
        self.children: list[tuple[int, list[LineSpan], list[TicketActivity], Any]] = []
        self.priorities: dict[tuple[int, int], int] = {}
        self.first_line: SupportGroup | None = None

    def add(self, plan: Plan, reference: str) -> None:
        request_type = plan.request_type
        category = request_type.category if request_type else plan.category
        service = (request_type.service if request_type else None) or category.service
        if service.default_group_id:
            group = service.default_group
        else:
            if self.first_line is None:
                self.first_line = services._first_line_group()  # what ticket_create falls back to
            group = self.first_line
        key = (plan.impact, plan.urgency)
        if key not in self.priorities:
            self.priorities[key] = services.priority_for(*key)
        actor = plan.logged_by or plan.requester
        ticket = Ticket(
            reference=reference,
            kind=(request_type.kind if request_type else "") or _kind(plan),
            channel=plan.channel,
            title=plan.title[:200],
            description=plan.title + ".",
            requester=plan.requester,
            contact_name=plan.contact_name,
            contact_email=plan.contact_email,
            organisation=plan.organisation,
            department=plan.requester.department if plan.requester else None,
            service=service,
            category=category,
            request_type=request_type,
            custom_fields=services._validated_custom_fields(request_type, plan.custom_fields)
            if request_type
            else {},
            impact=plan.impact,
            urgency=plan.urgency,
            priority=self.priorities[key],
            line=group.line,
            group=group,
            created_at=plan.created_at,
            status=Ticket.Status.PENDING_APPROVAL
            if request_type is not None and request_type.approval != "none"
            else Ticket.Status.NEW,
            version=1,
        )
        spans = [LineSpan(line=ticket.line, group=group, reason=LineSpan.Reason.CREATED,
                          started_at=plan.created_at, by=actor)]  # fmt: skip
        activities = [
            TicketActivity(actor=actor, kind=TicketActivity.Kind.SYSTEM, at=plan.created_at,
                           is_public=True, channel=plan.channel,
                           data={"event": "created", "channel": plan.channel})
        ]  # fmt: skip
        rating = None

        def status_activity(at, actor, old, new, body="", **extra):
            activities.append(
                TicketActivity(actor=actor, kind=TicketActivity.Kind.STATUS, at=at,
                               is_public=True, body=body, data={"from": old, "to": new, **extra})
            )  # fmt: skip

        def switch(at, reason, by, note=""):
            spans[-1].ended_at = at
            spans.append(LineSpan(line=ticket.line, group=ticket.group, assignee=ticket.assignee,
                                  reason=reason, note=note, started_at=at, by=by))  # fmt: skip

        for at, step in steps_of(plan):
            worker = _worker(plan, at)
            old = ticket.status
            if step == "approve":
                ticket.status = Ticket.Status.NEW
                status_activity(at, plan.approver, old, ticket.status, approved=True)
            elif step in ("assign", "specialist"):
                ticket.assignee = worker
                if ticket.status == Ticket.Status.NEW:
                    ticket.status = Ticket.Status.ASSIGNED
                switch(at, LineSpan.Reason.ASSIGNED, worker)
                activities.append(
                    TicketActivity(actor=worker, kind=TicketActivity.Kind.ASSIGNMENT, at=at,
                                   data={"group": str(ticket.group), "assignee": str(worker)})
                )  # fmt: skip
            elif step == "escalate":
                ticket.line, ticket.group, ticket.assignee = 2, plan.group, None
                ticket.status = Ticket.Status.NEW
                ticket.escalated_at = ticket.escalated_at or at
                switch(at, LineSpan.Reason.ESCALATED, plan.agent, plan.escalation_reason)
                activities.append(
                    TicketActivity(actor=plan.agent, kind=TicketActivity.Kind.ESCALATION, at=at,
                                   body=plan.escalation_reason,
                                   data={"group": str(plan.group), "line": 2})
                )  # fmt: skip
            elif step in ("progress", "final_status"):
                status = Ticket.Status.IN_PROGRESS if step == "progress" else plan.final_status
                if status not in services.MANUAL_TRANSITIONS.get(old, ()):
                    continue
                ticket.status = status
                activities.append(
                    TicketActivity(actor=worker, kind=TicketActivity.Kind.STATUS, at=at,
                                   is_public=True, data={"from": old, "to": status})
                )  # fmt: skip
            elif step == "cancel":
                ticket.status, ticket.closed_at = Ticket.Status.CANCELLED, at
                spans[-1].ended_at = at
                status_activity(at, plan.requester, old, ticket.status, CANCEL_REASON)
            elif step == "resolve":
                ticket.status, ticket.resolution = Ticket.Status.RESOLVED, plan.resolution
                ticket.resolved_at = at
                ticket.resolved_in_first_line = ticket.escalated_at is None
                ticket.first_response_at = ticket.first_response_at or at
                spans[-1].ended_at = at
                status_activity(at, worker, old, ticket.status, plan.resolution)
            elif step == "close":
                ticket.status, ticket.closed_at = Ticket.Status.CLOSED, at
                status_activity(at, None, old, ticket.status)
            elif step == "rate":
                score, comment, _rated = plan.rating
                rating = SatisfactionRating(score=score, comment=comment.strip(), rated_at=at)
                activities.append(
                    TicketActivity(actor=plan.requester, kind=TicketActivity.Kind.RATING, at=at,
                                   is_public=True, body=comment.strip(), data={"score": score})
                )  # fmt: skip
                continue  # rating does not bump the version
            ticket.version += 1
        self.tickets.append(ticket)
        self.children.append((len(self.tickets) - 1, spans, activities, rating))

    def write(self) -> int:
        Ticket.objects.bulk_create(self.tickets, batch_size=500)
        spans, activities, ratings = [], [], []
        for index, ticket_spans, ticket_activities, rating in self.children:
            ticket = self.tickets[index]
            for row in (*ticket_spans, *ticket_activities):
                row.ticket = ticket
            spans += ticket_spans
            activities += ticket_activities
            if rating is not None:
                rating.ticket = ticket
                ratings.append(rating)
        LineSpan.objects.bulk_create(spans, batch_size=1000)
        TicketActivity.objects.bulk_create(activities, batch_size=1000)
        SatisfactionRating.objects.bulk_create(ratings, batch_size=1000)
        # bulk_create stamped updated_at with the real time (auto_now); the services' last save
        # was at the last step that changed the ticket (a rating does not).
        last_change = (
            TicketActivity.objects.filter(ticket=OuterRef("pk"))
            .exclude(kind=TicketActivity.Kind.RATING)
            .order_by("-at")
            .values("at")[:1]
        )
        Ticket.objects.filter(updated_at__gte=self.since).update(updated_at=Subquery(last_change))
        return len(self.tickets)


# Putting it together ---------------------------------------------------------------------------


@dataclass
class HistoryResult:
    tickets: int = 0
    through_services: int = 0
    snapshot_days: int = 0
    seconds: float = 0.0
    skipped: bool = False


def _cast() -> Cast | None:
    herrljunga = Organisation.objects.filter(short_name="Herrljunga").first()
    vargarda = Organisation.objects.filter(short_name="Vårgårda").first()
    first_line = SupportGroup.objects.filter(name="Servicedesk").first()
    if not (herrljunga and vargarda and first_line):
        return None
    organisations = [(herrljunga, 0.55), (vargarda, 0.45)]
    requesters = {
        organisation.pk: list(
            User.objects.filter(organisation=organisation, role_assignments__role__code="requester")
            .select_related("department")
            .order_by("email")
        )
        for organisation, _weight in organisations
    }
    groups = {group.name: group for group in SupportGroup.objects.filter(line=2)}
    members = {name: list(group.members.order_by("email")) for name, group in groups.items()}
    intern_email = world.email_for(world.INTERN[0], world.INTERN[1], "it.herrljunga.example")
    agents = [u for u in first_line.members.order_by("email") if u.email != intern_email]
    intern = first_line.members.filter(email=intern_email).first()
    switchboard = list(
        User.objects.filter(role_assignments__role__code="switchboard").order_by("email")
    )
    manager = (
        User.objects.filter(role_assignments__role__code="manager", is_active=True)
        .order_by("pk")
        .first()
    )
    needed = {kind.group for kind in KINDS}
    if not (all(requesters.values()) and agents and manager and switchboard) or not all(
        members.get(name) for name in needed
    ):
        return None
    owners = {name: people[0] for name, people in members.items()}
    catalogue = ensure_catalogue(first_line, owners)
    return Cast(
        organisations=organisations,
        requesters=requesters,
        agents=agents,
        intern=intern,
        switchboard=switchboard,
        manager=manager,
        first_line=first_line,
        groups=groups,
        members=members,
        department_managers=ensure_department_managers([herrljunga, vargarda]),
        catalogue=catalogue,
    )


def references_for(plans: list[Plan]) -> dict[int, str]:
    """``YYYY-NNNNNN`` for every plan in order of creation, continuing this year's counter."""
    counters = dict(TicketCounter.objects.values_list("year", "last_number"))
    references = {}
    for plan in plans:
        year = timezone.localtime(plan.created_at, ZONE).year
        counters[year] = counters.get(year, 0) + 1
        references[id(plan)] = f"{year}-{counters[year]:06d}"
    return references


def _set_counter(reference: str) -> None:
    """Let the next ``ticket_create`` hand out exactly ``reference``."""
    year, number = reference.split("-")
    TicketCounter.objects.update_or_create(
        year=int(year), defaults={"last_number": int(number) - 1}
    )


def _through_services(plan: Plan, since: datetime.datetime) -> bool:
    """Open tickets and the last weeks' tickets go through the services (audit log and all);
    older finished ones are written in bulk."""
    finished = plan.resolve_at is not None or plan.cancel_at is not None
    return not finished or plan.created_at >= since


@transaction.atomic
def seed_history(
    *,
    start: datetime.date = HISTORY_START,
    end: datetime.date = HISTORY_END,
    volume: float = 1.0,
    seed: int = 2021,
    services_days: int = 14,
) -> HistoryResult:
    """Build the demo history from ``start`` to ``end`` unless tickets exist already.

    Tickets still open at the end, and those of the last ``services_days`` days, are replayed
    through the ticket services; the older finished ones are written by ``BulkWriter`` (the same
    rows, much faster). ``volume`` scales inflow and backlog (tests use a small one). Needs the
    demo world of ``seed_demo``; does nothing without it.
    """
    began = time.monotonic()
    if Ticket.objects.exists():
        return HistoryResult(skipped=True)
    cast = _cast()
    if cast is None:
        return HistoryResult(skipped=True)
    ensure_sla_configuration()  # after the catalogue: the switch has a calendar of its own
    plans = Planner(cast, start=start, end=end, volume=volume, seed=seed).run()
    references = references_for(plans)
    since = _at(end, 0) - datetime.timedelta(days=services_days - 1)
    bulk = BulkWriter()
    replayed = [plan for plan in plans if _through_services(plan, since)]
    for plan in plans:
        if not _through_services(plan, since):
            bulk.add(plan, references[id(plan)])
    written = bulk.write()
    backdate = Backdater()
    for plan in replayed:
        _set_counter(references[id(plan)])
        replay(plan, backdate)
    if plans:
        _set_counter(max(references.values()))
        TicketCounter.objects.filter(year=int(max(references.values())[:4])).update(
            last_number=F("last_number") + 1
        )
    audit_record(
        actor=None,
        action="create",
        verb="demo_history",
        changes={
            "period": [None, f"{start.isoformat()} – {end.isoformat()}"],
            "tickets": [None, len(plans)],
            "written_in_bulk": [None, written],
        },
    )
    days = backlog_snapshots_take(start=start, end=end)
    # The services kept the SLA clocks as they went, but at the import's own clock; now that
    # every time is the planned one, rebuild the status history and the clocks from it.
    ids = list(Ticket.objects.values_list("pk", flat=True))
    status_spans_rebuild(ticket_ids=ids)
    clocks_recompute(ticket_ids=ids)
    return HistoryResult(
        tickets=len(plans),
        through_services=len(replayed),
        snapshot_days=days,
        seconds=time.monotonic() - began,
    )


def seed_demo_history() -> HistoryResult:
    """Called at the end of ``seed_demo``: the full history, unless ``settings.DEMO_HISTORY``
    is False (a test suite that seeds the demo world often may switch it off)."""
    if not getattr(settings, "DEMO_HISTORY", True):
        return HistoryResult(skipped=True)
    return seed_history()
