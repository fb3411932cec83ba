"""Rendering the notification templates an administrator may edit, safely.

A Django template engine of its own: no template directories or loaders (``include`` and
``extends`` find nothing), no tag libraries beyond the built-in tags and filters, and a context
of plain strings, numbers and lists built here, never model instances, so a template cannot
reach a method, a setting or the database. Output is plain text (no HTML escaping).
"""

from __future__ import annotations

from typing import Any

from django.template import Context, Engine, TemplateSyntaxError
from django.utils.translation import gettext_lazy as _

from arende.mail.defaults import DEFAULT_TEMPLATES

_ENGINE = Engine(
    dirs=[],
    app_dirs=False,
    loaders=[("django.template.loaders.locmem.Loader", {})],
    libraries={},
    builtins=["django.template.defaulttags", "django.template.defaultfilters"],
    autoescape=False,
    string_if_invalid="",
)
FORBIDDEN_TAGS = ("{% load", "{% include", "{% extends", "{% debug", "{% ssi", "{% url")

VARIABLES = {
    "recipient_name": _("the recipient's name"),
    "reference": _("the ticket's reference, e.g. 2026-000123 (the major incident's, MI-0004)"),
    "title": _("the ticket's title (the major incident's)"),
    "status": _("the ticket's status"),
    "priority": _("the ticket's priority"),
    "requester": _("the requester"),
    "group": _("the ticket's group"),
    "actor": _("who made the change"),
    "author": _("who wrote the message"),
    "message": _("the reply, or the reason for an escalation"),
    "resolution": _("the resolution"),
    "ticket_url": _("link to the ticket (the portal for requesters)"),
    "rating_url": _("link for rating the help (resolved only)"),
    "reopen_days": _("days within which a reply reopens the ticket"),
    "sla_metric": _("the SLA measure (SLA only)"),
    "sla_level": _("warning, critical or breached (SLA only)"),
    "sla_deadline": _("the deadline (SLA only)"),
    "count": _("number of tickets (digest only)"),
    "items": _("the tickets: reference, title, what, url (digest only)"),
    "action": _("the follow-up action (overdue actions only)"),
    "due_date": _("when the action was due (overdue actions only)"),
    "incident_url": _("link to the major incident's review (overdue actions only)"),
}


class TemplateRefused(Exception):
    """The template uses something not allowed, or does not parse; the text says what."""


def check_template(source: str) -> None:
    compact = " ".join(source.split())
    for tag in FORBIDDEN_TAGS:
        if tag in compact.replace("{%  ", "{% "):
            raise TemplateRefused(str(_("The tag “%(tag)s” is not allowed.") % {"tag": tag[3:]}))
    try:
        _ENGINE.from_string(source)
    except TemplateSyntaxError as error:
        raise TemplateRefused(str(error)) from None


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)


def render(source: str, context: dict[str, Any]) -> str:
    check_template(source)
    return _ENGINE.from_string(source).render(Context(_plain(context), autoescape=False))


def render_notification(kind: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) from the administrator's template, or the default when it fails."""
    from arende.mail.models import NotificationTemplate

    found = {
        row.language: row
        for row in NotificationTemplate.objects.filter(kind=kind, language__in=[language, "sv"])
    }
    template = found.get(language) or found.get("sv")
    candidates = []
    if template is not None:
        candidates.append((template.subject, template.body))
    default = DEFAULT_TEMPLATES.get((kind, language)) or DEFAULT_TEMPLATES[(kind, "sv")]
    candidates.append(default)
    for subject_source, body_source in candidates:
        try:
            subject = " ".join(render(subject_source, context).split())
            body = render(body_source, context).strip() + "\n"
            return subject[:300], body
        except TemplateRefused:
            continue
    raise AssertionError("the default templates always render")
