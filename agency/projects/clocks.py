"""Every clock of what a request touches, settled as of ``now`` before the request sees it (R5, R10, R15).

STYLE.md: a clock's outcome is decided by one function that both the sweep and any request
touching the object call.  These call the sweep's own functions (``settle_clocks``,
``warn_overdue_deferrals``, ``sweep_notices``) narrowed to the object, so what a user sees
never depends on when the sweep last ran.  Nothing due costs a project one probe statement
(a task: none, its fields are checked in Python; a project never dispatched: none).
"""
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from agency.enterprise.models import DissatisfactionNotice
from agency.materials.models import Deferral
from agency.tasks.models import RUNNING_CLAUSE, Task


def _due_probe(now: datetime, project_id: int):
    """One statement: (tasks with a clock due, deferrals overdue, notices overdue) of the project."""
    tasks = exists(select(Task.id).where(Task.project_id == project_id, RUNNING_CLAUSE, Task.escalated_at.is_(None),
                                         Task.suspended_days_left.is_(None),  # suspended: clocks stopped
                                         (Task.deadline <= now) | (Task.warned_at.is_(None) & (Task.warn_at <= now))))
    deferrals = exists(select(Deferral.id).where(Deferral.project_id == project_id, Deferral.supplied_at.is_(None),
                                                 Deferral.warned_at.is_(None), Deferral.until <= now))
    notices = exists(select(DissatisfactionNotice.id).where(
        DissatisfactionNotice.project_id == project_id, DissatisfactionNotice.due <= now,
        DissatisfactionNotice.replied_at.is_(None), DissatisfactionNotice.red_carded_at.is_(None)))
    return select(tasks.label("tasks"), deferrals.label("deferrals"), notices.label("notices"))


def settle_project(session: Session, now: datetime, project) -> bool:
    """Apply every clock of ``project`` due by ``now``; True when something changed (flushes, never commits)."""
    from agency.enterprise.rules import sweep_notices
    from agency.materials.services import warn_overdue_deferrals
    from agency.projects.services import lock_projects
    from agency.tasks.services import settle_clocks
    if project.status in ("consulting", "entrusted"):  # never dispatched: no task, deferral or notice has a clock
        return False
    due = session.execute(_due_probe(now, project.id)).one()
    if due.tasks:
        settle_clocks(session, now, lock_projects(session, [project.id])[0].tasks)
    if due.deferrals:
        warn_overdue_deferrals(session, now, Deferral.project_id == project.id)
    if due.notices:
        sweep_notices(session, now, DissatisfactionNotice.project_id == project.id)
    return any(due)


def settle_task(session: Session, now: datetime, task) -> bool:
    """Apply the task's own clocks due by ``now`` (no statement when none is); True when something changed."""
    from agency.projects.services import lock_projects
    from agency.tasks.services import clocks_due, settle_clocks
    if not clocks_due(now, [task]):
        return False
    project = lock_projects(session, [task.project_id])[0]
    settle_clocks(session, now, [t for t in project.tasks if t.id == task.id])
    return True


def settle_task_rows(session: Session, now: datetime, rows) -> bool:
    """The clocks due by ``now`` of task rows read for a list (agency.tasks.schemas.TASK_ROW), applied as
    ``settle_task`` applies one task's: picked in Python (nothing due: no statement), then their projects
    locked and the tasks settled on the rows read under the lock.  True when something was due."""
    from agency.projects.services import lock_projects
    from agency.tasks.services import clocks_due, settle_clocks
    due = {row.id: row.project_id for row in rows if clocks_due(now, [row])}
    if not due:
        return False
    projects = lock_projects(session, set(due.values()))
    settle_clocks(session, now, [t for project in projects for t in project.tasks if t.id in due])
    return True


def settle_notice(session: Session, now: datetime, notice) -> bool:
    """An overdue rectification reply: its red card, now (no statement when it is not due)."""
    from agency.enterprise.rules import sweep_notices
    if notice.replied_at is not None or notice.red_carded_at is not None or notice.due > now:
        return False
    sweep_notices(session, now, DissatisfactionNotice.id == notice.id)
    return True
