"""Two liaisons answer the last two open tasks of a stage at the same instant (PostgreSQL, real threads).

Whichever commits second must see the first one's answer once it holds the project's lock, and close
the stage (and dispatch the next one).  A lock statement that also reads the tasks reads them as of
its own snapshot, taken before it waited for the lock: the second answer would judge the stage on
the first task's old status and leave the stage open forever.

The API's answer takes the lock in the statement that fetches the task (``get_task(..., to_change=True)``):
there the wait happens inside that fetch, and the task row it returns may predate it.
"""
import pytest
from sqlalchemy import func, select

from agency.audit.services import Actor, verify
from agency.extensions import db
from agency.people.access import Caller, get_task
from agency.projects.models import Stage
from agency.tasks.models import Task
from agency.tasks.services import answer_task
from tests.support import run_together
from tests.tasks import MONDAY, build_hall, liaison_of, start

pytestmark = pytest.mark.postgres

ROUNDS = 12


def _answer(task_id, liaison, now, fetch):
    def job(session, barrier):
        if fetch == "before":
            task = session.get(Task, task_id)  # loaded before the race, as a page's request may
            barrier.wait()
        else:
            barrier.wait()
            task = get_task(session, liaison, task_id, to_change=True)  # as the API's answer: locks here
        answer_task(session, now, Actor(liaison.id, "liaison"), task, "consent")
        session.commit()
        return "answered"
    return job


@pytest.mark.parametrize("fetch", ["before", "to_change"])
def test_the_stage_closes_when_its_last_two_tasks_are_answered_at_once(pg_app, clock, fetch):
    with pg_app.app_context():
        session = db.session
        hall = build_hall(session, MONDAY)
        clock.set(MONDAY)
        for _ in range(ROUNDS):
            project, tasks = start(session, MONDAY, hall, items=["FGW-01", "FGW-03"])
            first, second = sorted(tasks, key=lambda t: t.id)
            liaisons = {t.id: Caller("liaison", liaison_of(hall, t).id, t.department_id) for t in (first, second)}
            jobs = [_answer(t.id, liaisons[t.id], MONDAY, fetch) for t in (first, second)]
            project_id = project.id
            session.commit()
            assert run_together(pg_app, *jobs) == ["answered", "answered"]
            session.expire_all()
            stages = session.scalars(select(Stage.status).where(Stage.project_id == project_id)
                                     .order_by(Stage.order)).all()
            assert stages[:2] == ["closed", "open"], stages
            assert session.scalar(select(func.count()).select_from(Task)
                                  .where(Task.project_id == project_id)) > 2  # the next stage's tasks
        assert verify(session) is None
        session.remove()
