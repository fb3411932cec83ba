"""Writes of staff data."""

from __future__ import annotations

import datetime

from django.db import transaction

from arende.core.models import User
from arende.core.versioning import audited_create
from arende.people.models import Employment


@transaction.atomic
def employment_create(
    *,
    actor: User | None,
    user: User,
    form: str,
    starts_on: datetime.date,
    rate_percent: int = 100,
    ends_on: datetime.date | None = None,
) -> Employment:
    employment = Employment(
        user=user, form=form, rate_percent=rate_percent, starts_on=starts_on, ends_on=ends_on
    )
    return audited_create(
        actor=actor,
        instance=employment,
        fields=("user", "form", "rate_percent", "starts_on", "ends_on"),
    )
