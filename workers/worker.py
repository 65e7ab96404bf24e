"""The worker entry.

We run RQ's SimpleWorker (the job runs in the worker process) rather than the
default forking Worker: our jobs are short database transactions, and on this
machine the fork per job caps a worker at about 37 jobs/s against about 200
for SimpleWorker.  Isolation from a crashing job comes from the process
supervisor restarting the worker and from every job being idempotent.
"""
import threading

from flask import Flask
from rq.serializers import JSONSerializer
from rq.timeouts import TimerDeathPenalty
from rq.worker import SimpleWorker

from agency.extensions import db
from workers.queues import all_queue_names, connection, get_queue


class ThreadWorker(SimpleWorker):
    """A SimpleWorker that can live in a thread of the embedded process."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):  # signals belong to the main thread
        pass


def make_worker(queue_names: list[str], cls=SimpleWorker) -> SimpleWorker:
    return cls([get_queue(name) for name in queue_names], connection=connection(), serializer=JSONSerializer)


def drain(app: Flask, max_rounds: int = 50) -> int:
    """Relay the committed outbox rows to RQ, run every waiting job, then every outbox row that never
    reached RQ, until none is left.

    Works in embedded mode from a separate process (the outbox table is the
    source of truth) and is what tests call to run jobs inline.
    """
    from agency import clock
    from agency.jobs.services import unfinished_jobs
    from workers.relay import relay_all
    from workers.runner import run_job

    with app.app_context():
        done_before, failed = _done_count(), set()
        for _ in range(max_rounds):
            try:
                relay_all(db.session, clock.now())
            except Exception:  # noqa: BLE001 - Redis away: the rows are run below all the same
                db.session.rollback()
                app.logger.exception("could not relay outbox jobs")
            worker = make_worker(all_queue_names(db.session), ThreadWorker)
            worker.work(burst=True, logging_level="WARNING")
            leftovers = [j.id for j in unfinished_jobs(db.session, clock.now())
                         if j.status == "pending" and j.id not in failed]
            db.session.rollback()
            if not leftovers:
                break
            for job_id in leftovers:
                try:
                    run_job(job_id)
                except Exception:  # noqa: BLE001 - it stays pending for reconcile and retries
                    failed.add(job_id)
                    app.logger.exception("outbox job %s failed; it stays for retry", job_id)
        ran = _done_count() - done_before
        db.session.rollback()
        return ran


def _done_count() -> int:
    from sqlalchemy import func, select

    from agency.jobs.models import OutboxJob
    return db.session.scalar(select(func.count()).select_from(OutboxJob).where(OutboxJob.status == "done"))


def run_worker(app: Flask, burst: bool = False) -> int:
    if burst:
        return drain(app)
    with app.app_context():
        worker = make_worker(all_queue_names(db.session))
    worker.work()  # no with_scheduler: its forked child would outlive a SIGKILLed worker (the scheduler runs it)
    return 0


def start_thread(app: Flask) -> threading.Thread:
    """The embedded worker: a daemon thread serving every queue."""
    def loop():
        with app.app_context():
            names = all_queue_names(db.session)
            db.session.remove()
            worker = make_worker(names, ThreadWorker)
        worker.work(logging_level="WARNING")  # retries are promoted by the in-process APScheduler

    thread = threading.Thread(target=loop, name="agency-worker", daemon=True)
    thread.start()
    return thread
