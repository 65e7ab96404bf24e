"""The project's lock: every change to a project's tasks and stages is serialised on it.

A module of its own, below both the project lifecycle and the task transitions,
so that the task services take the lock without importing the project services.
"""
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

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
    stages and every task (with item and department), in a fixed number of
    statements for any number of projects (populate_existing): objects this
    session loaded before waiting (a request's project, a sweep's batch) would
    otherwise still show what another transaction has since changed.  A
    project locked earlier in the same transaction is not read again: no one
    else can have changed it since, and the session keeps it until the end.
    """
    locked = remembered(session, _LOCKED)
    wanted = sorted(set(project_ids))
    ids = [i for i in wanted if i not in locked]
    if ids:
        # One project (a request, e.g. each answer): one statement, the project row locked and joined
        # to its people, stages and tasks (one row per task).  A batch (the sweep): separate IN queries,
        # so the few distinct people and catalog rows are read once, not once per row.
        load = selectinload if len(ids) > 1 else joinedload
        projects = session.scalars(
            select(Project).where(Project.id.in_(ids)).order_by(Project.id).with_for_update(of=Project)
            .options(load(Project.agent), load(Project.enterprise),
                     load(Project.stages).options(load(Stage.tasks).options(load(Task.item), load(Task.department))))
            .execution_options(populate_existing=True)).unique().all()
        if len(projects) != len(ids):
            raise NotFound(f"project {sorted(set(ids) - {p.id for p in projects})} not found")
        for project in projects:  # every task belongs to one of its project's stages
            set_committed_value(project, "tasks", sorted((t for s in project.stages for t in s.tasks),
                                                         key=lambda t: t.id))
            for stage in project.stages:
                for task in stage.tasks:
                    set_committed_value(task, "project", project)
                    set_committed_value(task, "stage", stage)
            locked[project.id] = project  # a strong reference: the identity map's are weak
    return [locked[i] for i in wanted]


def locked_project_ids(session: Session) -> set[int]:
    """The projects this transaction holds locked (their audit chains need no other lock)."""
    return set(remembered(session, _LOCKED))


_LOCKED = "agency_locked_projects"
