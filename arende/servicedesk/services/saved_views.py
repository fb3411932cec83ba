"""Saved views of the agent workspace. Private to their owner, so not audited."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from arende.core.errors import ValidationFailed
from arende.core.models import User
from arende.servicedesk.models import SavedView


@transaction.atomic
def saved_view_save(*, user: User, name: str, query: str) -> SavedView:
    """Save the queue page's query under ``name``; the same name again replaces the query."""
    name = name.strip()
    if not name:
        raise ValidationFailed(_("Give the view a name."), field="name")
    if len(name) > SavedView._meta.get_field("name").max_length:
        raise ValidationFailed(_("The name is too long."), field="name")
    if len(query) > SavedView._meta.get_field("query").max_length:
        raise ValidationFailed(_("Too many filters to save in one view."), field="name")
    view, _created = SavedView.objects.update_or_create(
        user=user, name=name, defaults={"query": query}
    )
    return view


@transaction.atomic
def saved_view_delete(*, user: User, view_id: int) -> None:
    """Delete one of the user's own views; someone else's view counts as missing."""
    deleted, _rows = SavedView.objects.filter(user=user, pk=view_id).delete()
    if not deleted:
        raise ValidationFailed(_("That view no longer exists."), field="view")
