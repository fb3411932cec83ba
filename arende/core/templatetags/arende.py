"""Template helpers shared by every app."""

from __future__ import annotations

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from arende.core.html import esc

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


@register.simple_tag
def field_row(field) -> SafeString:
    """``{% include "servicedesk/agent/_field.html" %}`` written in Python: the same markup
    (label, required mark, widget, help, errors), for forms that repeat it many times."""
    errors = field.errors
    required = ""
    if field.field.required:
        required = f' <span class="required">({esc(gettext("required"))})</span>'
    help_text = ""
    if field.help_text:
        help_text = f'<p class="help" id="{esc(field.auto_id)}_helptext">{esc(field.help_text)}</p>'
    error_text = ""
    if errors:
        joined = " ".join(esc(error) for error in errors)
        error_text = f'<p class="field-error" id="{esc(field.auto_id)}_error">{joined}</p>'
    return mark_safe(  # noqa: S308 - every value is escaped (the widget renders itself)
        f'<div class="field{" field--invalid" if errors else ""}">\n'
        f'  <label for="{esc(field.id_for_label)}">{esc(field.label)}{required}</label>\n'
        f"  {field}\n  {help_text}\n  {error_text}\n</div>\n"
    )


@register.simple_tag(takes_context=True)
def home_panel(context, panel) -> SafeString:
    """Render a start-page panel (``arende.core.home.HomePanel``) with its own context on top
    of the page's, as ``{% include %}`` would with the panel's variables spread out."""
    template = context.template.engine.get_template(panel.template)
    with context.push(panel.context):
        return template.render(context)
