"""The public status page ("Driftstatus") and its Atom feed: no login, Swedish, and only the
public title, summary and public updates of major incidents and maintenance ever reach it."""

from __future__ import annotations

import datetime

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from arende.operations import selectors
from arende.operations.models import MajorIncident, PlannedMaintenance


def status_page(request: HttpRequest) -> HttpResponse:
    """The public status page: no login; the same for everyone."""
    return render(request, "operations/status_page.html", selectors.status_page())


class StatusFeed(Feed):
    """Disruptions and planned maintenance of the last 90 days, newest first."""

    feed_type = Atom1Feed

    def __call__(self, request, *args, **kwargs):
        with translation.override("sv"):
            return super().__call__(request, *args, **kwargs)

    def title(self) -> str:
        return _("Operational status – IT, switchboard and telephony")

    def subtitle(self) -> str:
        return _("Disruptions and planned maintenance of the IT unit's services.")

    def link(self) -> str:
        return reverse("status_page")

    def items(self) -> list[MajorIncident | PlannedMaintenance]:
        now = timezone.now()
        since = now - datetime.timedelta(days=selectors.STATUS_HISTORY_DAYS)
        incidents = list(
            selectors.public_incidents().filter(started_at__gte=since).order_by("-started_at")[:50]
        )
        windows = list(
            selectors.public_maintenance().filter(starts_at__gte=since).order_by("-starts_at")[:50]
        )
        return sorted(incidents + windows, key=self.item_pubdate, reverse=True)[:50]

    def item_title(self, item) -> str:
        if isinstance(item, MajorIncident):
            prefix = _("Resolved") if item.resolved_at else _("Disruption")
            return f"{prefix}: {item.public_title}"
        return _("Planned maintenance: %(title)s") % {"title": item.title}

    def item_description(self, item) -> str:
        if isinstance(item, MajorIncident):
            lines = [item.public_summary]
            lines += [
                f"{timezone.localtime(update.at):%Y-%m-%d %H:%M} {update.body}"
                for update in item.public_updates
            ]
            return "\n".join(line for line in lines if line)
        start = timezone.localtime(item.starts_at)
        end = timezone.localtime(item.ends_at)
        return f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}. {item.public_description}"

    def item_link(self, item) -> str:
        kind = "incident" if isinstance(item, MajorIncident) else "maintenance"
        return f"{reverse('status_page')}#{kind}-{item.pk}"

    def item_guid(self, item) -> str:
        kind = "incident" if isinstance(item, MajorIncident) else "maintenance"
        return f"urn:arende:status:{kind}:{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item) -> datetime.datetime:
        return item.started_at if isinstance(item, MajorIncident) else item.starts_at

    def item_updateddate(self, item) -> datetime.datetime:
        if isinstance(item, MajorIncident):
            return item.resolved_at or (
                item.public_updates[0].at if item.public_updates else item.declared_at
            )
        return item.starts_at
