"""The main navigation, shown by role. Domain apps add their entries to NAVIGATION."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from arende.core import access


@dataclass(frozen=True)
class NavItem:
    label: Any
    url_name: str
    allowed: Callable[[Any], bool]


def _perm(perm: str) -> Callable[[Any], bool]:
    # What ``user.has_perm(perm)`` answers (roles are the only source of permissions, see
    # access.LoginBackend), without Django loading each backend again for each of a dozen items
    # on every page.
    return lambda user: access.has_scoped_perm(user, perm)


def _edits_catalogue(user: Any) -> bool:
    from arende.servicedesk.services.catalogue import may_edit_catalogue

    return may_edit_catalogue(user)


NAVIGATION: list[NavItem] = [
    NavItem(_("Home"), "core:home", lambda user: True),
    NavItem(_("Service desk"), "servicedesk:queue", _perm("servicedesk.view_ticket")),
    NavItem(_("My tickets"), "servicedesk:portal_home", lambda user: True),
    NavItem(_("Log a call"), "servicedesk:phone_intake", _perm("servicedesk.add_ticket")),
    NavItem(
        _("Dashboard"),
        "servicedesk:dashboard",
        _perm("servicedesk.view_servicedesk_dashboard"),
    ),
    NavItem(_("SLA"), "sla:report", _perm("servicedesk.view_servicedesk_dashboard")),
    NavItem(_("Incoming e-mail"), "mail:inbound_list", _perm("mail.manage_inbound")),
    NavItem(_("Service catalogue"), "servicedesk:catalogue", _edits_catalogue),
    NavItem(
        _("Operations"),
        "operations:overview",
        lambda user: any(
            access.has_scoped_perm(user, perm)
            for perm in (
                "operations.view_majorincident",
                "operations.view_change",
                "operations.view_problem",
            )
        ),
    ),
    NavItem(_("People"), "core:user_list", _perm("core.view_user")),
    NavItem(_("Organisations"), "core:organisation_list", _perm("core.view_organisation")),
    NavItem(_("Audit log"), "core:audit_list", _perm("core.view_auditevent")),
    NavItem(_("System status"), "core:system_status", _perm("core.view_systemstatus")),
    NavItem(_("E-mail notifications"), "mail:preferences", _perm("servicedesk.work_ticket")),
    NavItem(_("API"), "swagger-ui", access.is_it_staff),
    NavItem(_("Administration"), "admin:index", lambda user: user.is_staff),
]


_urls: dict[str, str] = {}


@receiver(setting_changed)
def _forget_urls(**kwargs: Any) -> None:
    if kwargs.get("setting") in ("ROOT_URLCONF", "FORCE_SCRIPT_NAME"):
        _urls.clear()


def _url(name: str) -> str:
    """The item's address, reversed once per process (the URLconf does not change)."""
    url = _urls.get(name)
    if url is None:
        url = _urls[name] = reverse(name)
    return url


def items_for(user: Any, path: str) -> list[dict[str, Any]]:
    if not user.is_authenticated:
        return []
    items = []
    for item in NAVIGATION:
        if not item.allowed(user):
            continue
        url = _url(item.url_name)
        current = path == url if url == "/" else path.startswith(url)
        items.append({"label": item.label, "url": url, "current": current})
    return items
