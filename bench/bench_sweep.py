"""The deadline sweep (``workers.deadlines.run_sweep``) on PostgreSQL with a million tasks.

Two figures, each beside its reference in the same run:

- nothing due: ``run_sweep`` at an instant before every deadline and warning, against one
  indexed query (``SELECT id FROM tasks WHERE id = :random``); goal: about the same, a few ms;
- deeming: ``run_sweep`` at the instant where exactly ``DUE`` running tasks are past their
  deadline, in tasks per second, against a bare ``UPDATE`` of those rows' status by id list
  (rolled back); goal: thousands of tasks per second, every one deemed and audited once.

Run from the project root: ``python -m bench.bench_sweep [--quick]``.
"""
from __future__ import annotations

import random
import sys
import time
from datetime import timedelta

from sqlalchemy import event, text

from bench.common import (NOW, REDIS_URL, Statements, autocommit, bench_database, median, ms, populate, relay_timed, seed,
                          table, timed)

FULL = {"projects": 125_000, "due": 10_000, "runs": 20, "enterprises": 200}
QUICK = {"projects": 2_000, "due": 100, "runs": 10, "enterprises": 20}
QUIET = NOW - timedelta(days=4)  # before every deadline and warn_at of the data
GOAL_RATE = 1_000  # "thousands of tasks per second": at least one thousand


def due_ids(session) -> list[int]:
    return session.scalars(text(
        "SELECT id FROM tasks WHERE status IN ('pending', 'accepted') AND escalated_at IS NULL AND deadline <= :t"),
        {"t": NOW}).all()


def bare_update(session, ids: list[int]) -> float:
    """The reference: one UPDATE of the rows the sweep closes, timed, then rolled back."""
    seconds = timed(lambda: session.execute(text(
        "UPDATE tasks SET status = 'deemed_consent', outcome = 'consent', outcome_reason = 'timeout', "
        "answered_at = :t WHERE id = ANY(:ids) AND status IN ('pending', 'accepted')"), {"t": NOW, "ids": ids}))
    session.rollback()
    return seconds


