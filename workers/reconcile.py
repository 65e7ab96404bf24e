"""Put back on RQ the outbox rows whose job never ran (lost enqueue, flushed Redis)."""
from datetime import datetime, timedelta

from agency.jobs.services import unfinished_jobs
from workers.queues import is_live, push

GRACE = timedelta(seconds=30)


def reconcile(session, now: datetime, grace: timedelta = GRACE) -> int:
    requeued = 0
    for job in unfinished_jobs(session, now, older_than=grace):
        if job.status == "failed" or is_live(job.id):
            continue
        push(job.id, job.queue)
        requeued += 1
    session.rollback()
    return requeued
