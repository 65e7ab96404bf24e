"""The outbox: jobs written with the change that causes them (R13).

The change sends nothing to Redis: the relay (``workers.relay``) puts committed rows on RQ.  A commit
that wrote a job wakes the relay of its own process (``relay_wake``; embedded mode); on PostgreSQL
the table's trigger notifies every relay with the commit (migration 0010).
"""
import threading
from datetime import datetime, timedelta

from sqlalchemy import ARRAY, String, any_, bindparam, case, event, insert, select, update
from sqlalchemy import func as sql
from sqlalchemy.orm import Session

from agency.jobs.models import OutboxJob

_WROTE = "agency_outbox_wrote"  # the session's transaction wrote a job
relay_wake = threading.Event()  # set by a commit that wrote a job; the relay thread of this process waits on it
_RUNNING = "agency_outbox_running"  # the job whose claim the session's transaction holds


def enqueue_job(session: Session, now: datetime, queue: str, func: str, *args, key: str | None = None) -> OutboxJob | None:
    """Record a job in the caller's transaction; the relay puts it on RQ once committed.

    ``func`` is the dotted name of a function in ``workers``.  With ``key``,
    a job already written under that key is not written again (returns None).
    The row is written by the caller's next flush; its id is read after commit.
    """
    if not func.startswith("workers."):
        raise ValueError(f"jobs live in workers/: {func!r}")
    if key is not None:
        with session.no_autoflush:
            pending = [j for j in session.new if isinstance(j, OutboxJob) and j.key == key]
        if pending or session.scalar(select(OutboxJob.id).where(OutboxJob.key == key)):
            return None
    job = OutboxJob(queue=queue, func=func, args=list(args), key=key, created_at=now, status="pending")
    session.add(job)
    session.info[_WROTE] = True
    return job


def write_jobs(session: Session, now: datetime, jobs: list[tuple[str, str, list]]) -> list[int]:
    """Many jobs without keys, ``(queue, func, args)`` each, written at once by one Core multi-row
    ``INSERT ... RETURNING id`` on the session's connection (no ORM objects, no flush); their ids.

    The relay puts them on RQ once committed, as ``enqueue_job``'s.  For a dispatch's tasks (bench_workflow: the
    unit of work's flush of eight OutboxJob objects cost more than the statement).
    """
    for _, func, _ in jobs:
        if not func.startswith("workers."):
            raise ValueError(f"jobs live in workers/: {func!r}")
    if not jobs:
        return []
    ids = list(session.connection().execute(
        _WRITE, [dict(queue=queue, func=func, args=args, created_at=now) for queue, func, args in jobs]).scalars())
    session.info[_WROTE] = True
    return ids


_WRITE = (insert(OutboxJob.__table__).values(key=None, status="pending", attempts=0, last_error="")
          .returning(OutboxJob.__table__.c.id, sort_by_parameter_order=True))


def wrote_job(session: Session) -> None:
    """The caller wrote a job row itself (a Core INSERT): wake this process's relay at the commit."""
    session.info[_WROTE] = True


# The claim, built once (building and caching a statement per call cost as much as running it).
_CLAIM = (update(OutboxJob).where(OutboxJob.id == bindparam("job_id"), OutboxJob.status != "done")
          .values(status="done", finished_at=bindparam("now"), attempts=OutboxJob.attempts + 1)
          .returning(OutboxJob.func, OutboxJob.args))


# PostgreSQL: the claim also sets synchronous_commit off for this transaction when the job is replayable.
_CLAIM_REPLAYABLE = _CLAIM.returning(sql.set_config(
    "synchronous_commit",
    case((OutboxJob.func == any_(bindparam("replayable", type_=ARRAY(String))), "off"),
         else_=sql.current_setting("synchronous_commit")),
    True).label("synchronous_commit"))


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released (SQLAlchemy tells this listener too): nothing is committed yet
    if session.info.pop(_WROTE, False):
        relay_wake.set()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint rolled back: the jobs written before it still commit with the transaction
    session.info.pop(_WROTE, None)


def claim_job(session: Session, now: datetime, job_id: int, replayable=frozenset()) -> tuple[str, list] | None:
    """Claim an unfinished job and mark it done in the caller's transaction; its ``(func, args)``, or
    None when it is done (or unknown).

    One conditional UPDATE, on the session's connection: the row lock it takes is held until the
    job's transaction ends, so the mark commits with the job's work or rolls back with it, and a
    second delivery of the job waits for the first and then finds it done (the WHERE is evaluated
    again on the committed row).  Every job pays this: one statement and no ORM object instead of a
    SELECT ... FOR UPDATE through the ORM and a separate UPDATE (bench_jobs).  A job function that
    must commit part of its work commits it through ``commit_progress``, which leaves the mark out.

    ``replayable``: the functions whose transaction commits without waiting for the disk
    (``workers.runner.REPLAYABLE``); on PostgreSQL the same statement sets that for the claimed job's
    transaction (``set_config(..., true)``, as SET LOCAL does), so it costs no round trip of its own.
    """
    if replayable and session.get_bind().dialect.name == "postgresql":
        claimed = session.connection().execute(_CLAIM_REPLAYABLE, {"job_id": job_id, "now": now,
                                                                   "replayable": sorted(replayable)}).first()
    else:
        claimed = session.connection().execute(_CLAIM, {"job_id": job_id, "now": now}).first()
    if claimed is None:
        return None
    session.info[_RUNNING] = job_id
    return claimed.func, claimed.args


def commit_progress(session: Session) -> None:
    """Commit what a job did so far without marking it done; the job then fails and is retried.

    For a job that must keep part of its work whatever follows (the e-mail job: what was sent stays
    sent).  The running job's claim (``claim_job``) is taken back in the same transaction: the row is
    pending again with its attempts as before the run, which the runner's ``fail_job`` then counts.
    Committing releases the row's lock: a second delivery may run the job meanwhile, so the committed
    part must be idempotent itself.  Outside a job, a plain commit.
    """
    job_id = session.info.pop(_RUNNING, None)
    if job_id is not None:
        session.connection().execute(
            update(OutboxJob).where(OutboxJob.id == job_id)
            .values(status="pending", finished_at=None, attempts=OutboxJob.attempts - 1))
    session.commit()


def holds_claim(session: Session) -> bool:
    """Whether the session's transaction still holds the claim of the job it runs (see ``commit_progress``)."""
    return _RUNNING in session.info


def end_job(session: Session) -> None:
    """The job's transaction is over (committed or rolled back): forget which job the session runs."""
    session.info.pop(_RUNNING, None)


MAX_ATTEMPTS = 10  # RQ's own retries plus reconcile's; then it waits for a person


def fail_job(session: Session, now: datetime, job_id: int, error: str) -> None:
    """Count a failed run; past MAX_ATTEMPTS the job is parked as failed (reconcile leaves it)."""
    session.execute(
        update(OutboxJob).where(OutboxJob.id == job_id, OutboxJob.status != "done").values(
            attempts=OutboxJob.attempts + 1, last_error=error[:2000],
            status=case((OutboxJob.attempts + 1 >= MAX_ATTEMPTS, "failed"), else_="pending"),
        )
    )


def unfinished_jobs(session: Session, now: datetime, older_than: timedelta = timedelta(0)) -> list[OutboxJob]:
    return list(session.scalars(
        select(OutboxJob).where(OutboxJob.status != "done", OutboxJob.created_at <= now - older_than)
        .order_by(OutboxJob.id)
    ))
