"""Owners of overdue follow-up actions are reminded by e-mail: the day after, then weekly."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail as django_mail

from arende.core.models import AuditEvent
from arende.core.tests.factories import UserFactory, grant
from arende.mail.models import OutboundMessage
from arende.operations.jobs import remind_overdue_actions
from arende.operations.models import ReviewAction
from arende.operations.services import incidents as services
from arende.operations.tests.test_incidents import _declare

pytestmark = pytest.mark.django_db
TZ = datetime.timezone(datetime.timedelta(hours=1))
DUE = datetime.date(2021, 6, 1)


@pytest.fixture
def review(ops):
    incident = _declare(ops, started_at=datetime.datetime(2021, 5, 3, 8, tzinfo=TZ))
    incident = services.major_incident_resolve(
        actor=ops["im"], incident=incident, version=None, resolution="Löst."
    )
    return incident.review


def _action(ops, review, owner, description, due=DUE):
    return services.review_action_add(
        actor=ops["im"], review=review, description=description, owner=owner, due_date=due
    )


def _remind(django_capture_on_commit_callbacks, day: datetime.date, hour: int = 7):
    with django_capture_on_commit_callbacks(execute=True):
        return services.review_actions_remind(
            now=datetime.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)
        )


def test_the_owner_is_reminded_the_day_after_then_weekly_until_done(
    client, ops, review, django_capture_on_commit_callbacks
):
    owner = ops["specialist"]
    action = _action(ops, review, owner, "Köp omstyrningstjänst")

    assert _remind(django_capture_on_commit_callbacks, DUE) == []  # due today: not late yet
    assert django_mail.outbox == []

    day_after = DUE + datetime.timedelta(days=1)
    assert _remind(django_capture_on_commit_callbacks, day_after) == [action]
    (mail,) = django_mail.outbox
    assert mail.to == [f"{owner.get_full_name()} <{owner.email}>"]
    incident = review.incident
    assert mail.subject == f"[{incident.reference}] Påminnelse: åtgärd efter störningen är försenad"
    assert "Köp omstyrningstjänst" in mail.body and "2021-06-01" in mail.body
    assert f"/operations/major-incidents/{incident.pk}/#review" in mail.body
    stored = OutboundMessage.objects.get()
    assert stored.kind == "action_overdue" and stored.state == "sent" and stored.ticket is None
    event = AuditEvent.objects.get(verb="remind")
    assert event.object_id == str(action.pk) and event.actor is None
    client.force_login(ops["im"])
    page = client.get(f"/operations/major-incidents/{incident.pk}/").content.decode()
    assert f"reminded {day_after.isoformat()}" in page or f"påmind {day_after.isoformat()}" in page

    # Again the same day, and on each of the next six days: nothing more.
    for offset in range(7):
        later = day_after + datetime.timedelta(days=offset)
        assert _remind(django_capture_on_commit_callbacks, later, 9) == []
    assert len(django_mail.outbox) == 1

    week_later = day_after + datetime.timedelta(days=7)
    assert _remind(django_capture_on_commit_callbacks, week_later) == [action]
    assert len(django_mail.outbox) == 2

    services.review_action_set_done(actor=owner, action=action)
    assert _remind(django_capture_on_commit_callbacks, week_later + datetime.timedelta(14)) == []
    assert len(django_mail.outbox) == 2


def test_each_owner_in_their_language_and_nobody_who_cannot_read_it(
    ops, review, django_capture_on_commit_callbacks
):
    english = grant(UserFactory(organisation=ops["it"], language="en"), "specialist")
    gone = grant(UserFactory(organisation=ops["it"]), "specialist")
    _action(ops, review, english, "Document the rerouting")
    _action(ops, review, gone, "Något som ingen gör")
    _action(ops, review, ops["agent"], "Inte försenad än", due=datetime.date(2021, 7, 1))
    gone.is_active = False
    gone.save()

    reminded = _remind(django_capture_on_commit_callbacks, datetime.date(2021, 6, 10))
    assert [action.description for action in reminded] == ["Document the rerouting"]
    (mail,) = django_mail.outbox
    assert mail.subject.endswith("Reminder: a follow-up action is overdue")
    assert "You are reminded once a week" in mail.body
    gone_action = ReviewAction.objects.get(owner=gone)
    assert gone_action.reminded_at is None


def test_the_daily_job_runs_the_reminders(ops, review, django_capture_on_commit_callbacks):
    _action(ops, review, ops["specialist"], "Köp omstyrningstjänst")
    with django_capture_on_commit_callbacks(execute=True):
        remind_overdue_actions.call_local()
    assert len(django_mail.outbox) == 1
    assert ReviewAction.objects.get().reminded_at is not None
