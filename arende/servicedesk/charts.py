"""Server-rendered SVG charts: the same markup goes into the page and (later) into the PDF.

Rules the charts keep (WCAG 2.1 AA and the strict CSP):
- ``role="img"`` with a ``<title>`` and a ``<desc>`` that says what the chart shows and what it
  means in words; the page shows the same figures as a table next to it;
- no ``style`` attributes or ``<style>`` elements: only SVG presentation attributes;
- colours have at least 3:1 contrast against white, and colour is never the only cue: series
  differ in dash pattern or fill pattern too, carry direct labels, and bars carry their values.

Every text is escaped; the functions return safe strings ready for a template.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.dateformat import format as date_format
from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

INK = "#1b1f24"
MUTED = "#4a5561"
GRID = "#d5dbe2"
# Contrast against white: 11.9:1, 5.1:1, 6.4:1 — all above the 3:1 of WCAG 1.4.11.
COLOURS = ("#123a5e", "#a14a00", "#1d6b37")
DASHES = ("", "9 4", "2 4")
FONT = "system-ui, -apple-system, Segoe UI, Roboto, DejaVu Sans, sans-serif"


def fmt(value: Any, decimals: int = 0) -> str:
    """A number in the reader's format (Swedish: ``1 234,5``)."""
    if value is None:
        return "–"
    return number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def nice_ceiling(value: float) -> tuple[float, float]:
    """A round top for the y-axis and the step between its ticks (4–6 ticks)."""
    if value <= 0:
        return 1.0, 1.0
    raw_step = value / 5
    magnitude = 10 ** math.floor(math.log10(raw_step))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw_step:
            break
    top = math.ceil(value / step) * step
    return top, step


def _attrs(**attributes: Any) -> str:
    parts = []
    for name, value in attributes.items():
        if value is None or value == "":
            continue
        parts.append(f'{name.rstrip("_").replace("_", "-")}="{escape(str(value))}"')
    return " ".join(parts)


def _el(tag: str, content: str = "", **attributes: Any) -> str:
    attrs = _attrs(**attributes)
    opening = f"<{tag} {attrs}" if attrs else f"<{tag}"
    return f"{opening}>{content}</{tag}>" if content else f"{opening}/>"


def _text(x: float, y: float, text: str, **attributes: Any) -> str:
    attributes.setdefault("fill", INK)
    attributes.setdefault("font_size", 12)
    return _el("text", escape(text), x=f"{x:.1f}", y=f"{y:.1f}", **attributes)


def _svg(chart_id: str, title: str, desc: str, width: int, height: int, body: str) -> SafeString:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart__svg" role="img" '
        f'viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="{FONT}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
    )
    return mark_safe(head + body + "</svg>")  # noqa: S308 - every text above is escaped


def _y_axis(
    left: float,
    right: float,
    top: float,
    bottom: float,
    y_max: float,
    step: float,
    decimals: int = 0,
    suffix: str = "",
) -> str:
    parts = []
    tick = 0.0
    while tick <= y_max + step / 1000:
        y = bottom - (bottom - top) * tick / y_max
        parts.append(
            _el(
                "line", x1=left, x2=right, y1=f"{y:.1f}", y2=f"{y:.1f}", stroke=GRID, stroke_width=1
            )
        )
        parts.append(
            _text(left - 6, y + 4, fmt(tick, decimals) + suffix, text_anchor="end", fill=MUTED)
        )
        tick += step
    parts.append(_el("line", x1=left, x2=right, y1=bottom, y2=bottom, stroke=MUTED, stroke_width=1))
    return "".join(parts)


# Line chart ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | int | None]
    emphasis: bool = False


@dataclass(frozen=True)
class Note:
    """A labelled point on a line chart (the peak, the latest value)."""

    index: int
    value: float
    label: str


