"""Real outbox jobs against no-op jobs on the same RQ SimpleWorker (issue #14, goal 3).

Real: projects of 8 tasks dispatched through the services; their outbox rows reach RQ after
commit (Redis, ``BENCH_REDIS``), and a burst SimpleWorker (``workers.worker.make_worker``, the
production class) runs them: each ``deliver_task`` claims its row, tells the department's liaison
(inbox message, delivery rows, an e-mail job) and marks the row done; each ``deliver_all`` sends
its e-mail (the in-memory backend) and marks the delivery sent.  Ceiling: the same number of RQ
jobs calling a function that does nothing, on the same worker class and queues' Redis.  Floor of any
outbox job: as many outbox rows whose function does nothing (claimed, marked done, committed by
``workers.runner.run_job``).  Rounds rotate which goes first; jobs/s of each round, the median, and the median of each round's ratio.

Goal: real jobs at least 0.5x the no-op ceiling.
Run from the project root: ``python -m bench.bench_jobs [--quick]``.
"""
from __future__ import annotations

import sys
import time
from datetime import timedelta

from sqlalchemy import func, select

from bench.common import NOW, REDIS_URL, Statements, bench_database, median, seed, table

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
    session.remove()


def done_jobs() -> int:
    from agency.extensions import db
    from agency.jobs.models import OutboxJob
    count = db.session.scalar(select(func.count()).select_from(OutboxJob).where(OutboxJob.status == "done"))
    db.session.remove()
    return count


def run_burst(queue_names: list[str]) -> float:
    """Seconds a burst SimpleWorker takes to empty ``queue_names`` (it runs jobs added meanwhile too)."""
    from workers.worker import make_worker
    worker = make_worker(queue_names)
    begin = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    return time.perf_counter() - begin


def real_round(s, projects: int, first: int, queue_names: list[str]) -> tuple[int, float]:
    dispatch_projects(s, projects, first)
    before = done_jobs()
    seconds = run_burst(queue_names)
    return done_jobs() - before, seconds


def noop_round(count: int) -> tuple[int, float]:
    from rq import Queue

    from workers.queues import get_queue
    queue = get_queue(NOOP_QUEUE)
    queue.enqueue_many([Queue.prepare_data("bench.bench_jobs.noop", [n], result_ttl=3600) for n in range(count)])
    return count, run_burst([NOOP_QUEUE])


def outbox_noop_round(count: int, func: str) -> tuple[int, float]:
    from agency.extensions import db
    from agency.jobs.services import enqueue_job
    for n in range(count):
        enqueue_job(db.session, NOW, NOOP_QUEUE, func, n)
    db.session.commit()  # the rows reach RQ after the commit, as every job does
    db.session.remove()
    before = done_jobs()
    seconds = run_burst([NOOP_QUEUE])
    assert done_jobs() - before == count
    return count, seconds


def main(quick: bool = False) -> None:
    import os

    from agency.extensions import db
    from workers.queues import all_queue_names

    os.environ["AGENCY_NOW"] = (NOW + timedelta(hours=1)).isoformat()
    size = QUICK if quick else FULL
    with bench_database("jobs"):
        s = seed(db.session, enterprises=5, agents=2)
        queue_names = all_queue_names(db.session)
        db.session.remove()
        floor_func = register_outbox_noop()
        first = 0
        for _ in range(size["warmup"]):
            real_round(s, 2, first, queue_names)
            noop_round(50)
            outbox_noop_round(50, floor_func)
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
                    runs[name] = noop_round(jobs_per_round)
                else:
                    runs[name] = outbox_noop_round(jobs_per_round, floor_func)
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
            run_burst(queue_names)
        db.session.remove()

    ratio = median(ratios)
    table(
        f"Outbox jobs on an RQ SimpleWorker (Redis {REDIS_URL}): real against no-op, "
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
