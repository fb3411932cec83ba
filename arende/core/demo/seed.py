"""Build (or complete) the demo world through the services, so the audit log tells it too."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction

from arende.core import services
from arende.core.demo import history, world
from arende.core.models import Department, Organisation, Role, User
from arende.mail.services.outbound import notifications_suppressed
from arende.operations.demo import seed_operations_demo
from arende.people.models import Employment
from arende.people.services import employment_create
from arende.servicedesk.models import SupportGroup
from arende.servicedesk.services import support_group_add_member, support_group_create
from arende.sla.demo import ensure_sla_configuration

DOMAINS = {
    "Herrljunga": "herrljunga.example",
    "Vårgårda": "vargarda.example",
    "IT-nämnden": "it.herrljunga.example",
}


@dataclass
class DemoLogin:
    email: str
    name: str
    what: str


@dataclass
class SeedResult:
    created: int = 0


def _organisation(
    spec: tuple[str, str, str, str], host: Organisation | None = None
) -> Organisation:
    name, short, kind, number = spec
    existing = Organisation.objects.filter(name=name).first()
    if existing:
        return existing
    return services.organisation_create(
        actor=None, name=name, short_name=short, kind=kind, org_number=number, host=host
    )


def _department(
    organisation: Organisation, name: str, code: str = "", parent: Department | None = None
) -> Department:
    existing = Department.objects.filter(
        organisation=organisation, name=name, parent=parent
    ).first()
    if existing:
        return existing
    return services.department_create(
        actor=None, organisation=organisation, name=name, code=code, parent=parent
    )


def _user(
    result: SeedResult,
    *,
    first: str,
    last: str,
    title: str,
    organisation: Organisation,
    department: Department | None,
    password: str,
    phone: str = "",
) -> User:
    email = world.email_for(first, last, DOMAINS[organisation.short_name])
    existing = User.objects.filter(email=email).first()
    if existing:
        return existing
    result.created += 1
    return services.user_create(
        actor=None,
        email=email,
        first_name=first,
        last_name=last,
        title=title,
        organisation=organisation,
        department=department,
        phone=phone,
        password_hash=password,
    )


def _grant(user: User, codes: list[str], organisation: Organisation | None = None) -> None:
    for code in codes:
        services.role_assign(
            actor=None, user=user, role=Role.objects.get(code=code), organisation=organisation
        )


@transaction.atomic
def seed_demo(*, password: str) -> SeedResult:
    """Create whatever of the demo world is missing. Safe to run again."""
    result = SeedResult()
    # Hash once: the demo has ~80 accounts and the hasher is deliberately slow.
    password = make_password(password)
    herrljunga = _organisation(world.HERRLJUNGA)
    vargarda = _organisation(world.VARGARDA)
    board = _organisation(world.JOINT_BOARD, host=herrljunga)
    by_short = {"Herrljunga": herrljunga, "Vårgårda": vargarda, "IT-nämnden": board}

    departments: dict[tuple[str, str], Department] = {}
    for short, tops in world.DEPARTMENTS.items():
        organisation = by_short[short]
        for name, code, subs in tops:
            top = _department(organisation, name, code)
            departments[(short, name)] = top
            for sub in subs:
                departments[(short, sub)] = _department(organisation, sub, parent=top)

    phones = itertools.count(17001)
    staff: dict[str, User] = {}
    for first, last, title, dept, roles, form, rate, ends in [*world.IT_STAFF, world.INTERN]:
        user = _user(
            result,
            first=first,
            last=last,
            title=title,
            organisation=board,
            department=departments[("IT-nämnden", dept)],
            password=password,
            phone=f"0513-{next(phones)}",
        )
        _grant(user, roles)
        if not Employment.objects.filter(user=user).exists():
            employment_create(
                actor=None,
                user=user,
                form=form,
                rate_percent=rate,
                starts_on=datetime.date(2019, 1, 1)
                if form == "permanent"
                else datetime.date(2021, 8, 16),
                ends_on=ends,
            )
        staff[first] = user

    first, last, title, short, dept = world.CONTROLLER
    controller = _user(
        result,
        first=first,
        last=last,
        title=title,
        organisation=by_short[short],
        department=departments[(short, dept)],
        password=password,
    )
    _grant(controller, ["controller"], None)

    for first, last, title, short in world.BOARD_MEMBERS:
        member = _user(
            result,
            first=first,
            last=last,
            title=title,
            organisation=by_short[short],
            department=None,
            password=password,
        )
        _grant(member, ["board_member"], herrljunga)
        _grant(member, ["board_member"], vargarda)
    first, last, title, short = world.AUDITOR
    auditor = _user(
        result,
        first=first,
        last=last,
        title=title,
        organisation=by_short[short],
        department=None,
        password=password,
    )
    _grant(auditor, ["auditor"], by_short[short])

    names = itertools.product(world.LAST_NAMES, world.FIRST_NAMES)
    for (short, _name), department in departments.items():
        if short == "IT-nämnden" or (
            department.parent_id is None
            and any(d.parent_id == department.pk for d in departments.values())
        ):
            continue
        organisation = by_short[short]
        for _index in range(world.REQUESTERS_PER_DEPARTMENT):
            last, first = next(names)
            user = _user(
                result,
                first=first,
                last=last,
                title="Medarbetare",
                organisation=organisation,
                department=department,
                password=password,
                phone=f"0{'513' if short == 'Herrljunga' else '322'}-{next(phones)}",
            )
            _grant(user, ["requester"], organisation)

    for name, line, email, description, members in world.SUPPORT_GROUPS:
        group = SupportGroup.objects.filter(name=name).first() or support_group_create(
            actor=None, name=name, line=line, email=email, description=description
        )
        for member in members:
            support_group_add_member(actor=None, group=group, user=staff[member])
    ensure_sla_configuration()
    with notifications_suppressed():  # replayed history: no one is notified of 2021 again
        history.seed_demo_history()
    seed_operations_demo()
    return result


def demo_logins() -> list[DemoLogin]:
    """The demo accounts worth trying, as far as they exist in this database."""
    wanted = [
        (world.email_for(first, last, DOMAINS["IT-nämnden"]), f"{first} {last}", title)
        for first, last, title, *_rest in [*world.IT_STAFF, world.INTERN]
    ]
    first, last, title, short, _dept = world.CONTROLLER
    wanted.append((world.email_for(first, last, DOMAINS[short]), f"{first} {last}", title))
    for first, last, title, short in [*world.BOARD_MEMBERS, world.AUDITOR]:
        wanted.append((world.email_for(first, last, DOMAINS[short]), f"{first} {last}", title))
    existing = set(
        User.objects.filter(email__in=[email for email, *_ in wanted]).values_list(
            "email", flat=True
        )
    )
    logins = [DemoLogin(email, name, what) for email, name, what in wanted if email in existing]
    for short in ("Herrljunga", "Vårgårda"):
        requester = (
            User.objects.filter(
                organisation__short_name=short, role_assignments__role__code="requester"
            )
            .select_related("department")
            .order_by("pk")
            .first()
        )
        if requester:
            logins.append(
                DemoLogin(
                    requester.email,
                    requester.get_full_name(),
                    f"Medarbetare, {requester.department} ({short})",
                )
            )
    return logins
