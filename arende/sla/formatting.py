"""Business durations as people read them; used by templates and by the queue's row writer."""

from __future__ import annotations

from django.utils.translation import gettext as _

# From this many hours on the minutes are noise ("9 329 h 55 min over" said less, later).
WHOLE_HOURS_FROM = 100


def business_duration(seconds: int | None) -> str:
    """``9000`` → "2 h 30 min"; ``-360000`` → "100 h over" (whole hours from 100 h, grouped in
    thousands the Swedish way); negative values read as time over the target."""
    if seconds is None:
        return "–"
    value = abs(int(seconds))
    hours, rest = divmod(value // 60, 60)
    if hours >= WHOLE_HOURS_FROM:
        text = f"{hours:,} h".replace(",", "\u00a0")
    elif hours:
        text = f"{hours} h {rest} min"
    else:
        text = f"{rest} min"
    if seconds < 0:
        return _("%(time)s over") % {"time": text}
    return text
