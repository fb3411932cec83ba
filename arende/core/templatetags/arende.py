"""Template helpers shared by every app."""

from __future__ import annotations

from django import template
from django.core.exceptions import FieldDoesNotExist

register = template.Library()


@register.simple_tag
def audit_field_label(event, field: str) -> str:
    """The field's verbose name in the current language, or the raw name for pseudo-fields."""
    model = event.content_type.model_class() if event.content_type_id else None
    if model is None:
        return field
    try:
        model_field = model._meta.get_field(field)
    except FieldDoesNotExist:
        return field
    # A reverse relation (a ticket's "rating") has no verbose name of its own: use the model's.
    label = getattr(model_field, "verbose_name", None)
    if label is None and model_field.related_model is not None:
        label = model_field.related_model._meta.verbose_name
    return str(label or field)


@register.filter
def at_most(count: int, cap: int) -> str:
    """``1 000+`` for a capped count, else the count with Swedish grouping."""
    from django.contrib.humanize.templatetags.humanize import intcomma

    if count > cap:
        return f"{intcomma(cap)}+"
    return intcomma(count)