def main(quick: bool = False) -> None:
    from agency.extensions import db
    from workers.deadlines import BATCH, run_sweep

    size = QUICK if quick else FULL
    with bench_database("sweep"):
        session = db.session
        s = seed(session, enterprises=size["enterprises"])
        built = timed(lambda: populate(session, s, size["projects"], size["due"]))
        counts = last_id = session.execute(text("SELECT count(*) FROM tasks")).scalar_one()

        # 1. Nothing due: the sweep against one indexed query, interleaved.
        def one_query():
            session.scalar(text("SELECT id FROM tasks WHERE id = :id"), {"id": random.randint(1, last_id)})

        def quiet_sweep():
            quiet_results.append(run_sweep(session, QUIET))

        quiet, reference, quiet_results = [], [], []
        for run in range(size["runs"]):
            pair = [(reference, one_query), (quiet, quiet_sweep)]
            for into, fn in pair if run % 2 == 0 else pair[::-1]:  # alternate who goes first
                into.append(timed(fn))
                session.rollback()
        assert all(not any(r.values()) for r in quiet_results), f"something was due at {QUIET}: {quiet_results}"
        with Statements(db.engine) as quiet_statements:
            run_sweep(session, QUIET)
        session.rollback()

        # 2. Deeming: the bare UPDATE of the due rows (rolled back), then the sweep once.
        ids = due_ids(session)
        session.rollback()
        assert len(ids) == size["due"], f"{len(ids)} tasks due, expected {size['due']}"
        updates = [bare_update(session, ids) for _ in range(5)]
        autocommit(session, "VACUUM ANALYZE tasks")  # the rolled-back updates leave dead tuples behind

        commits: list[float] = []
        event.listen(session(), "after_commit", lambda _s: commits.append(time.perf_counter()))
        with Statements(db.engine) as statements:
            begin = time.perf_counter()
            result = run_sweep(session, NOW)
            elapsed = time.perf_counter() - begin
        session.remove()
        relayed, relay_seconds = relay_timed()
        batches = [b - a for a, b in zip([begin, *commits], commits)]
        batch_sizes = [BATCH] * (len(ids) // BATCH) + ([len(ids) % BATCH] if len(ids) % BATCH else [])

        # 3. Every due task deemed consent, once, with one audit event and one red card.
        check = session.execute(text(
            """SELECT (SELECT count(*) FROM tasks WHERE id = ANY(:ids) AND status = 'deemed_consent'
                         AND outcome_reason = 'timeout' AND answered_at = :t) AS deemed,
                      (SELECT count(*) FROM tasks WHERE status = 'deemed_consent' AND answered_at = :t) AS all_deemed,
                      (SELECT count(*) FROM audit_events WHERE action = 'task.deemed_consent'
                         AND object_id = ANY(:ids)) AS audited,
                      (SELECT count(DISTINCT object_id) FROM audit_events WHERE action = 'task.deemed_consent')
                         AS audited_tasks,
                      (SELECT count(*) FROM cards WHERE reason = 'timeout' AND task_id = ANY(:ids)) AS cards,
                      (SELECT count(*) FROM audit_events WHERE action = 'project.completed') AS completed"""),
            {"ids": ids, "t": NOW}).mappings().one()
        session.rollback()
        due = len(ids)
        assert result["deemed_consent"] == due and check["deemed"] == due and check["all_deemed"] == due, (result, check)
        assert check["audited"] == due and check["audited_tasks"] == due, check

    per_task = statements.total / due
    quiet_ms, ref_ms = median(quiet) * 1000, median(reference) * 1000
    rate = due / elapsed
    # the timeout batches commit first, one commit each; later commits are the other rules' (meetings)
    batch_rate = median([n / t for n, t in zip(batch_sizes, batches)]) if len(batches) >= len(batch_sizes) else rate
    ref_rate = due / median(updates)
    table(
        f"Sweep on PostgreSQL: {counts:,} tasks, {due:,} due (data built in {built:.0f} s)",
        ("measure", "ours (median)", "reference (median)", "ratio", "goal", "met"),
        [
            (f"run_sweep, nothing due ({size['runs']} runs)", f"{quiet_ms:.2f} ms",
             f"{ref_ms:.2f} ms  one SELECT by id", f"{quiet_ms / ref_ms:.1f}x", "a few ms, ~one query",
             "yes" if quiet_ms < 5 else "no"),
            (f"run_sweep deeming {due:,} (one run)", f"{rate:,.0f} tasks/s",
             f"{ref_rate:,.0f} rows/s  bare UPDATE", f"{ref_rate / rate:,.0f}x slower",
             f">= {GOAL_RATE:,} tasks/s", "yes" if rate >= GOAL_RATE else "no"),
            (f"  median of its {len(batch_sizes)} batch(es) of <= {BATCH}", f"{batch_rate:,.0f} tasks/s", "", "", "",
             ""),
        ],
        [(f"deeming: {elapsed:.1f} s in all; bare UPDATE of the same {due:,} rows: {ms(median(updates))} (5 runs, "
         f"rolled back)"),
         f"nothing due: {quiet_statements.total} statements per sweep, "
         + ", ".join(f"{kind} {t * 1000:.2f} ms" for kind, _, t in quiet_statements.by_kind()),
         f"deeming: {statements.total:,} statements, {per_task:.1f} per task",
         (f"checked: {check['deemed']:,} deemed consent (timeout), {check['audited']:,} audit events "
         f"(one per task), {check['cards']:,} red cards, {check['completed']:,} projects completed by the sweep"),
         (f"deeming time: {statements.total_seconds:.1f} s in SQL statements, "
         f"{elapsed - statements.total_seconds:.1f} s the rest (Python, ORM, commits); then the outbox relay put "
         f"{relayed:,} jobs on RQ ({REDIS_URL}) in {relay_seconds:.1f} s, in its own process in production"),
         "per deemed task, by statement kind:   count    ms",
         *(f"  {kind:<34} {n / due:5.2f} {t / due * 1000:5.2f}" for kind, n, t in statements.by_kind()[:16])],
    )


if __name__ == "__main__":
    main("--quick" in sys.argv)
