"""Time ``WorkingCalendar.add_working_days`` against a day-by-day loop on chinese_calendar.

Run from the project root: ``python -m bench.bench_calendar``.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

import chinese_calendar

from agency.calendar.workdays import WorkingCalendar

N = 20
ROUNDS = 5
STARTS = [date(2025, 1, 1) + timedelta(days=i) for i in range(365)]


def loop_add(start: date, n: int) -> date:
    """The naive reference: step one day at a time."""
    day, counted = start, 0
    while counted < n:
        day += timedelta(days=1)
        counted += chinese_calendar.is_workday(day)
    return day


def per_call_ns(add: Callable[[date, int], date], calls: int) -> float:
    """Median over ROUNDS of the mean time of one call, in nanoseconds."""
    starts = [STARTS[i % len(STARTS)] for i in range(calls)]
    rounds = []
    for _ in range(ROUNDS):
        begin = time.perf_counter_ns()
        for start in starts:
            add(start, N)
        rounds.append((time.perf_counter_ns() - begin) / calls)
    return statistics.median(rounds)


def main() -> None:
    begin = time.perf_counter_ns()
    calendar = WorkingCalendar()
    build_ms = (time.perf_counter_ns() - begin) / 1e6
    assert all(calendar.add_working_days(s, N) == loop_add(s, N) for s in STARTS), "results differ"

    rows = [
        ("WorkingCalendar.add_working_days", 10_000, per_call_ns(calendar.add_working_days, 10_000)),
        ("day-by-day chinese_calendar.is_workday", 1_000, per_call_ns(loop_add, 1_000)),
    ]
    print(f"add n={N} working days from dates in 2025; median of {ROUNDS} rounds")
    print(f"(calendar built in {build_ms:.1f} ms, 2004..{calendar.last_year})\n")
    print(f"{'method':<40} {'calls/round':>11} {'µs/call':>10}")
    for name, calls, ns in rows:
        print(f"{name:<40} {calls:>11,} {ns / 1000:>10.2f}")
    print(f"\nspeed-up: {rows[1][2] / rows[0][2]:,.0f}x")


if __name__ == "__main__":
    main()
