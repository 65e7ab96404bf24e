"""The sweep: warnings, timeout = consent, meeting rules, overdue notices (R5, R6, R10).

Deadlines are columns; the sweep selects due rows through partial indexes and
closes each with a conditional UPDATE, in batches that each commit.  It takes
``now``, so it can be run for any instant, and running it twice is harmless.
"""
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.enterprise.rules import sweep_notices
from agency.meetings.rules import sweep_meetings
from agency.tasks.models import RUNNING_CLAUSE, Task
from agency.tasks.services import apply_timeout, apply_warning

BATCH = 500


def _batches(session: Session, query):
    """Due rows in batches, each ordered by project (the lock order of every writer)."""
    while True:
        ids = session.scalars(query.limit(BATCH)).all()
        if not ids:
            return
        yield sorted(ids)


def sweep_timeouts(session: Session, now: datetime) -> dict:
    counts = {"deemed_consent": 0, "escalated": 0}
    due = (select(Task.id).where(RUNNING_CLAUSE, Task.escalated_at.is_(None), Task.deadline <= now)
           .order_by(Task.deadline))
    seen: set[int] = set()
    for ids in _batches(session, due):
        fresh = [i for i in ids if i not in seen]
        if not fresh:
            break
        seen.update(fresh)
        tasks = session.scalars(select(Task).where(Task.id.in_(fresh)).order_by(Task.project_id, Task.id)).all()
        for task in tasks:
            result = apply_timeout(session, now, task)
            if result == "deemed":
                counts["deemed_consent"] += 1
            elif result == "escalated":
                counts["escalated"] += 1
        session.commit()
    return counts


def sweep_warnings(session: Session, now: datetime) -> int:
    warned = 0
    # No "deadline > now" here: with it PostgreSQL prefers the inbox index and reads every open task.
    # Timeouts run first, so what is past its deadline is closed (or escalated, excluded) already.
    due = (select(Task.id).where(RUNNING_CLAUSE, Task.warned_at.is_(None), Task.warn_at <= now,
                                 Task.escalated_at.is_(None)).order_by(Task.warn_at))
    seen: set[int] = set()
    for ids in _batches(session, due):
        fresh = [i for i in ids if i not in seen]
        if not fresh:
            break
        seen.update(fresh)
        for task in session.scalars(select(Task).where(Task.id.in_(fresh)).order_by(Task.project_id, Task.id)):
            if task.deadline > now:  # one left behind by a race is the timeout's, not a warning's
                warned += apply_warning(session, now, task)
        session.commit()
    return warned


def run_sweep(session: Session, now: datetime) -> dict:
    """Every timed rule as of ``now``; returns counts of what it did."""
    timeouts = sweep_timeouts(session, now)
    counts = {"warned": sweep_warnings(session, now), **timeouts}
    counts.update(sweep_meetings(session, now))
    counts.update(sweep_notices(session, now))
    return counts
