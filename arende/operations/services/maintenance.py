"""Planned maintenance: announced on the status page, counted apart from unplanned downtime."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from arende.core.audit import audit_record, audit_value
from arende.core.errors import ValidationFailed
from arende.core.models import Organisation, User
from arende.operations.models import Change, PlannedMaintenance
from arende.operations.services.common import (
    lock,
    m2m_names,
    org_ids,
    require_perm,
    save_versioned,
    snap,
)
from arende.servicedesk.models import Service

ADD = "operations.add_plannedmaintenance"
CHANGE = "operations.change_plannedmaintenance"


@transaction.atomic
def maintenance_create(
    *,
    actor: User | None,
    title: str,
    services: Iterable[Service],
    organisations: Iterable[Organisation],
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    public_description: str = "",
    internal_note: str = "",
    is_public: bool = True,
    change: Change | None = None,
) -> PlannedMaintenance:
    title = title.strip()
    if not title:
        raise ValidationFailed(_("Give the maintenance a short title."), field="title")
    services, organisations = list(services), list(organisations)
    if not services:
        raise ValidationFailed(_("Choose at least one service."), field="services")
    if not organisations:
        raise ValidationFailed(_("Choose at least one organisation."), field="organisations")
    require_perm(actor, ADD, [org.pk for org in organisations], every=True)
    if ends_at <= starts_at:
        raise ValidationFailed(_("The window must end after it starts."), field="ends_at")
    window = PlannedMaintenance.objects.create(
        title=title[:200],
        public_description=public_description.strip(),
        internal_note=internal_note.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        is_public=is_public,
        change=change,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    window.services.set(services)
    window.organisations.set(organisations)
    audit_record(
        actor=actor,
        action="create",
        obj=window,
        changes={
            "title": [None, window.title],
            "starts_at": [None, audit_value(starts_at)],
            "ends_at": [None, audit_value(ends_at)],
            "services": [None, m2m_names(services)],
            "organisations": [None, m2m_names(organisations)],
        },
    )
    return window


@transaction.atomic
def maintenance_cancel(
    *, actor: User | None, window: PlannedMaintenance, version: int | None
) -> PlannedMaintenance:
    window = lock(window, version)
    require_perm(actor, CHANGE, org_ids(window), every=False)
    if window.is_cancelled:
        raise ValidationFailed(_("The maintenance is already cancelled."), field="is_cancelled")
    before = snap(window, "is_cancelled")
    window.is_cancelled = True
    return save_versioned(window, actor=actor, before=before, verb="cancel")
