"""SLA engine speed: deadline computations (`add_business_time`) per second on one core.

A plain script (no Django, no database): builds a Swedish municipal calendar, warms the caches
for the years used, then times `add_business_time` for random start instants in 2021-2027 and
typical SLA durations (minutes to a few days of business time). Issue 4's target is 200 000/s.
Environment: BENCH_SLA_N (default 500 000 computations).
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from arende.sla.engine import (
    add_business_time,
    business_time_between,
    swedish_calendar,
)

TARGET = 200_000


def main() -> int:
    n = int(os.environ.get("BENCH_SLA_N", "500000"))
    calendar = swedish_calendar(range(2020, 2030))
    rng = random.Random(4)
    base = datetime(2021, 1, 1, tzinfo=UTC)
    span = int((datetime(2028, 1, 1, tzinfo=UTC) - base).total_seconds())
    durations = [timedelta(minutes=m) for m in (15, 30, 60, 120, 240, 480, 960, 1440, 2550)]
    starts = [base + timedelta(seconds=rng.randrange(span)) for _ in range(10_000)]
    cases = [(rng.choice(starts), rng.choice(durations)) for _ in range(n)]
    for start, duration in cases[:20_000]:  # warm the per-year caches
        add_business_time(calendar, start, duration)

    t0 = time.perf_counter()
    for start, duration in cases:
        add_business_time(calendar, start, duration)
    add_rate = n / (time.perf_counter() - t0)

    pairs = [(a, a + d * 3) for a, d in cases]
    t0 = time.perf_counter()
    for a, b in pairs:
        business_time_between(calendar, a, b)
    between_rate = n / (time.perf_counter() - t0)

    status = "ok" if add_rate >= TARGET else "BELOW TARGET"
    print(
        f"sla engine: add_business_time     {add_rate:>12,.0f} deadlines/s  (target {TARGET:,}: {status})"
    )
    print(f"sla engine: business_time_between {between_rate:>12,.0f} calls/s")
    return 0 if add_rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
