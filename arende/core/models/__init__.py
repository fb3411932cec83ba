from arende.core.models import lookups  # noqa: F401 - registers id__in_set
from arende.core.models.audit import AuditEvent
from arende.core.models.organisations import Department, Organisation
from arende.core.models.roles import Role, RoleAssignment
from arende.core.models.system import Heartbeat
from arende.core.models.users import User

__all__ = [
    "AuditEvent",
    "Department",
    "Heartbeat",
    "Organisation",
    "Role",
    "RoleAssignment",
    "User",
]
