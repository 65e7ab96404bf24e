"""Real outbox jobs against no-op jobs on the same RQ SimpleWorker (issue #14, goal 3).

Real: projects of 8 tasks dispatched through the services; their outbox rows reach RQ through the
relay, a process of its own as in production (``flask agency relay``; Redis, ``BENCH_REDIS``), and a SimpleWorker (``workers.worker.make_worker``, the production
class, listening on every queue and dequeuing as ``agency worker`` does: one blocking BLPOP over its
queues, not burst mode's LPOP of each queue in turn) runs them: each ``deliver_task`` claims its row, tells the department's liaison
(inbox message, delivery rows, an e-mail job) and marks the row done; each ``deliver_all`` sends
its e-mail (the in-memory backend) and marks the delivery sent.  Ceiling: the same number of RQ
jobs calling a function that does nothing, on the same worker (class, queues, dequeue) and Redis.  Floor of any
outbox job: as many outbox rows whose function does nothing (claimed, marked done, committed by
``workers.runner.run_job``).  Rounds rotate which goes first; jobs/s of each round, the median, and the median of each round's ratio.

Goal: real jobs at least 0.5x the no-op ceiling.
Run from the project root: ``python -m bench.bench_jobs [--quick]``.
"""
from __future__ import annotations

import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.common import NOW, REDIS_URL, Statements, bench_database, database_url, median, relay_process, seed, table

FULL = {"rounds": 7, "projects": 16, "warmup": 2}
QUICK = {"rounds": 3, "projects": 4, "warmup": 1}
GOAL = 0.5
NOOP_QUEUE = "bench.noop"


def noop(*args) -> None:
    """The ceiling's job: RQ's own work (fetch, run, result, registries) and nothing else."""


def outbox_noop(session, now, *args) -> None:
    """The outbox floor's job: an outbox row run by ``workers.runner.run_job`` (claimed, marked done,
    committed) whose function does nothing: what any job of the outbox pays before its own work."""


def register_outbox_noop() -> str:
    """Jobs live in workers/ (``workers.runner.resolve``): the floor's function is put there for the bench only."""
    import types
    module = types.ModuleType("workers.bench_noop")
    module.noop = outbox_noop
    sys.modules["workers.bench_noop"] = module
    return "workers.bench_noop.noop"


def dispatch_projects(s, count: int, first: int) -> None:
    """``count`` projects entrusted, agreed and dispatched (8 deliver_task jobs each), committed."""
    from agency.audit.services import Actor
    from agency.extensions import db
    from agency.people.models import User
    from agency.projects.services import accept_agreement, dispatch_stage, entrust_project
    session = db.session
    agent, enterprise = session.get(User, s.agents[0]), session.get(User, s.enterprises[0])
    for n in range(count):
        project = entrust_project(session, NOW, agent, name=f"作业项目{first + n}", project_type="BENCH8",
                                  location="开发区", investment_wan="100", contact_name="张三",
                                  contact_phone="13900000000", enterprise_id=enterprise.id)
        accept_agreement(session, NOW, enterprise, project)
        session.commit()
        dispatch_stage(session, NOW, Actor.of(agent), project)
        session.commit()
    relayed(session)
    session.remove()


def relayed(session) -> None:
    """Wait until the relay process has put every committed row on RQ (before a round's clock starts,
    as the push after commit was before 2026-12-02), polling the outbox: no relay here, so no double push."""
    from agency.jobs.models import OutboxJob
    deadline = time.monotonic() + IDLE
    while session.scalar(select(func.count()).select_from(OutboxJob).where(
            OutboxJob.status == "pending", OutboxJob.enqueued_at.is_(None))):
        session.rollback()
        assert time.monotonic() < deadline, "the relay did not relay the round's jobs"
        time.sleep(0.005)
    session.rollback()


def done_jobs() -> int:
    from agency.extensions import db
    from agency.jobs.models import OutboxJob
    count = db.session.scalar(select(func.count()).select_from(OutboxJob).where(OutboxJob.status == "done"))
    db.session.remove()
    return count


IDLE = 10  # seconds a worker waits for a job that never comes (a failed job) before the round fails


def run_worker(queue_names: list[str], jobs: int) -> float:
    """Seconds the production worker takes to run ``jobs`` jobs from ``queue_names`` (those added meanwhile too).

    It dequeues as ``agency worker`` does (``work()``, not burst mode): one blocking BLPOP over all its
    queues per job.  Burst mode polls each queue in turn with LPOP until one answers (7 Redis round trips
    a job on average for the real jobs, spread over 3 fixed and the department queues, against 1 for
    jobs on a single queue), which no production worker does; every kind here runs on the same worker.
    """
    from workers.worker import make_worker
    worker = make_worker([*queue_names, NOOP_QUEUE])
    begin = time.perf_counter()
    worker.work(max_jobs=jobs, max_idle_time=IDLE, logging_level="WARNING")
    seconds = time.perf_counter() - begin
    assert seconds < IDLE, "a job never came: the round is not a measure"
    return seconds