def line_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    days: Sequence[datetime.date],
    series: Sequence[Series],
    notes: Sequence[Note] = (),
    width: int = 1000,
    height: int = 380,
) -> SafeString:
    """Lines over days, with month ticks, a legend, direct end labels and notes."""
    left, right, top, bottom = 52, width - 118, 34, height - 36
    if not days:
        return _svg(chart_id, title, desc, width, 60, _text(10, 30, _("No data for this period.")))
    highest = max((v for s in series for v in s.values if v is not None), default=0)
    y_max, step = nice_ceiling(float(highest) * 1.08)
    span = max(len(days) - 1, 1)

    def x(index: int) -> float:
        return left + (right - left) * index / span

    def y(value: float) -> float:
        return bottom - (bottom - top) * float(value) / y_max

    parts = [_y_axis(left, right, top, bottom, y_max, step)]
    # Month ticks on the x-axis (with the year at January and at the first tick).
    first_tick = True
    for index, day in enumerate(days):
        if day.day != 1 and index != 0:
            continue
        if index == 0 and day.day > 20 and len(days) > 40:
            continue  # too close to the next month's tick
        label = date_format(day, "M")
        if first_tick or day.month == 1:
            label = f"{label} {day.year}"
        first_tick = False
        parts.append(
            _el(
                "line",
                x1=f"{x(index):.1f}",
                x2=f"{x(index):.1f}",
                y1=bottom,
                y2=bottom + 5,
                stroke=MUTED,
            )
        )
        parts.append(_text(x(index), bottom + 18, label, text_anchor="middle", fill=MUTED))
    # The lines, thickest first so that thin ones stay visible on top.
    order = sorted(range(len(series)), key=lambda i: not series[i].emphasis)
    end_labels = []
    for i in order:
        one = series[i]
        points = [(x(j), y(v)) for j, v in enumerate(one.values) if v is not None]
        if not points:
            continue
        path = "M" + " L".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(
            _el(
                "path",
                d=path,
                fill="none",
                stroke=COLOURS[i % len(COLOURS)],
                stroke_width=3 if one.emphasis else 2,
                stroke_dasharray=DASHES[i % len(DASHES)],
                stroke_linejoin="round",
            )
        )
        last = next(v for v in reversed(one.values) if v is not None)
        end_labels.append([points[-1][1], i, f"{one.name}: {fmt(last)}"])
    # Direct labels at the right end, pushed apart so that they never overlap.
    end_labels.sort()
    for k in range(1, len(end_labels)):
        end_labels[k][0] = max(end_labels[k][0], end_labels[k - 1][0] + 15)
    for label_y, i, text in end_labels:
        parts.append(
            _text(right + 8, label_y + 4, text, fill=COLOURS[i % len(COLOURS)], font_weight=600)
        )
    for note in notes:
        nx, ny = x(note.index), y(note.value)
        parts.append(
            _el(
                "circle",
                cx=f"{nx:.1f}",
                cy=f"{ny:.1f}",
                r=4.5,
                fill=INK,
                stroke="#ffffff",
                stroke_width=1.5,
            )
        )
        anchor = "end" if nx > right - 80 else ("start" if nx < left + 80 else "middle")
        parts.append(_text(nx, ny - 10, note.label, text_anchor=anchor, font_weight=700))
    # Legend: a sample of each line (colour and dash) with its name.
    lx = left
    for i, one in enumerate(series):
        parts.append(
            _el(
                "line",
                x1=lx,
                x2=lx + 28,
                y1=14,
                y2=14,
                stroke=COLOURS[i % len(COLOURS)],
                stroke_width=3 if one.emphasis else 2,
                stroke_dasharray=DASHES[i % len(DASHES)],
            )
        )
        parts.append(_text(lx + 34, 18, one.name))
        lx += 44 + 7.2 * len(one.name)
    return _svg(chart_id, title, desc, width, height, "".join(parts))


# Vertical bars -------------------------------------------------------------------------------


def _hatch(pattern_id: str, colour: str) -> str:
    return (
        f'<pattern id="{pattern_id}" patternUnits="userSpaceOnUse" width="6" height="6" '
        f'patternTransform="rotate(45)">'
        + _el("rect", width=6, height=6, fill="#ffffff")
        + _el("line", x1=0, y1=0, x2=0, y2=6, stroke=colour, stroke_width=3)
        + "</pattern>"
    )


