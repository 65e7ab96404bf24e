"""The outbox: jobs written with the change that causes them (R13)."""
from datetime import datetime, timedelta

from sqlalchemy import case, event, inspect, select, update
from sqlalchemy.orm import Session

from agency.jobs.models import OutboxJob

_PENDING = "agency_outbox_pending"


def enqueue_job(session: Session, now: datetime, queue: str, func: str, *args, key: str | None = None) -> OutboxJob | None:
    """Record a job in the caller's transaction; it reaches RQ after commit.

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
    session.info.setdefault(_PENDING, []).append((job, queue))
    return job


def push_after_commit(session: Session, job_id: int, queue: str) -> None:
    """A job row the caller wrote itself (a Core INSERT ... RETURNING id): it reaches RQ after commit."""
    session.info.setdefault(_PENDING, []).append((job_id, queue))


@event.listens_for(Session, "after_commit")
def _push_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released (SQLAlchemy tells this listener too): nothing is committed yet
    pending = session.info.pop(_PENDING, None)
    if pending:
        from workers.queues import push_many
        # The objects are expired by the commit; their identity (the id) is kept without a query.
        push_many([(job, queue) if isinstance(job, int) else (inspect(job).identity[0], queue)
                   for job, queue in pending if isinstance(job, int) or inspect(job).identity])


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint rolled back: the jobs written before it still commit with the transaction
    session.info.pop(_PENDING, None)


def claim_job(session: Session, job_id: int) -> OutboxJob | None:
    """Lock an unfinished job for running; None when it is done (or unknown)."""
    return session.scalar(
        select(OutboxJob).where(OutboxJob.id == job_id, OutboxJob.status != "done").with_for_update()
    )


def finish_job(session: Session, now: datetime, job_id: int) -> bool:
    """Mark a claimed job done; False when another run marked it done first.

    The claim's lock normally makes that impossible, but a job function that
    commits part of its work (the e-mail job, when one of its channels fails)
    releases the lock with it; then a second delivery may claim the row
    meanwhile, and this conditional UPDATE still lets only one run finish
    (and count) it.
    """
    finished = session.execute(
        update(OutboxJob).where(OutboxJob.id == job_id, OutboxJob.status != "done")
        .values(status="done", finished_at=now, attempts=OutboxJob.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return finished.rowcount == 1


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