def real_round(s, projects: int, first: int, queue_names: list[str]) -> tuple[int, float]:
    dispatch_projects(s, projects, first)
    before = done_jobs()
    seconds = run_worker(queue_names, projects * 16)
    assert done_jobs() - before == projects * 16
    return projects * 16, seconds


def noop_round(count: int, queue_names: list[str]) -> tuple[int, float]:
    from rq import Queue

    from workers.queues import get_queue
    queue = get_queue(NOOP_QUEUE)
    queue.enqueue_many([Queue.prepare_data("bench.bench_jobs.noop", [n], result_ttl=3600) for n in range(count)])
    return count, run_worker(queue_names, count)


def outbox_noop_round(count: int, func: str, queue_names: list[str]) -> tuple[int, float]:
    from agency.extensions import db
    from agency.jobs.services import enqueue_job
    for n in range(count):
        enqueue_job(db.session, NOW, NOOP_QUEUE, func, n)
    db.session.commit()  # the relay process puts the rows on RQ
    relayed(db.session)
    db.session.remove()
    before = done_jobs()
    seconds = run_worker(queue_names, count)
    assert done_jobs() - before == count
    return count, seconds


def main(quick: bool = False) -> None:
    import os

    from agency.extensions import db
    from workers.queues import all_queue_names

    os.environ["AGENCY_NOW"] = (NOW + timedelta(hours=1)).isoformat()
    size = QUICK if quick else FULL
    with bench_database("jobs"), tempfile.TemporaryDirectory(prefix="bench-relay-") as tmp, \
            relay_process(database_url("jobs"), Path(tmp)):
        s = seed(db.session, enterprises=5, agents=2)
        queue_names = all_queue_names(db.session)
        db.session.remove()
        floor_func = register_outbox_noop()
        first = 0
        for _ in range(size["warmup"]):
            real_round(s, 2, first, queue_names)
            noop_round(50, queue_names)
            outbox_noop_round(50, floor_func, queue_names)
            first += 2
        real, noop_rates, floor_rates, ratios, floor_ratios, counts = [], [], [], [], [], []
        jobs_per_round = size["projects"] * 16  # 8 deliver_task and 8 deliver_all a project
        kinds = ("real", "noop", "outbox_noop")
        for n in range(size["rounds"]):
            runs = {}
            for name in kinds[n % 3:] + kinds[:n % 3]:  # rotate who goes first
                if name == "real":
                    runs[name] = real_round(s, size["projects"], first, queue_names)
                    first += size["projects"]
                elif name == "noop":
                    runs[name] = noop_round(jobs_per_round, queue_names)
                else:
                    runs[name] = outbox_noop_round(jobs_per_round, floor_func, queue_names)
            jobs, seconds = runs["real"]
            counts.append(jobs)
            real.append(jobs / seconds)
            noop_rates.append(runs["noop"][0] / runs["noop"][1])
            floor_rates.append(runs["outbox_noop"][0] / runs["outbox_noop"][1])
            ratios.append(real[-1] / noop_rates[-1])
            floor_ratios.append(floor_rates[-1] / noop_rates[-1])
        # One job of each kind, counted (the guards of tests/tasks/test_statement_counts.py).
        dispatch_projects(s, 1, first)
        with Statements(db.engine) as statements:
            run_worker(queue_names, 16)
        db.session.remove()

    ratio = median(ratios)
    table(
        f"Outbox jobs on an RQ SimpleWorker, blocking dequeue over every queue (Redis {REDIS_URL}): real against no-op, "
        f"median of {size['rounds']} alternating rounds",
        ("jobs", "jobs/s (median)", "rounds", "of the no-op ceiling", "goal", "met"),
        [("no-op (RQ only)", f"{median(noop_rates):.1f}", " ".join(f"{r:.0f}" for r in noop_rates), "1.00x", "", ""),
         ("outbox no-op (claim, done, commit)", f"{median(floor_rates):.1f}",
          " ".join(f"{r:.0f}" for r in floor_rates), f"{median(floor_ratios):.2f}x", "", ""),
         ("real: deliver_task + deliver_all", f"{median(real):.1f}", " ".join(f"{r:.0f}" for r in real),
          f"{ratio:.2f}x", f">= {GOAL}x", "yes" if ratio >= GOAL else "no")],
        [f"real jobs per round: {median(counts):.0f} (a project's 8 deliver_task jobs and the e-mail job each writes); "
         f"as many no-op jobs of each kind",
         ("outbox no-op: an outbox row whose function does nothing, run by workers.runner.run_job: the floor of "
          "any outbox job (a transaction, its commit, the row's claim and done mark)"),
         "of the no-op ceiling: the median of each round's ratio (a round disturbed by other work slows both sides)",
         (f"statements of one project's jobs ({statements.total} for 16 jobs, "
          f"{statements.total_seconds * 1000:.1f} ms in SQL), by kind:"),
         *(f"    {kind:<40} {count:5d} {t * 1000:6.2f} ms" for kind, count, t in statements.by_kind()[:20])],
    )


if __name__ == "__main__":
    main("--quick" in sys.argv)