def bar_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    tick_every: int = 1,
    value_labels: bool = False,
    decimals: int = 0,
    suffix: str = "",
    y_top: float | None = None,
    width: int = 1000,
    height: int = 320,
) -> SafeString:
    """Grouped vertical bars. The first series is solid, the second hatched, with a legend;
    ``value_labels`` prints each value above its bar."""
    left, right, top, bottom = 52, width - 12, 34 if len(series) > 1 else 16, height - 36
    if not labels:
        return _svg(chart_id, title, desc, width, 60, _text(10, 30, _("No data for this period.")))
    highest = max((float(v) for s in series for v in s.values if v is not None), default=0)
    y_max, step = nice_ceiling(y_top if y_top is not None else highest * 1.1)
    slot = (right - left) / len(labels)
    gap = max(slot * 0.18, 1.0)
    bar_width = (slot - gap) / len(series)
    fills = []
    defs = ""
    for i in range(len(series)):
        colour = COLOURS[i % len(COLOURS)]
        if i == 1:
            defs += _hatch(f"{chart_id}-hatch", colour)
            fills.append((f"url(#{chart_id}-hatch)", colour))
        else:
            fills.append((colour, colour))
    parts = [
        f"<defs>{defs}</defs>" if defs else "",
        _y_axis(left, right, top, bottom, y_max, step, decimals, suffix),
    ]
    for k, label in enumerate(labels):
        x0 = left + slot * k + gap / 2
        for i, one in enumerate(series):
            value = one.values[k]
            if value is None:
                continue
            h = (bottom - top) * float(value) / y_max
            fill, stroke = fills[i]
            parts.append(
                _el(
                    "rect",
                    x=f"{x0 + bar_width * i:.1f}",
                    y=f"{bottom - h:.1f}",
                    width=f"{max(bar_width - 0.6, 0.8):.1f}",
                    height=f"{h:.1f}",
                    fill=fill,
                    stroke=stroke,
                    stroke_width=1,
                )
            )
            if value_labels:
                parts.append(
                    _text(
                        x0 + bar_width * (i + 0.5),
                        bottom - h - 5,
                        fmt(value, decimals) + suffix,
                        text_anchor="middle",
                        font_size=11,
                    )
                )
        if k % tick_every == 0:
            parts.append(
                _text(
                    left + slot * (k + 0.5),
                    bottom + 18,
                    label,
                    text_anchor="middle",
                    fill=MUTED,
                    font_size=11,
                )
            )
    if len(series) > 1:
        lx = left
        for i, one in enumerate(series):
            fill, stroke = fills[i]
            parts.append(_el("rect", x=lx, y=6, width=16, height=12, fill=fill, stroke=stroke))
            parts.append(_text(lx + 22, 17, one.name))
            lx += 40 + 7.2 * len(one.name)
    return _svg(chart_id, title, desc, width, height, "".join(parts))


# Horizontal bars -----------------------------------------------------------------------------


def hbar_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    values: Sequence[int | float | Decimal | None],
    decimals: int = 0,
    suffix: str = "",
    width: int = 560,
    label_width: int = 170,
    colour: str = COLOURS[0],
) -> SafeString:
    """One bar per label, its value printed at its end: for distributions and top lists."""
    row, top = 28, 6
    height = top * 2 + row * max(len(labels), 1)
    if not labels:
        return _svg(chart_id, title, desc, width, 60, _text(10, 30, _("No data for this period.")))
    left, right = label_width, width - 64
    highest = max((float(v) for v in values if v is not None), default=0) or 1
    parts = [_el("line", x1=left, x2=left, y1=top, y2=height - top, stroke=MUTED)]
    for k, (label, value) in enumerate(zip(labels, values, strict=True)):
        y0 = top + row * k
        parts.append(
            _text(left - 8, y0 + row / 2 + 4, _shorten(label, label_width), text_anchor="end")
        )
        length = 0.0 if value is None else (right - left) * float(value) / highest
        parts.append(
            _el(
                "rect",
                x=left,
                y=f"{y0 + 5:.1f}",
                width=f"{max(length, 0):.1f}",
                height=row - 10,
                fill=colour,
            )
        )
        parts.append(
            _text(
                left + length + 6, y0 + row / 2 + 4, fmt(value, decimals) + suffix, font_weight=600
            )
        )
    return _svg(chart_id, title, desc, width, height, "".join(parts))


def _shorten(label: str, room: int) -> str:
    fits = max(int((room - 12) / 6.6), 6)
    return label if len(label) <= fits else label[: fits - 1] + "…"
