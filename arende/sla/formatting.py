"""Business durations as people read them; used by templates and by the queue's row writer."""

from __future__ import annotations

from django.utils.translation import gettext as _


def business_duration(seconds: int | None) -> str:
    """``9000`` → "2 h 30 min"; negative values read as time over the target."""
    if seconds is None:
        return "–"
    value = abs(int(seconds))
    hours, rest = divmod(value // 60, 60)
    text = f"{hours} h {rest} min" if hours else f"{rest} min"
    if seconds < 0:
        return _("%(time)s over") % {"time": text}
    return text
