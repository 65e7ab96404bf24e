"""The sweep: warnings, timeout = consent, meeting rules, overdue notices and deferrals (R5, R6, R10, R15).

Deadlines are columns; the sweep selects due rows through partial indexes and
closes them with conditional UPDATEs, in batches that each commit.  It takes
``now``, so it can be run for any instant, and running it twice is harmless.
When nothing is due it costs one statement: a probe of every index at once.
"""
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from agency.enterprise.models import DissatisfactionNotice
from agency.jobs.health import record_sweep
from agency.enterprise.rules import sweep_notices
from agency.materials.models import Deferral
from agency.materials.services import warn_overdue_deferrals
from agency.meetings.models import OPEN_MEETING_STATUSES, Meeting
from agency.meetings.rules import REMINDER_HORIZON, UNCLOSED_AFTER, sweep_meetings
from agency.projects.services import lock_projects
from agency.tasks.models import RUNNING_CLAUSE, Task
from agency.tasks.services import settle_clocks

BATCH = 500


# A suspended project's tasks (suspended_days_left set) are running but stopped: never due (R2).
def _timeouts_due(now: datetime):
    return select(Task.id).where(RUNNING_CLAUSE, Task.suspended_days_left.is_(None), Task.escalated_at.is_(None),
                                 Task.deadline <= now)


def _warnings_due(now: datetime):
    # No "deadline > now" here: with it PostgreSQL prefers the inbox index and reads every open task.
    # Timeouts run first, so what is past its deadline is closed (or escalated, excluded) already;
    # apply_warnings checks the deadline again on the rows it updates.
    return select(Task.id).where(RUNNING_CLAUSE, Task.suspended_days_left.is_(None), Task.warned_at.is_(None),
                                 Task.warn_at <= now, Task.escalated_at.is_(None))


def what_is_due(session: Session, now: datetime) -> dict[str, bool]:
    """Which parts of the sweep have work, in one statement of index probes (EXISTS)."""
    probes = {
        "timeouts": _first_in_index_order(_timeouts_due(now), Task.deadline),
        "warnings": _first_in_index_order(_warnings_due(now), Task.warn_at),
        "meetings": exists(select(Meeting.id).where(
            Meeting.status == "scheduled", Meeting.reminded_at.is_(None), Meeting.starts_at > now,
            Meeting.starts_at <= now + REMINDER_HORIZON)) | exists(select(Meeting.id).where(
            Meeting.status.in_(OPEN_MEETING_STATUSES), Meeting.flagged_unclosed_at.is_(None),
            Meeting.starts_at <= now - UNCLOSED_AFTER)),
        "notices": exists(select(DissatisfactionNotice.id).where(
            DissatisfactionNotice.due <= now, DissatisfactionNotice.replied_at.is_(None),
            DissatisfactionNotice.red_carded_at.is_(None))),
        "deferrals": _first_in_index_order(select(Deferral.id).where(
            Deferral.supplied_at.is_(None), Deferral.warned_at.is_(None), Deferral.until <= now), Deferral.until),
    }
    row = session.execute(select(*(probe.label(name) for name, probe in probes.items()))).one()
    return dict(row._mapping)


def _first_in_index_order(due, column):
    """``(SELECT column ... ORDER BY column LIMIT 1) IS NOT NULL``: a walk of the partial index that stops at once.

    Not EXISTS: PostgreSQL drops the ORDER BY inside EXISTS, and misjudging how many
    rows match (closed tasks dominate the statistics) it may read the whole table.
    """
    return due.with_only_columns(column).order_by(column).limit(1).scalar_subquery().is_not(None)


def _batches(session: Session, due, order_by):
    """Due tasks in batches: their projects locked (in id order, as every writer does) and read afresh.

    A row seen once and left due (a race, a clock restarted) is not taken again, so the loop ends.
    """
    seen: set[int] = set()
    while True:
        rows = [r for r in session.execute(due.add_columns(Task.project_id).order_by(order_by).limit(BATCH))
                if r.id not in seen]
        if not rows:
            return
        seen.update(r.id for r in rows)
        projects = lock_projects(session, {r.project_id for r in rows})
        ids = {r.id for r in rows}
        yield [t for p in projects for t in p.tasks if t.id in ids]


def sweep_timeouts(session: Session, now: datetime) -> dict:
    counts = {"deemed_consent": 0, "escalated": 0}
    for tasks in _batches(session, _timeouts_due(now), Task.deadline):
        settled = settle_clocks(session, now, tasks)  # the one function requests call too
        for name in counts:
            counts[name] += settled[name]
        session.commit()
    return counts


def sweep_warnings(session: Session, now: datetime) -> int:
    warned = 0
    for tasks in _batches(session, _warnings_due(now), Task.warn_at):
        warned += settle_clocks(session, now, tasks)["warned"]
        session.commit()
    return warned


def sweep_deferrals(session: Session, now: datetime) -> int:
    """Deferred materials still owed after their promised date (R15), in committed batches."""
    warned = 0
    while count := warn_overdue_deferrals(session, now):
        warned += count
        session.commit()
    return warned


def run_sweep(session: Session, now: datetime) -> dict:
    """Every timed rule as of ``now``; returns counts of what it did."""
    due = what_is_due(session, now)
    counts = {"warned": 0, "deemed_consent": 0, "escalated": 0, "meeting_reminders": 0, "meetings_unclosed": 0,
              "notice_red_cards": 0, "deferrals_overdue": 0}
    if due["timeouts"]:
        counts.update(sweep_timeouts(session, now))
    if due["warnings"]:
        counts["warned"] = sweep_warnings(session, now)
    if due["meetings"]:
        counts.update(sweep_meetings(session, now))
    if due["notices"]:
        counts.update(sweep_notices(session, now))
    if due["deferrals"]:
        counts["deferrals_overdue"] = sweep_deferrals(session, now)
    session.commit()
    record_sweep(now)  # one Redis SET: the director's queue page shows when the sweep last ran
    return counts
