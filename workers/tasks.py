"""Department queue jobs: a dispatched task reaches the department's liaison (R3, R8)."""
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from agency.catalog.models import Department
from agency.notifications.services import notify_many
from agency.people.models import User
from agency.tasks.models import Task


def deliver_task(session, now, task_id: int) -> None:
    """Put the task in front of the department: the primary liaison, or the backup while the primary is away.

    The task is read with its item, project and department's liaisons in one statement (a job per
    task: lazy loads were half of its statements, bench_jobs).
    """
    task = session.scalars(select(Task).where(Task.id == task_id)
                           .options(joinedload(Task.item), joinedload(Task.project),
                                    joinedload(Task.department).joinedload(Department.liaisons))).unique().first()
    if task is None or task.delivered_at is not None or not task.is_open:
        return  # unknown, already delivered, or closed (withdrawn) before the job ran: nothing to announce
    task.delivered_at = now
    department = task.department
    liaison = department.reachable_liaison()
    subject = f"新办件：{task.item.name}"
    body = f"项目“{task.project.name}”的“{task.item.name}”已派发到{department.name}，承诺时限{task.promised_days}个工作日。"
    if liaison is not None:
        notify_many(session, now, [liaison], subject, body, key=f"task-delivered:{task.id}",
                    link=f"/tasks/{task.id}", project_id=task.project_id)
        return
    directors = session.scalars(select(User).where(User.role == "director", User.active.is_(True))).all()
    notify_many(session, now, directors, f"无可用联络员：{department.name}",
                f"{body} 该部门A、B角均不可用，请协调。", key=f"task-undeliverable:{task.id}",
                link=f"/projects/{task.project_id}", project_id=task.project_id)
