"""The built-in roles of DESIGN.md §1 and the permissions each one carries.

Roles live in the database so that an administrator can adjust them; ``sync_roles`` brings the
built-in ones up to this definition after every migration (adding permissions, never removing
ones an administrator added). Each domain app adds its permissions here as it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

DIRECTORY_READ = ("core.view_organisation", "core.view_department", "core.view_user")
ORG_READ = ("core.view_organisation", "core.view_department")
AUDIT_READ = ("core.view_auditevent", "core.view_roleassignment")
TICKET_WORK = (
    "servicedesk.view_ticket",
    "servicedesk.add_ticket",
    "servicedesk.work_ticket",
    "servicedesk.view_internal_note",
    "servicedesk.view_supportgroup",
    "servicedesk.view_service",
)
DASHBOARD = ("servicedesk.view_servicedesk_dashboard",)
# The catalogue is shared by every organisation: editing it needs the role for all of them.
CATALOGUE_EDIT = (
    "servicedesk.add_service",
    "servicedesk.change_service",
    "servicedesk.view_requesttype",
    "servicedesk.add_requesttype",
    "servicedesk.change_requesttype",
)
MAIL_QUARANTINE = ("mail.manage_inbound",)
MAIL_ADMIN = (
    "mail.view_mailbox",
    "mail.add_mailbox",
    "mail.change_mailbox",
    "mail.view_notificationtemplate",
    "mail.change_notificationtemplate",
)
OPS_READ = (
    "operations.view_majorincident",
    "operations.view_problem",
    "operations.view_change",
    "operations.view_plannedmaintenance",
)
PROBLEM_WORK = ("operations.add_problem", "operations.change_problem")
INCIDENT_MANAGE = (
    "operations.add_majorincident",
    "operations.change_majorincident",
    *PROBLEM_WORK,
    "operations.add_plannedmaintenance",
    "operations.change_plannedmaintenance",
)
CHANGE_REQUEST = ("operations.add_change", "operations.change_change")
CHANGE_MANAGE = (
    "operations.approve_change",
    "operations.manage_change",
    "operations.add_plannedmaintenance",
    "operations.change_plannedmaintenance",
)


@dataclass(frozen=True)
class RoleDefinition:
    code: str
    name: str
    description: str
    permissions: tuple[str, ...]
    is_it_staff: bool


ROLE_DEFINITIONS: tuple[RoleDefinition, ...] = (
    RoleDefinition(
        "requester",
        _("Requester"),
        _("Employee of a municipality: reports problems, asks for things, follows own tickets."),
        (),
        False,
    ),
    RoleDefinition(
        "switchboard",
        _("Switchboard"),
        _("Reception and switchboard: logs phone calls as tickets and looks people up."),
        (*DIRECTORY_READ, *TICKET_WORK, *OPS_READ),
        True,
    ),
    RoleDefinition(
        "agent",
        _("First-line agent"),
        _("Service desk: triages, solves what it can and escalates to the second line."),
        (*DIRECTORY_READ, *TICKET_WORK, *OPS_READ, *PROBLEM_WORK),
        True,
    ),
    RoleDefinition(
        "specialist",
        _("Second-line specialist"),
        _("Operations, network and systems: solves escalated tickets and carries out changes."),
        (*DIRECTORY_READ, *TICKET_WORK, *OPS_READ, *PROBLEM_WORK, *CHANGE_REQUEST),
        True,
    ),
    RoleDefinition(
        "incident_manager",
        _("Incident Manager"),
        _("Runs major incidents and their reviews."),
        (*DIRECTORY_READ, *TICKET_WORK, *DASHBOARD, *OPS_READ, *INCIDENT_MANAGE, *CHANGE_REQUEST),
        True,
    ),
    RoleDefinition(
        "change_manager",
        _("Change Manager"),
        _("Runs the change process and the change board."),
        (*DIRECTORY_READ, *TICKET_WORK, *OPS_READ, *CHANGE_REQUEST, *CHANGE_MANAGE),
        True,
    ),
    RoleDefinition(
        "manager",
        _("IT manager"),
        _("Follows the service desk, staffing and budget; presents to the board."),
        (
            *DIRECTORY_READ,
            *AUDIT_READ,
            "core.view_systemstatus",
            *TICKET_WORK,
            *DASHBOARD,
            *OPS_READ,
            *INCIDENT_MANAGE,
            *MAIL_QUARANTINE,
            *CHANGE_REQUEST,
            *CHANGE_MANAGE,
            *CATALOGUE_EDIT,
        ),
        True,
    ),
    RoleDefinition(
        "controller",
        _("IT controller"),
        _("Budget, outcome, forecast, purchases and project costs."),
        DIRECTORY_READ,
        True,
    ),
    RoleDefinition(
        "architect",
        _("IT architect"),
        _("System map and reviews of privileges."),
        (*DIRECTORY_READ, *AUDIT_READ),
        True,
    ),
    RoleDefinition(
        "department_contact",
        _("Department contact"),
        _("A requester who follows all tickets of own department (e.g. a head of unit)."),
        ("servicedesk.view_department_tickets",),
        False,
    ),
    RoleDefinition(
        "board_member",
        _("Board member"),
        _("Member of the joint board: reads reports (read only)."),
        ORG_READ,
        False,
    ),
    RoleDefinition(
        "auditor",
        _("Auditor"),
        _("Municipal auditor: reads reports and the audit log (read only)."),
        (*ORG_READ, "core.view_auditevent"),
        False,
    ),
    RoleDefinition(
        "admin",
        _("Administrator"),
        _("Configures everything."),
        (
            *DIRECTORY_READ,
            *AUDIT_READ,
            "core.view_systemstatus",
            "core.add_organisation",
            "core.change_organisation",
            "core.add_department",
            "core.change_department",
            "core.add_user",
            "core.change_user",
            "core.view_role",
            "core.change_role",
            "core.add_roleassignment",
            "core.delete_roleassignment",
            *TICKET_WORK,
            *DASHBOARD,
            "servicedesk.change_supportgroup",
            *CATALOGUE_EDIT,
            *MAIL_QUARANTINE,
            *MAIL_ADMIN,
            *OPS_READ,
            *INCIDENT_MANAGE,
            *CHANGE_REQUEST,
            *CHANGE_MANAGE,
        ),
        True,
    ),
)

ROLE_LABELS = {definition.code: definition.name for definition in ROLE_DEFINITIONS}


def sync_roles() -> None:
    """Create the built-in roles and give them at least their defined permissions."""
    from django.contrib.auth.models import Permission

    from arende.core.models import Role

    for definition in ROLE_DEFINITIONS:
        role, _created = Role.objects.get_or_create(
            code=definition.code,
            defaults={
                "name": str(definition.name),
                "description": str(definition.description),
                "is_it_staff": definition.is_it_staff,
            },
        )
        wanted = []
        for dotted in definition.permissions:
            app_label, codename = dotted.split(".", 1)
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is None:
                raise LookupError(f"Role {definition.code!r} names unknown permission {dotted!r}.")
            wanted.append(permission)
        role.permissions.add(*wanted)


def sync_roles_after_migrate(sender, using: str = "default", **kwargs) -> None:
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    # post_migrate runs app by app; permissions of apps after core may not exist yet.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_roles()
