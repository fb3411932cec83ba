"""Calendars and policies from the database, turned into the engine's terms."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from arende.core.tests.factories import OrganisationFactory
from arende.servicedesk.models import Service
from arende.sla import engine
from arende.sla.models import Calendar, CalendarException, SlaPolicy
from arende.sla.selectors import business_calendar, calendar_for, policy_for

pytestmark = pytest.mark.django_db
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=STOCKHOLM)


def test_the_most_specific_calendar_wins():
    herrljunga, vargarda = OrganisationFactory(), OrganisationFactory()
    telephony = Service.objects.create(name="Telefoni och växel")
    default = Calendar.objects.create(name="Standard")
    local = Calendar.objects.create(name="Herrljunga", organisation=herrljunga)
    on_call = Calendar.objects.create(name="Jour", service=telephony, always_open=True)
    assert calendar_for(herrljunga.pk, None) == local
    assert calendar_for(vargarda.pk, None) == default
    assert calendar_for(vargarda.pk, telephony.pk) == on_call


def test_a_configured_calendar_counts_like_the_engine():
    calendar = Calendar.objects.create(name="Kontor")
    CalendarException.objects.create(calendar=calendar, date=datetime.date(2021, 10, 20))
    CalendarException.objects.create(
        calendar=calendar, date=datetime.date(2021, 10, 21), hours=["10:00-12:00"]
    )
    built = business_calendar(calendar, today=datetime.date(2021, 10, 1))
    # Tuesday 19 Oct: 7.5 h (08–12, 13–16:30); Wednesday closed; Thursday 10–12.
    total = engine.business_time_between(built, _at(2021, 10, 19, 0, 0), _at(2021, 10, 22, 0, 0))
    assert total == datetime.timedelta(hours=9, minutes=30)
    # Julafton is closed by default; midsommarafton too.
    assert engine.business_time_between(
        built, _at(2021, 12, 24, 0, 0), _at(2021, 12, 25, 0, 0)
    ) == datetime.timedelta(0)
    calendar.closed_eves = False
    calendar.save()
    assert engine.business_time_between(
        business_calendar(calendar, today=datetime.date(2021, 10, 1)),
        _at(2021, 12, 24, 0, 0),
        _at(2021, 12, 25, 0, 0),
    ) == datetime.timedelta(hours=7, minutes=30)


def test_bad_hours_are_refused_with_a_reason():
    calendar = Calendar(name="Fel", weekly_hours={"mon": ["8-12 ungefär"]})
    with pytest.raises(ValidationError):
        calendar.full_clean()
    with pytest.raises(ValidationError):
        Calendar(name="Fel2", weekly_hours={"monday": []}).full_clean()


def test_policies_match_in_order():
    herrljunga = OrganisationFactory()
    SlaPolicy.objects.create(
        name="Allmän", order=100, first_response_minutes=480, resolution_minutes=2400
    )
    SlaPolicy.objects.create(
        name="Kritisk", order=10, priority=1, first_response_minutes=30, resolution_minutes=240
    )
    SlaPolicy.objects.create(
        name="Herrljunga frågor",
        order=50,
        organisation=herrljunga,
        kind="question",
        first_response_minutes=960,
        resolution_minutes=4800,
    )
    assert (
        policy_for(organisation_id=herrljunga.pk, service_id=None, kind="incident", priority=1).name
        == "Kritisk"
    )
    assert (
        policy_for(organisation_id=herrljunga.pk, service_id=None, kind="question", priority=3).name
        == "Herrljunga frågor"
    )
    assert (
        policy_for(organisation_id=None, service_id=None, kind="question", priority=3).name
        == "Allmän"
    )
