"""The desk's shared choice lists (support groups, their members, the filter form's lists),
kept in the cache.

They change a few times a year, yet every queue page showed them (the bulk bar's selects: two
queries and a hundred model instances, a tenth of the page's time). Any change to a support
group, its members or a person makes them be read again (``core.reference_cache``). The lists
only decide what a form *offers*: a submitted value is still checked against the database by
the form's queryset.
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save

from arende.core.models import User
from arende.core.reference_cache import ReferenceCache
from arende.servicedesk.models import SupportGroup

CHOICES = ReferenceCache("servicedesk:choices")

Choices = list[tuple[int, str]]


def active_groups(line: int | None = None):
    """Active support groups (of one line), first line first, by name."""
    groups = SupportGroup.objects.filter(is_active=True).order_by("line", "name")
    return groups.filter(line=line) if line else groups


def group_members(line: int | None = None):
    """Active people who belong to an active support group (of one line), by name."""
    memberships = SupportGroup.members.through.objects.filter(supportgroup__is_active=True)
    if line:
        memberships = memberships.filter(supportgroup__line=line)
    return User.objects.filter(is_active=True, pk__in=memberships.values("user_id")).order_by(
        "first_name", "last_name", "pk"
    )


def person_label(first_name: str, last_name: str, email: str) -> str:
    """As ``User.get_full_name() or User.email``."""
    return f"{first_name} {last_name}".strip() or email


def group_choices(line: int | None = None) -> Choices:
    """``(pk, name)`` of ``active_groups(line)``."""
    return CHOICES.get(
        f"groups:{line or 'all'}", lambda: list(active_groups(line).values_list("pk", "name"))
    )


def member_choices(line: int | None = None) -> Choices:
    """``(pk, name or e-mail)`` of ``group_members(line)``."""

    def build() -> Choices:
        rows = group_members(line).values_list("pk", "first_name", "last_name", "email")
        return [(pk, person_label(first, last, email)) for pk, first, last, email in rows]

    return CHOICES.get(f"members:{line or 'all'}", build)


def groups_of(user_id: int) -> list[int]:
    """The support groups ``user_id`` belongs to (the queue "My groups")."""
    return CHOICES.get(
        f"groups-of:{user_id}",
        lambda: sorted(
            SupportGroup.members.through.objects.filter(user_id=user_id).values_list(
                "supportgroup_id", flat=True
            )
        ),
    )


def _user_saved(sender, instance: User, update_fields=None, **kwargs) -> None:
    if update_fields is not None and set(update_fields) <= {"last_login", "password"}:
        return  # a login changes nothing a list shows
    CHOICES.forget()


def connect_signals() -> None:
    """Called by the app's ``ready``."""
    membership = SupportGroup.members.through
    for name, signal in (("saved", post_save), ("deleted", post_delete)):
        signal.connect(CHOICES.forget, sender=SupportGroup, dispatch_uid=f"choices-group-{name}")
        signal.connect(CHOICES.forget, sender=membership, dispatch_uid=f"choices-member-{name}")
    # The filter form's lists (``filters.TicketFilter``) name these too.
    for model in (
        "core.Organisation",
        "core.Department",
        "servicedesk.Service",
        "servicedesk.Category",
    ):
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(CHOICES.forget, sender=model, dispatch_uid=f"choices-{model}-{name}")
    post_save.connect(_user_saved, sender=User, dispatch_uid="choices-user-saved")
    post_delete.connect(CHOICES.forget, sender=User, dispatch_uid="choices-user-deleted")
    m2m_changed.connect(CHOICES.forget, sender=membership, dispatch_uid="choices-members-changed")
