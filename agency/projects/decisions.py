"""The agent's decisions on a project's course (R2): after a refusal, end it or resubmit the refused
item; at the enterprise's request, suspend it and resume it.

Only the agent carrying the project decides (403 for anyone else who can see it).  Every call checks
everything before it writes, under the project's lock, so a refused call leaves nothing behind.
"""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from agency.audit.services import Actor, record
from agency.calendar.services import get_calendar
from agency.clock import hall_tz
from agency.errors import BadInput, Forbidden, TransitionNotAllowed
from agency.notifications.services import notify_many
from agency.people.access import is_assigned_agent
from agency.people.models import User
from agency.projects.locks import lock_project
from agency.projects.models import Project, ProjectSuspension
from agency.projects.services import end_suspension, go_on, terminate_project
from agency.tasks.models import Task
from agency.tasks.services import create_tasks, restart_clocks, stop_clocks


def _required(text: str | None, name: str) -> str:
    text = (text or "").strip()
    if not text:
        raise BadInput(f"a {name} is required", fields={name: "required"},
                       shown=_l("请填写原因或说明。"))
    return text


def _carrying(user: User, project: Project, what: str) -> None:
    if not is_assigned_agent(user, project):
        raise Forbidden(f"only the agent carrying the project {what}",
                        shown=_l("只有承办该项目的代办员可以办理此操作。"))


def _directors(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.role == "director", User.active.is_(True))))


# -- after a refusal -------------------------------------------------------------------------------


def end_project(session: Session, now: datetime, user: User, project: Project, reason: str) -> Project:
    """After a refusal the agent ends the project: terminated (cause refused), open tasks cancelled,
    everyone told: the enterprise, the directors and the departments whose tasks were still open."""
    _carrying(user, project, "ends it")
    reason = _required(reason, "reason")
    lock_project(session, project.id)
    if not project.awaits_decision:
        raise TransitionNotAllowed("the project is not waiting for a decision after a refusal",
                                   fields={"status": project.status},
                                   shown=_l("项目没有在等待不予办理后的决定。"))
    refused = project.refusals_undecided
    items = "、".join(dict.fromkeys(t.item.name for t in refused))
    departments = [t.department.reachable_liaison() for t in project.tasks if t.is_open]
    terminate_project(session, now, Actor.of(user), project, f"不予办理后终止（{items}）：{reason}", "ended",
                      cause="refused", told=[*_directors(session), *departments])
    return project


def resubmit_task(session: Session, now: datetime, user: User, task: Task, note: str) -> Task:
    """After rectification the agent resubmits a refused task's item: a new task for it in the same
    stage, with a fresh clock (the item's promised limit from now), sent to the department's queue.
    The refused task is left as it is; the new one supersedes it once (``tasks.supersedes_id``)."""
    project = task.project
    _carrying(user, project, "resubmits a refused item")
    note = _required(note, "note")
    lock_project(session, project.id)  # reads the project's tasks afresh: a resubmission just committed shows
    if not task.is_refused:
        raise TransitionNotAllowed(f"task {task.id} was not refused; only a refused item is resubmitted",
                                   fields={"status": task.status},
                                   shown=_l("该办件未被不予办理，只有不予办理的事项才能重新提交。"))
    if any(t.supersedes_id == task.id for t in project.tasks):
        raise TransitionNotAllowed(f"task {task.id} has been resubmitted already", fields={"task": "resubmitted"},
                                   shown=_l("该事项已经重新提交过。"))
    if not project.awaits_decision or task.stage.status != "open":
        raise TransitionNotAllowed("the project is not waiting for a decision after a refusal",
                                   fields={"status": project.status},
                                   shown=_l("项目没有在等待不予办理后的决定。"))
    if project.suspended:
        raise TransitionNotAllowed("the project is suspended; resume it first", fields={"suspended": True},
                                   shown=_l("项目已暂停，请先恢复办理。"))
    (new,) = create_tasks(session, now, project, task.stage, [task.item], supersedes=task)
    if not project.refusals_undecided:  # the new task is in project.tasks: ``task`` counts as superseded
        project.halted_at = None
    record(session, now, Actor.of(user), "task.resubmitted", new,
           after={"supersedes": task.id, "note": note, "deadline": new.deadline.isoformat()},
           detail=f"整改后重新提交“{task.item.name}”至{task.department.name}：{note}"
                  f"（重新计时{new.promised_days}个工作日）")
    notify_many(session, now, [project.enterprise], f"已重新提交：{task.item.name}",
                f"代办员已将“{task.item.name}”整改后重新提交{task.department.name}：{note}",
                key=f"resubmitted:{task.id}", link=f"/projects/{project.id}", project_id=project.id)
    return new


