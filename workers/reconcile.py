"""Put back on RQ the outbox rows whose job RQ no longer holds.

The outbox row (not done) is the truth, and RQ's job *status* is not: a
worker SIGKILLed between popping a job id and registering it as started
leaves a job whose status says ``queued`` while no list or registry holds it;
one killed mid-job leaves ``started`` for good.  So reconcile looks where RQ
keeps work that will still run (see ``RQView``) and pushes every other
unfinished row again.

Safe beside live workers: the one moment RQ cannot show (a live worker has
popped the id and not yet registered it, a few milliseconds) may cause a
second delivery, and the runner makes that a no-op (the row is locked and
marked done once).
"""
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from redis import Redis
from rq.executions import Execution
from rq.utils import current_timestamp
from rq.worker import BaseWorker
from sqlalchemy import select

from agency.jobs.models import OutboxJob
from agency.jobs.services import unfinished_jobs
from workers.queues import connection, get_queue, push_many, rq_job_id

GRACE = timedelta(seconds=30)


def reconcile(session, now: datetime, grace: timedelta = GRACE) -> int:
    """Push again every unfinished, unparked row older than ``grace`` that RQ does not hold; how many."""
    rows = [(job.id, job.queue) for job in unfinished_jobs(session, now, older_than=grace) if job.status != "failed"]
    session.rollback()
    redis = connection()
    held: set[str] = set()
    dead: dict[str, list[str]] = {}
    for name in {queue for _, queue in rows}:
        view = RQView.read(redis, name)
        held |= view.held
        dead[name] = view.dead_entries
    orphans = [(job_id, queue) for job_id, queue in rows if rq_job_id(job_id) not in held]
    if orphans:  # a job that finished while we looked is done by now: leave it
        open_ids = set(session.scalars(select(OutboxJob.id).where(
            OutboxJob.id.in_([job_id for job_id, _ in orphans]), OutboxJob.status.not_in(("done", "failed")))))
        session.rollback()
        orphans = [(job_id, queue) for job_id, queue in orphans if job_id in open_ids]
        _forget(redis, orphans, dead)
        push_many(orphans)
    return len(orphans)


@dataclass
class RQView:
    """What RQ holds of one queue: ``held``, the ids of the jobs it will still run, and
    ``dead_entries``, the started-registry entries of executions that will never end.

    Held: waiting in the queue list, in the scheduled registry (a retry) or
    the deferred registry, or in the started registry (work in progress)
    under a live, unexpired execution.  Read in one MULTI, so a job moving
    from one to the next is seen in one of them.  A job whose data is gone
    is never held (RQ would drop it on dequeue).
    """

    held: set[str]
    dead_entries: list[str]

    @classmethod
    def read(cls, redis: Redis, name: str) -> "RQView":
        queue = get_queue(name)
        with redis.pipeline(transaction=True) as pipe:
            pipe.lrange(queue.key, 0, -1)
            pipe.zrange(queue.scheduled_job_registry.key, 0, -1)
            pipe.zrange(queue.deferred_job_registry.key, 0, -1)
            pipe.zrange(queue.started_job_registry.key, 0, -1, withscores=True)
            waiting, scheduled, deferred, started = pipe.execute()
        held, dead, alive = {_text(i) for i in (*waiting, *scheduled, *deferred)}, [], {}
        for entry, expires in started:
            execution = Execution.from_composite_key(_text(entry), redis)
            if expires >= current_timestamp() and _runs(redis, execution, alive):
                held.add(execution.job_id)
            else:
                dead.append(execution.composite_key)
        with redis.pipeline(transaction=False) as pipe:
            for job_id in held:
                pipe.exists(queue.job_class.key_for(job_id))
            return cls({job_id for job_id, exists in zip(held, pipe.execute()) if exists}, dead)


def _runs(redis: Redis, execution: Execution, alive: dict) -> bool:
    """Whether the worker of a started execution is alive (the execution gone: it ended)."""
    worker = redis.hget(execution.key, "worker_name")
    if worker is None:
        return False
    name = _text(worker)
    if name not in alive:
        alive[name] = _worker_alive(redis, name)
    return alive[name]


def _worker_alive(redis: Redis, name: str) -> bool:
    """A registered worker that has not died; on this host, its process must exist too.

    A SIGKILLed worker cannot record its death, and its registration lives
    on until its TTL (minutes); on this host its pid tells at once.  On another
    host the registration's TTL decides.
    """
    pid, hostname, death = redis.hmget(BaseWorker.redis_worker_namespace_prefix + name, "pid", "hostname", "death")
    if pid is None or death is not None:
        return False
    if _text(hostname) != socket.gethostname():
        return True
    return _process_exists(int(pid))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead, only not yet reaped by its parent
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


def _forget(redis: Redis, orphans: list[tuple[int, str]], dead: dict[str, list[str]]) -> None:
    """Drop what RQ still records of an orphan (its dead executions, a failure, an intermediate-list
    entry), so RQ's own cleanup does not later retry or fail the job that is pushed again."""
    by_queue: dict[str, list[str]] = {}
    for job_id, name in orphans:
        by_queue.setdefault(name, []).append(rq_job_id(job_id))
    for name, job_ids in by_queue.items():
        queue, wanted = get_queue(name), set(job_ids)
        entries = [e for e in dead.get(name, []) if Execution.from_composite_key(e, redis).job_id in wanted]
        with redis.pipeline(transaction=True) as pipe:
            if entries:
                pipe.zrem(queue.started_job_registry.key, *entries)
            for job_id in job_ids:
                pipe.lrem(queue.intermediate_queue_key, 0, job_id)
            for registry in (queue.failed_job_registry, queue.finished_job_registry, queue.canceled_job_registry):
                pipe.zrem(registry.key, *job_ids)
            pipe.execute()


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
