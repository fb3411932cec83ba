"""factory_boy factories for the core models, plus small helpers to grant roles."""

from __future__ import annotations

import factory
from django.contrib.auth.hashers import make_password

from arende.core import access
from arende.core.models import Department, Organisation, Role, RoleAssignment, User

TEST_PASSWORD = "test-password-1"
_HASHED = make_password(TEST_PASSWORD)


def org_number_for(sequence: int) -> str:
    """A valid, unique organisation number: 5560xx-xxxC with a Luhn check digit C."""
    body = f"5560{sequence:05d}"
    for check in range(10):
        digits = body + str(check)
        total = 0
        for index, char in enumerate(reversed(digits)):
            value = int(char) * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return f"{digits[:6]}-{digits[6:]}"
    raise AssertionError("unreachable: one check digit always fits")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Testkommun {n}")
    short_name = factory.Sequence(lambda n: f"Test {n}")
    kind = Organisation.Kind.MUNICIPALITY
    org_number = factory.Sequence(org_number_for)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Förvaltning {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@test.example")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person {n}")
    organisation = factory.SubFactory(OrganisationFactory)
    department = factory.LazyAttribute(
        lambda o: DepartmentFactory(organisation=o.organisation) if o.organisation else None
    )
    password = _HASHED


def grant(user: User, role_code: str, organisation: Organisation | None = None) -> User:
    """Give ``user`` a built-in role for one organisation (or all, when None)."""
    RoleAssignment.objects.create(
        user=user, role=Role.objects.get(code=role_code), organisation=organisation
    )
    access.clear_cache(user)
    return user