def awaiting_decision():
    """SQL of ``Project.awaits_decision``: open, and stopped by a refusal."""
    return Project.halted_at.is_not(None) & Project.status.in_(("entrusted", "in_progress"))


def waiting_after_refusal(session: Session, now: datetime) -> list[dict]:
    """Open projects waiting for their agent's decision after a refusal, the longest waiting first,
    each with how long it has waited: working days (R1) and hours."""
    projects = session.scalars(
        select(Project).where(awaiting_decision())
        .order_by(Project.halted_at, Project.id)
        .options(joinedload(Project.agent),
                 selectinload(Project.tasks).options(joinedload(Task.item), joinedload(Task.department)))).all()
    calendar, tz = get_calendar(session), hall_tz()
    return [{"project": p, "since": p.halted_at, "hours": int((now - p.halted_at).total_seconds() // 3600),
             "working_days": calendar.working_days_left(p.halted_at, now, tz),
             "refused": p.refusals_undecided} for p in projects]


# -- suspension ------------------------------------------------------------------------------------


def suspend_project(session: Session, now: datetime, user: User, project: Project, reason: str) -> ProjectSuspension:
    """At the enterprise's request (a redesign, say) the agent suspends the project: every running
    clock stops, keeping the working days it had left; nothing is deemed or warned until resumption.
    Tasks in supplement keep their stopped clock.  The enterprise and the departments are told."""
    _carrying(user, project, "suspends it")
    reason = _required(reason, "reason")
    lock_project(session, project.id)
    if not project.is_open:
        raise TransitionNotAllowed(f"project is {project.status}; it cannot be suspended",
                                   fields={"status": project.status},
                                   shown=_l("项目已办结或终止，不能暂停。"))
    if project.suspended:
        raise TransitionNotAllowed("the project is suspended already", fields={"suspended": True},
                                   shown=_l("项目已经暂停。"))
    left = stop_clocks(session, now, project.tasks)
    period = ProjectSuspension(project_id=project.id, reason=reason, started_at=now, started_by_id=user.id)
    session.add(period)
    project.suspended = True
    session.flush()
    record(session, now, Actor.of(user), "project.suspended", project, after={"reason": reason, "days_left": left},
           detail=f"应企业申请暂停办理：{reason}（{len(left)}个办件停止计时）")
    stopped = [t for t in project.tasks if t.id in left]
    liaisons = [t.department.reachable_liaison() for t in stopped]
    notify_many(session, now, [project.enterprise, *liaisons], f"项目暂停办理：{project.name}",
                f"应企业申请，项目“{project.name}”暂停办理，办理时限停止计算：{reason}",
                key=f"suspended:{project.id}:{period.id}", link=f"/projects/{project.id}", project_id=project.id)
    return period


def resume_project(session: Session, now: datetime, user: User, project: Project) -> ProjectSuspension:
    """The agent resumes a suspended project: each stopped task gets back the working days it had
    left, counted from now; a stage that closed meanwhile lets the next go out by itself."""
    _carrying(user, project, "resumes it")
    lock_project(session, project.id)
    if not project.is_open or not project.suspended:
        raise TransitionNotAllowed("the project is not suspended", fields={"suspended": False},
                                   shown=_l("项目未暂停，不能恢复。"))
    deadlines = restart_clocks(session, now, project.tasks)
    period = end_suspension(session, now, Actor.of(user), project)
    calendar, tz = get_calendar(session), hall_tz()
    paused = calendar.working_days_left(period.started_at, now, tz) if period else 0
    record(session, now, Actor.of(user), "project.resumed", project,
           after={"deadlines": {str(i): d.isoformat() for i, d in deadlines.items()}, "suspended_working_days": paused},
           detail=f"恢复办理（暂停{paused}个工作日）：{len(deadlines)}个办件按剩余工作日重新计时")
    restarted = [t for t in project.tasks if t.id in deadlines]
    notify_many(session, now, [project.enterprise, *(t.department.reachable_liaison() for t in restarted)],
                f"项目恢复办理：{project.name}", f"项目“{project.name}”恢复办理，各办件按暂停时剩余的工作日重新计时。",
                key=f"resumed:{project.id}:{period.id if period else 0}", link=f"/projects/{project.id}",
                project_id=project.id)
    go_on(session, now, project)
    return period


def open_suspension(session: Session, project: Project) -> ProjectSuspension | None:
    return session.scalar(select(ProjectSuspension).where(ProjectSuspension.project_id == project.id,
                                                          ProjectSuspension.ended_at.is_(None)))

