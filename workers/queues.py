"""Queue names, the Redis connection, and pushing outbox rows onto RQ.

Without ``REDIS_URL`` an in-process Redis stand-in (fakeredis) is used, so
one process runs everything; production points every process at one Redis.
"""
import threading

from flask import current_app, has_app_context
from redis import Redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer

FIXED_QUEUES = ("default", "notifications", "reports")
RUN_JOB = "workers.runner.run_job"
RETRY = Retry(max=5, interval=[10, 30, 120, 600, 1800])

_lock = threading.Lock()
_connections: dict[str, Redis] = {}


def department_queue(code: str) -> str:
    return f"dept.{code}"


def redis_url() -> str | None:
    return current_app.config.get("REDIS_URL") if has_app_context() else None


def connection() -> Redis:
    url = redis_url()
    key = url or "embedded"
    with _lock:
        if key not in _connections:
            if url:
                _connections[key] = Redis.from_url(url)
            else:
                import fakeredis
                _connections[key] = fakeredis.FakeRedis(server=fakeredis.FakeServer())
        return _connections[key]


def reset_embedded() -> None:
    """Forget the embedded stand-in (tests start each from empty)."""
    with _lock:
        _connections.pop("embedded", None)


def get_queue(name: str) -> Queue:
    return Queue(name, connection=connection(), serializer=JSONSerializer)


def all_queue_names(session) -> list[str]:
    from sqlalchemy import select

    from agency.catalog.models import Department
    codes = session.scalars(select(Department.code).order_by(Department.code)).all()
    return [*FIXED_QUEUES, *(department_queue(c) for c in codes)]


def rq_job_id(outbox_id: int) -> str:
    return f"outbox-{outbox_id}"


def push(outbox_id: int, queue: str) -> None:
    """Put an outbox row on RQ.  A failure here is repaired by reconcile."""
    push_many([(outbox_id, queue)])


def push_many(jobs: list[tuple[int, str]]) -> None:
    """``push_jobs``, a failure logged: the rows stay unfinished for reconcile."""
    try:
        push_jobs(jobs)
    except Exception:  # Redis down: the rows stay pending for reconcile
        if has_app_context():
            current_app.logger.exception("could not enqueue outbox jobs %s", jobs)


def push_jobs(jobs: list[tuple[int, str]]) -> None:
    """Put outbox rows on RQ, every queue's in one Redis pipeline (one round trip: a dispatch's 8
    tasks go to 6 department queues).  Raises when Redis cannot take them."""
    by_queue: dict[str, list[int]] = {}
    for outbox_id, queue in jobs:
        by_queue.setdefault(queue, []).append(outbox_id)
    if not by_queue:
        return
    pipe = connection().pipeline()
    for name, ids in by_queue.items():
        get_queue(name).enqueue_many(
            [Queue.prepare_data(RUN_JOB, [outbox_id], job_id=rq_job_id(outbox_id), retry=RETRY, result_ttl=3600,
                                failure_ttl=7 * 86400) for outbox_id in ids], pipeline=pipe)
    pipe.execute()
