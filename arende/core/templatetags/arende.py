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
        return str(model._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:
        return field
