"""Department queue jobs: a dispatched task reaches the department's liaison (R3, R8)."""
from typing import NamedTuple

from sqlalchemy import and_, bindparam, select, update

from agency.catalog.models import ApprovalItem, Department, reachable
from agency.notifications.services import notify_many
from agency.people.models import User
from agency.projects.models import Project
from agency.tasks.models import OPEN_STATUSES, Task


class Liaison(NamedTuple):
    """A department's liaison as R8 and a notice need them (a notice's user: id, e-mail, phone)."""

    id: int
    email: str
    phone: str
    on_leave: bool


SLOTS = ("primary", "backup")


def deliver_task(session, now, task_id: int) -> None:
    """Put the task in front of the department: the primary liaison, or the backup while the primary is away."""
    task = _mark_delivered(session, now, task_id)
    if task is None:
        return  # unknown, already delivered, or closed (withdrawn) before the job ran: nothing to announce
    liaisons = [Liaison(*(getattr(task, f"{slot}_{name}") for name in Liaison._fields)) for slot in SLOTS]
    liaison = reachable(*(person if person.id is not None else None for person in liaisons))
    subject = f"新办件：{task.item_name}"
    body = (f"项目“{task.project_name}”的“{task.item_name}”已派发到{task.department_name}，"
            f"承诺时限{task.promised_days}个工作日。")
    if liaison is not None:
        notify_many(session, now, [liaison], subject, body, key=f"task-delivered:{task_id}",
                    link=f"/tasks/{task_id}", project_id=task.project_id)
        return
    directors = session.scalars(select(User).where(User.role == "director", User.active.is_(True))).all()
    notify_many(session, now, directors, f"无可用联络员：{task.department_name}",
                f"{body} 该部门A、B角均不可用，请协调。", key=f"task-undeliverable:{task_id}",
                link=f"/projects/{task.project_id}", project_id=task.project_id)


def _departments_with_liaisons():
    """Each department with its primary and backup liaisons (``Department.liaison``: the active user in
    the slot; NULLs when there is none), one row a department (a slot has one user at most)."""
    department = Department.__table__
    columns, joined = [department.c.id, department.c.name], department
    for slot in SLOTS:
        person = User.__table__.alias(slot)
        joined = joined.outerjoin(person, and_(person.c.department_id == department.c.id,
                                               person.c.liaison_slot == slot, person.c.active.is_(True)))
        columns += [person.c[name].label(f"{slot}_{name}") for name in Liaison._fields]
    return select(*columns).select_from(joined).subquery("department")


def _statements():
    """The conditional UPDATE of ``_mark_delivered`` (PostgreSQL: returning what the notice needs) and
    SQLite's SELECT of the same columns, built once."""
    department = _departments_with_liaisons()
    needed = (Task.project_id, Task.promised_days, ApprovalItem.name.label("item_name"),
              Project.name.label("project_name"), department.c.name.label("department_name"),
              *(department.c[f"{slot}_{name}"] for slot in SLOTS for name in Liaison._fields))
    of_task = (ApprovalItem.id == Task.item_id, Project.id == Task.project_id, department.c.id == Task.department_id)
    mark = (update(Task).where(Task.id == bindparam("task_id"), Task.delivered_at.is_(None),
                               Task.status.in_(OPEN_STATUSES)).values(delivered_at=bindparam("now")))
    return mark, mark.where(*of_task).returning(*needed), select(*needed).where(Task.id == bindparam("task_id"), *of_task)


_MARK, _MARK_RETURNING, _SELECT_MARKED = _statements()


def _mark_delivered(session, now, task_id: int):
    """Set the task's ``delivered_at`` if it is still open and undelivered; what its notice needs, or None.

    A job per task, so a hot path (bench_jobs): on PostgreSQL one conditional ``UPDATE tasks ... FROM``
    its item, project and department with its liaisons, ``RETURNING`` what the notice needs, built once
    and run on the session's connection (no ORM object; the ORM joinedload of the task's graph and its
    flush cost more than the job's other statements together).  The row lock it takes makes a racing
    withdrawal either come first (nothing to announce) or wait.  SQLite cannot return other tables'
    columns from an UPDATE: there the same conditional UPDATE, then a SELECT of the same columns.
    """
    connection, params = session.connection(), {"task_id": task_id, "now": now}
    if connection.dialect.name == "postgresql":
        return connection.execute(_MARK_RETURNING, params).first()
    if connection.execute(_MARK, params).rowcount != 1:
        return None
    return connection.execute(_SELECT_MARKED, params).first()
