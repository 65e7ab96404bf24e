"""Who may see what (DESIGN.md section 3).

Every view and API handler fetches objects through these helpers, so the
check is on the object, not only the role: another party's object is a 404.
"""
from typing import NamedTuple

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from agency.audit.services import head_columns
from agency.errors import Forbidden, NotFound
from agency.meetings.models import Invitation, Meeting
from agency.people.models import User
from agency.projects.models import Project
from agency.tasks.models import ROW_VERSION, Task


def visible_projects(user: User) -> Select:
    query = select(Project)
    if user.role == "director":
        return query
    if user.role == "enterprise":
        return query.where(Project.enterprise_id == user.id)
    if user.role == "agent":
        return query.where(or_(Project.agent_id == user.id, Project.first_contact_agent_id == user.id))
    if user.role == "liaison":
        return query.where(Project.id.in_(
            select(Task.project_id).where(Task.department_id == user.department_id)))
    return query.where(False)


def visible_tasks(user: User) -> Select:
    query = select(Task)
    if user.role == "director":
        return query
    if user.role == "liaison":
        return query.where(Task.department_id == user.department_id)
    return query.where(Task.project_id.in_(visible_projects(user).with_only_columns(Project.id)))


def get_visible(session: Session, visible: Select, model, object_id: int, what: str):
    """``model`` ``object_id`` among the rows ``visible`` selects, else NotFound (never a 403: API.md)."""
    found = session.scalar(visible.where(model.id == object_id))
    if found is None:
        raise NotFound(f"{what} {object_id} not found")
    return found


class Caller(NamedTuple):
    """Who asks, as the visibility statements read them (``visible_projects``, ``visible_tasks``): a
    statement built for one caller, or for a role with its id and department as bind parameters
    (``_get_by_role``), can then be kept and shared."""

    role: str
    id: object
    department_id: object


_BY_ROLE: dict[tuple, Select] = {}


def _role(role: str) -> Caller:
    """Any caller of ``role``: its id and department are the statement's parameters."""
    return Caller(role, bindparam("user_id"), bindparam("department_id"))


def _get_by_role(session: Session, user: User, what: str, build, object_id: int, to_change: bool):
    """``get_visible`` for the objects every request fetches (a task, a project), with the statement of
    ``user``'s role built once per process and ``user`` given as parameters: building the visibility
    clause and its eager loads cost more CPU than running the statement (bench_workflow).

    ``to_change``: the request goes on to change the object under its project's lock, which the same
    statement takes, reading the project afresh with its people (``FOR UPDATE OF projects``):
    ``lock_projects`` then saves that round trip (``agency.projects.locks.held_by_fetch``).  A task's
    statement also reads, on PostgreSQL, the task row's version and its project's audit head, for its
    transition to check rather than read again after the lock (``agency.projects.locks.Seen``).
    """
    seeing = to_change and what == "task" and session.get_bind().dialect.name == "postgresql"
    statement = _BY_ROLE.get((what, user.role, to_change, seeing))
    if statement is None:
        statement = build(_role(user.role), to_change)
        if seeing:
            statement = statement.add_columns(ROW_VERSION, *head_columns(Task.project_id))
        _BY_ROLE[(what, user.role, to_change, seeing)] = statement
    row = session.execute(statement, {"user_id": user.id, "department_id": user.department_id,
                                      "object_id": object_id}).first()
    if row is None:
        raise NotFound(f"{what} {object_id} not found")
    found = row[0]
    if to_change:
        from agency.projects.locks import Seen, held_by_fetch
        seen = Seen(found.id, row[1], (row[2], row[3])) if seeing and row[2] is not None else None
        held_by_fetch(session, found if what == "project" else found.project, seen)
    return found


def get_project(session: Session, user: User, project_id: int, *, to_change: bool = False) -> Project:
    """The project, its clocks settled as of now (agency.projects.clocks): what the user sees is the rule's outcome.

    ``to_change``: locked for the change the request makes (``_get_by_role``)."""
    from agency.projects.clocks import settle_project
    return settled(session, settle_project,
                   _get_by_role(session, user, "project", _project_statement, project_id, to_change))


def _project_statement(role: Caller, to_change: bool) -> Select:
    statement = visible_projects(role).where(Project.id == bindparam("object_id"))
    if to_change:  # as agency.projects.locks reads a project it locks
        statement = (statement.options(joinedload(Project.agent), joinedload(Project.enterprise))
                     .with_for_update(of=Project).execution_options(populate_existing=True))
    return statement


def get_task(session: Session, user: User, task_id: int, *, to_change: bool = False) -> Task:
    """The task, its clocks settled as of now: a late answer meets the task already deemed (R5).

    ``to_change``: its project locked for the change the request makes (``_get_by_role``)."""
    from agency.projects.clocks import settle_task
    return settled(session, settle_task, _get_by_role(session, user, "task", _task_statement, task_id, to_change))


def _task_statement(role: Caller, to_change: bool) -> Select:
    statement = (visible_tasks(role).where(Task.id == bindparam("object_id"))
                 .options(joinedload(Task.item), joinedload(Task.department)))  # what every use names
    if to_change:  # its project as agency.projects.locks reads a project it locks
        statement = (statement.join(Task.project)
                     .options(contains_eager(Task.project).options(joinedload(Project.agent),
                                                                   joinedload(Project.enterprise)))
                     .with_for_update(of=Project).execution_options(populate_existing=True))
    return statement


def settled(session: Session, settle, found):
    """``found`` after ``settle(session, now, found)``; what it changed is committed at once.

    Every request fetches its object here first, before it writes anything, so the commit holds
    the clocks' outcome alone: it stands even if the request itself is then refused (409).
    """
    from agency import clock
    if settle(session, clock.now(), found):
        session.commit()
    return found


def visible_meetings(user: User) -> Select:
    """Liaison: meetings its department is invited to; others: meetings of the projects they see."""
    query = select(Meeting)
    if user.role == "director":
        return query
    if user.role == "liaison":
        return query.where(Meeting.id.in_(
            select(Invitation.meeting_id).where(Invitation.department_id == user.department_id)))
    return query.where(Meeting.project_id.in_(visible_projects(user).with_only_columns(Project.id)))


def get_meeting(session: Session, user: User, meeting_id: int) -> Meeting:
    return get_visible(session, visible_meetings(user), Meeting, meeting_id, "meeting")


def is_assigned_agent(user: User, project: Project) -> bool:
    """The agent who carries the project: the assigned one, or the first contact until assignment (R7)."""
    if user.role != "agent":
        return False
    return project.agent_id == user.id or (project.agent_id is None and project.first_contact_agent_id == user.id)


def require_carrying_agent(user, project: Project, doing: str = "act on it") -> None:
    """Forbidden (403) unless ``user`` (a User or an Actor) is the agent carrying ``project``.

    Every agent's state change goes through this, in its service: the first contact keeps reading the
    project after a reassignment (``visible_projects``), but only the carrying agent acts (R7).
    """
    if not is_assigned_agent(user, project):
        raise Forbidden(f"only the agent carrying the project may {doing}")
