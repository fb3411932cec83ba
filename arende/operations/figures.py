"""The figures of operations, as pure functions over plain data (tested with known data).

* ``merge_intervals`` / ``covered``: the length of a union of time intervals, so that two
  major incidents on the same service at the same time count once.
* ``month_bounds``: a calendar month in Europe/Stockholm as UTC instants (March is an hour
  shorter, October an hour longer).
* ``followup_deadline``: the end of the N-th working day after a date.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")
UTC = datetime.UTC
Interval = tuple[datetime.datetime, datetime.datetime]


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping intervals with the same union (touching ones are joined)."""
    merged: list[list[datetime.datetime]] = []
    for start, end in sorted((s, e) for s, e in intervals if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def covered(intervals: Iterable[Interval], window: Interval) -> datetime.timedelta:
    """How much of ``window`` the union of ``intervals`` covers."""
    low, high = window
    total = datetime.timedelta()
    for start, end in merge_intervals(intervals):
        start, end = max(start, low), min(end, high)
        if end > start:
            total += end - start
    return total


def month_bounds(year: int, month: int) -> Interval:
    """[first instant, first instant of next month) of a month in Stockholm, in UTC."""
    start = datetime.datetime(year, month, 1, tzinfo=STOCKHOLM)
    following = datetime.datetime(
        year + (month == 12), 1 if month == 12 else month + 1, 1, tzinfo=STOCKHOLM
    )
    return start.astimezone(UTC), following.astimezone(UTC)


def month_of(moment: datetime.datetime) -> tuple[int, int]:
    local = moment.astimezone(STOCKHOLM)
    return local.year, local.month


def followup_deadline(
    resolved_at: datetime.datetime,
    working_days: int,
    is_working_day: Callable[[datetime.date], bool],
) -> datetime.datetime:
    """The end of the ``working_days``-th working day after the (Stockholm) day of
    ``resolved_at``: a review done before this instant was done in time."""
    day = resolved_at.astimezone(STOCKHOLM).date()
    counted = 0
    while counted < working_days:
        day += datetime.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), STOCKHOLM)
    return end.astimezone(UTC)


def share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole
