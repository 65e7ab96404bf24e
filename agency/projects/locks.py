"""The project's lock: every change to a project's tasks and stages is serialised on it.

A module of its own, below both the project lifecycle and the task transitions,
so that the task services take the lock without importing the project services.
"""
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from agency.audit.services import chain_of, head_columns, knew_head
from agency.errors import NotFound
from agency.projects.models import Project, Stage
from agency.tasks.models import Task
from agency.transaction import remembered


def lock_project(session: Session, project_id: int) -> Project:
    """Serialise every change to one project's tasks and stages until commit.

    Every task transition takes this lock first, so stage completion is
    judged on committed facts and lock order is always project, then task.
    """
    return lock_projects(session, [project_id])[0]


def lock_projects(session: Session, project_ids) -> list[Project]:
    """Lock projects (in id order, the order every writer uses) and read them afresh with what rules need.

    Once the locks are held, each project is read again with its people, its
    stages and every task (populate_existing): objects this session loaded
    before waiting (a request's project, a sweep's batch) would otherwise still
    show what another transaction has since changed.  A project locked earlier
    in the same transaction is not read again: no one else can have changed it
    since, and the session keeps it until the end.

    The stages and tasks are read by statements sent *after* the lock is held.  Under READ
    COMMITTED a statement that waited for a row lock re-reads only the locked row; rows it joins
    to it stay as they were when it began.  Read in the locking statement, two answers to a stage's
    last two tasks would each see the other's task still open, and the stage would never close
    (tests/workers/test_last_answers_race.py).
    """
    locked = remembered(session, _LOCKED)
    wanted = sorted(set(project_ids))
    ids = [i for i in wanted if i not in locked]
    if len(ids) == 1:
        locked[ids[0]] = _lock_one(session, ids[0], remembered(session, _FETCHED).get(ids[0]))
    elif ids:
        # A batch (the sweep): separate IN queries after the lock, so the few distinct people and
        # catalog rows are read once, not once per row.
        projects = session.scalars(
            select(Project).where(Project.id.in_(ids)).order_by(Project.id).with_for_update(of=Project)
            .options(selectinload(Project.agent), selectinload(Project.enterprise),
                     selectinload(Project.stages).options(selectinload(Stage.tasks).options(
                         selectinload(Task.item), selectinload(Task.department))))
            .execution_options(populate_existing=True)).all()
        if len(projects) != len(ids):
            raise NotFound(f"project {sorted(set(ids) - {p.id for p in projects})} not found")
        for project in projects:
            _link(project, project.stages)
            locked[project.id] = project  # a strong reference: the identity map's are weak
    return [locked[i] for i in wanted]


def _lock_one(session: Session, project_id: int, fetched: Project | None = None) -> Project:
    """One project (a request, e.g. each answer): two statements, or one, and no catalog rows.

    The project row locked with its people (many-to-one: one row), unless the statement that fetched
    the request's task or project did that already (``fetched``: ``held_by_fetch``); then, with the
    lock held, its stages joined to their tasks, and the head of its audit chain (which is written
    under this lock).  A task's item and department are left to the identity map (the request's task
    was read with them, ``agency.people.access.get_task``) or a lazy load: the stage rule needs only
    the tasks' own columns.  Both statements are built once (every task transition sends them).
    """
    project = fetched or session.scalars(_LOCK_ONE, {"project_id": project_id}).first()
    if project is None:
        raise NotFound(f"project {[project_id]} not found")
    _expire_columns(session, project_id)
    rows = session.execute(_STAGES, {"project_id": project_id, "chain": chain_of(project_id)}).unique().all()
    stages = [row[0] for row in rows]
    if rows:  # the audit chain's head comes with them: the project's first event costs no read
        knew_head(session, project_id, rows[0][1], rows[0][2])
    set_committed_value(project, "stages", stages)
    _link(project, stages)
    return project


_LOCK_ONE = (select(Project).where(Project.id == bindparam("project_id")).with_for_update(of=Project)
             .options(joinedload(Project.agent), joinedload(Project.enterprise))
             .execution_options(populate_existing=True))
_STAGES = (select(Stage, *head_columns()).where(Stage.project_id == bindparam("project_id")).order_by(Stage.order)
           .options(joinedload(Stage.tasks)))


def _expire_columns(session: Session, project_id: int) -> None:
    """The project's stages and tasks in this session read again by the next load, columns only.

    Unlike populate_existing, a task's item and department stay as loaded: the identity map holds
    them weakly, and a relation reset by populate_existing would be read again by a lazy load.
    (The session was flushed by the locking statement: nothing unwritten is lost.)
    """
    for obj in list(session.identity_map.values()):
        columns = _COLUMNS.get(type(obj))
        if columns and obj.__dict__.get("project_id") == project_id:
            session.expire(obj, columns)


_COLUMNS = {model: [c.key for c in model.__mapper__.column_attrs] for model in (Stage, Task)}


def _link(project: Project, stages) -> None:
    """Every task belongs to one of its project's stages: the relations set without a statement."""
    set_committed_value(project, "tasks", sorted((t for s in stages for t in s.tasks), key=lambda t: t.id))
    for stage in stages:
        set_committed_value(stage, "project", project)
        for task in stage.tasks:
            set_committed_value(task, "project", project)
            set_committed_value(task, "stage", stage)


def held_by_fetch(session: Session, project: Project, seen: "Seen | None" = None) -> None:
    """The statement that fetched a request's task or project locked the project and read it afresh with
    its people (``FOR UPDATE OF projects``, populate_existing: ``agency.people.access``, ``to_change``):
    ``lock_projects`` then reads only its stages and tasks, saving a round trip.

    The fetched row of the project is current even if the statement waited for the lock (PostgreSQL
    re-reads a locked row after the wait); a task read beside it may not be, and is read again with the
    stages, unless a transition trusts ``seen`` (``seen_by_fetch``).  Its people are as current as
    ``_LOCK_ONE``'s, which joins them the same way.
    """
    remembered(session, _FETCHED)[project.id] = project
    if seen is not None:
        remembered(session, _SEEN)[seen.task_id] = seen


@dataclass(frozen=True)
class Seen:
    """A task's row version (PostgreSQL's ``xmin``, new with every change of the row) and its project's
    audit head, as the statement that locked the project read them: perhaps before it waited for the lock."""

    task_id: int
    version: str
    head: tuple[int, str]


def seen_by_fetch(session: Session, task: Task) -> Seen | None:
    """What the request's fetch saw of ``task`` before its project's lock was held, for one transition to
    check instead of reading the stages after the lock (``agency.tasks.services``); taken once.  None once
    the stages were read under the lock (the session's objects are then current)."""
    seen = remembered(session, _SEEN).pop(task.id, None)
    return None if task.project_id in remembered(session, _LOCKED) else seen


def locked_project_ids(session: Session) -> set[int]:
    """The projects this transaction holds locked (their audit chains need no other lock)."""
    return set(remembered(session, _LOCKED)) | set(remembered(session, _FETCHED))


_LOCKED = "agency_locked_projects"
_FETCHED = "agency_projects_locked_by_fetch"
_SEEN = "agency_tasks_seen_by_fetch"
