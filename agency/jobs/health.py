"""Queue health: what RQ holds of each queue, the outbox rows not yet run, and the last sweep.

Everything about RQ is read through RQ's own ``Queue`` and registries
(``StartedJobRegistry``, ``FailedJobRegistry``, ``DeferredJobRegistry``,
``ScheduledJobRegistry``), and a failed job is retried with
``FailedJobRegistry.requeue``.  What RQ does not know comes from the outbox:
a row is *parked* (status ``failed``) once ``MAX_ATTEMPTS`` runs failed, and
reconcile no longer puts it back; only a person's retry runs it again.

Works on the real Redis and on the embedded stand-in alike (``workers.queues.connection``).
The time of the last sweep is one Redis key, written by every sweep
(``record_sweep``): every process of a deployment shares the Redis; in the
embedded mode the scheduler thread shares the web process's stand-in.
"""
import logging
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from redis.exceptions import RedisError
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.results import Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agency.audit.services import Actor, record
from agency.errors import NotFound, TransitionNotAllowed
from agency.jobs.models import OutboxJob
from workers.queues import all_queue_names, connection, get_queue, push

log = logging.getLogger(__name__)

SWEEP_KEY = "agency:sweep:last"
OLDEST_SHOWN = 5
FAILED_SHOWN = 50
OUTBOX_PREFIX = "outbox-"


# -- the last sweep -----------------------------------------------------------------


def record_sweep(now: datetime) -> None:
    """Remember the instant of a sweep (its ``now``).  Never fails the sweep: Redis down only loses the note."""
    try:
        connection().set(SWEEP_KEY, now.isoformat())
    except RedisError:
        log.warning("could not record the sweep time", exc_info=True)


def last_sweep() -> datetime | None:
    value = connection().get(SWEEP_KEY)
    return datetime.fromisoformat(value.decode() if isinstance(value, bytes) else value) if value else None


# -- counts -------------------------------------------------------------------------


@dataclass
class QueueCounts:
    """One queue: ``waiting`` in its list, ``started`` (running), ``failed``, ``deferred`` and
    ``scheduled`` (RQ's retries, waiting for their time) in RQ's registries; ``parked`` outbox rows."""

    name: str
    waiting: int = 0
    started: int = 0
    failed: int = 0
    deferred: int = 0
    scheduled: int = 0
    parked: int = 0

    COUNTS = ("waiting", "started", "failed", "deferred", "scheduled", "parked")

    @property
    def busy(self) -> bool:
        return any(getattr(self, name) for name in self.COUNTS)


@dataclass
class QueueHealth:
    """What ``queue_health`` returns.  ``unfinished``: outbox rows not yet run (neither done nor parked);
    ``oldest_unfinished``: the oldest few of them; ``redis_error``: set (and RQ's counts zero) when Redis
    cannot be read."""

    queues: list[QueueCounts]
    unfinished: int
    oldest_unfinished: list[OutboxJob]
    last_sweep: datetime | None
    redis_error: str | None = None
    totals: QueueCounts = field(init=False)

    def __post_init__(self):
        self.totals = QueueCounts("*", **{name: sum(getattr(q, name) for q in self.queues)
                                          for name in QueueCounts.COUNTS})

    def as_dict(self) -> dict:
        """Counts only (for a home page or monitoring): totals, per queue, outbox, last sweep."""
        counts = lambda q: {name: getattr(q, name) for name in QueueCounts.COUNTS}  # noqa: E731
        return {"totals": counts(self.totals), "queues": {q.name: counts(q) for q in self.queues},
                "outbox_unfinished": self.unfinished,
                "oldest_unfinished_at": self.oldest_unfinished[0].created_at if self.oldest_unfinished else None,
                "last_sweep": self.last_sweep, "redis_ok": self.redis_error is None}


def queue_health(session: Session, now: datetime, oldest: int = OLDEST_SHOWN) -> QueueHealth:
    """Per queue what RQ holds and what is parked, the outbox rows not yet run, and the last sweep.

    Reads, but for RQ's own dropping of expired failed entries: the started registry is counted
    without RQ's cleanup (which would fail or retry abandoned jobs; that is the workers' and
    reconcile's business).
    """
    names = all_queue_names(session)
    by_status = session.execute(
        select(OutboxJob.queue, OutboxJob.status, func.count()).where(OutboxJob.status != "done")
        .group_by(OutboxJob.queue, OutboxJob.status)).all()
    parked = {queue: n for queue, status, n in by_status if status == "failed"}
    unfinished = sum(n for _, status, n in by_status if status != "failed")
    oldest_rows = list(session.scalars(
        select(OutboxJob).where(OutboxJob.status.not_in(("done", "failed")))
        .order_by(OutboxJob.created_at, OutboxJob.id).limit(oldest))) if unfinished and oldest else []
    names += sorted(set(parked) - set(names))  # a queue whose department is gone still shows its parked rows
    queues, error, swept = [QueueCounts(name, parked=parked.get(name, 0)) for name in names], None, None
    try:
        for counts in queues:
            queue = get_queue(counts.name)
            counts.waiting = queue.count
            counts.started = queue.started_job_registry.get_job_count(cleanup=False)
            counts.failed = queue.failed_job_registry.count
            counts.deferred = queue.deferred_job_registry.count
            counts.scheduled = queue.scheduled_job_registry.count
        swept = last_sweep()
    except RedisError as problem:
        log.warning("queue health: Redis unreadable", exc_info=True)
        error = str(problem) or problem.__class__.__name__
        for counts in queues:
            counts.waiting = counts.started = counts.failed = counts.deferred = counts.scheduled = 0
    return QueueHealth(queues, unfinished, oldest_rows, swept, error)


# -- failed and parked jobs ----------------------------------------------------------


@dataclass
class FailedJob:
    """A job that needs a look: failed in RQ (``in_rq``) or parked in the outbox, or both."""

    queue: str
    job_id: str
    outbox: OutboxJob | None
    failed_at: datetime | None
    reason: str

    @property
    def parked(self) -> bool:
        return self.outbox is not None and self.outbox.status == "failed"

    @property
    def task(self) -> str:
        """The job's function: the outbox row's (every RQ job runs ``workers.runner.run_job``)."""
        return self.outbox.func if self.outbox is not None else ""


def last_line(error: str | None) -> str:
    """The last non-empty line of a traceback: the exception and its message."""
    lines = [line.strip() for line in (error or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _outbox_id(job_id: str) -> int | None:
    number = job_id[len(OUTBOX_PREFIX):] if job_id.startswith(OUTBOX_PREFIX) else ""
    return int(number) if number.isdigit() and len(number) < 19 else None


def failed_jobs(session: Session, limit: int = FAILED_SHOWN) -> tuple[list[FailedJob], int]:
    """Failed jobs of every queue (RQ's failed registries) and parked outbox rows, newest first:
    the first ``limit`` and how many there are.  Raises RedisError when Redis cannot be read."""
    redis, found = connection(), []
    for name in all_queue_names(session):
        queue = get_queue(name)
        ids = queue.failed_job_registry.get_job_ids(desc=True)
        for job_id, job in zip(ids, Job.fetch_many(ids, connection=redis, serializer=queue.serializer)):
            result = job.latest_result() if job is not None else None
            failed = result is not None and result.type == Result.Type.FAILED
            found.append((name, job_id, result.created_at if failed else getattr(job, "ended_at", None),
                          result.exc_string if failed else ""))
    ids = {_outbox_id(job_id) for _, job_id, _, _ in found} - {None}
    rows = {row.id: row for row in session.scalars(select(OutboxJob).where(OutboxJob.id.in_(ids)))} if ids else {}
    listed = []
    for name, job_id, at, exc in found:
        row = rows.get(_outbox_id(job_id))
        listed.append(FailedJob(name, job_id, row, at, last_line(exc) or last_line(row.last_error if row else "")))
    in_rq = {job.outbox.id for job in listed if job.outbox is not None}
    listed += [FailedJob(row.queue, row.rq_job_id, row, None, last_line(row.last_error))
               for row in session.scalars(select(OutboxJob).where(OutboxJob.status == "failed")
                                          .order_by(OutboxJob.id.desc()))
               if row.id not in in_rq]
    listed.sort(key=lambda job: (job.failed_at is not None, job.failed_at), reverse=True)
    return listed[:limit], len(listed)


RETRIED = "job.retried"


def retry_job(session: Session, now: datetime, actor: Actor, queue_name: str, job_id: str) -> str:
    """Run a failed or parked job again; audited.  Returns how: ``requeued`` (RQ's
    ``FailedJobRegistry.requeue``) or ``enqueued`` (a parked row RQ no longer keeps, put on its queue).

    The outbox row keeps its status: the run marks it done, or counts one more failure (a parked
    row stays parked, so reconcile does not start retrying it by itself).
    """
    if queue_name not in all_queue_names(session):
        raise NotFound(str(_l("没有这个队列")))
    registry = get_queue(queue_name).failed_job_registry
    outbox_id = _outbox_id(job_id)
    row = session.get(OutboxJob, outbox_id) if outbox_id is not None else None
    if row is not None and row.queue != queue_name:
        raise NotFound(str(_l("没有这个任务")))
    record(session, now, actor, RETRIED, row, after={"queue": queue_name, "job": job_id},
           detail=row.func if row is not None else "")
    session.flush()
    if job_id in registry:
        try:
            registry.requeue(job_id)
            return "requeued"
        except (InvalidJobOperation, NoSuchJobError):
            pass  # retried by someone else meanwhile, or its data expired: decide from the outbox row
    if row is not None and row.status == "failed":
        push(row.id, row.queue)
        return "enqueued"
    raise TransitionNotAllowed(str(_l("该任务已不在失败列表中（可能已被重试或已完成）")))
