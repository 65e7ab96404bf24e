"""A stage is dispatched exactly once, whatever races it (R3, #11).

Dispatches of the same project at the same instant (a double click, two tabs, a retry, two
processes) on the SQLite file database and on PostgreSQL: one wins, the others get 409, and
the rows show one stage's worth of tasks, one ``stage.dispatched`` event and one delivery job
per task.  Real concurrency: each round releases together, by one barrier, two threads (each
with its own app context, hence session and connection) and two forked processes (each with
its own application and engine).  A fresh project per round (REAL_ESTATE: the cheapest to make
ready) on one hall built per test.
"""
import multiprocessing
import os
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agency.audit.models import AuditEvent
from agency.audit.services import Actor, verify
from agency.errors import TransitionNotAllowed
from agency.extensions import db
from agency.jobs.models import OutboxJob
from agency.projects.models import Project, Stage
from agency.tasks.models import Task
from tests import support
from tests.tasks import MONDAY, build_hall, entrust
from tests.tasks import app, hall, hall_template, shared_app  # noqa: F401  (fixtures)

ROUNDS = 50
NOW = MONDAY + timedelta(hours=1)


def dispatch_once(session, project_id: int, agent_id: int, wait) -> str:
    """One racer: the project loaded as a request has it, then released with the other racer."""
    from agency.projects.services import dispatch_stage
    project = session.get(Project, project_id)
    wait()
    try:
        dispatch_stage(session, NOW, Actor(agent_id, "agent"), project)
        session.commit()
        return "dispatched"
    except TransitionNotAllowed as error:
        session.rollback()
        assert error.status == 409 and ("already dispatched" in error.message or "still running" in error.message)
        return "conflict"


def assert_dispatched_once(session, project_id: int, outcomes) -> None:
    assert sorted(outcomes) == ["conflict"] * (len(outcomes) - 1) + ["dispatched"], outcomes
    session.expire_all()
    stage = session.scalar(select(Stage).where(Stage.project_id == project_id, Stage.order == 1))
    template = next(t for t in stage.project.project_type.stages if t.order == 1)
    items = session.scalars(select(Task.item_id).where(Task.stage_id == stage.id)).all()
    assert stage.status == "open"
    assert len(items) == len(set(items)) == len(template.item_codes)
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.project_id == project_id, AuditEvent.action == "stage.dispatched")) == 1
    task_ids = set(session.scalars(select(Task.id).where(Task.stage_id == stage.id)))
    delivered = [args[0] for args in session.scalars(select(OutboxJob.args).where(
        OutboxJob.func == "workers.tasks.deliver_task")) if args and args[0] in task_ids]
    assert sorted(delivered) == sorted(task_ids)


def _racer(url: str, folder: str, agent_id: int, jobs, results, barrier) -> None:
    """A forked process with an application of its own: dispatch each project id it is sent."""
    code = 1
    try:
        application = support.make_app(url, Path(folder))
        with application.app_context():
            while (project_id := jobs.get()) is not None:
                results.put(_racing(db.session, project_id, agent_id, barrier))
                db.session.remove()
        code = 0
    finally:
        os._exit(code)  # never run the parent's cleanup (its connections) in the child


def _racing(session, project_id, agent_id, barrier) -> str:
    try:
        return dispatch_once(session, project_id, agent_id, lambda: barrier.wait(timeout=30))
    except BaseException as error:  # noqa: BLE001 - reported to the test
        session.rollback()
        return repr(error)


def race(application, url: str, folder, session, hall) -> None:
    """ROUNDS rounds of two threads and two processes dispatching one fresh project at once."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(4), context.Queue()
    queues = [context.Queue(), context.Queue()]
    agent_id = hall["agent"].id
    session.commit()
    db.engine.dispose()  # no connection open to inherit (the session reconnects when it next reads)
    racers = [context.Process(target=_racer, args=(url, str(folder), agent_id, q, results, barrier))
              for q in queues]
    for racer in racers:
        racer.start()
    try:
        for _ in range(ROUNDS):
            project_id = entrust(session, MONDAY, hall, project_type="REAL_ESTATE", name="过户").id  # ready
            outcomes: list = [None, None]

            def run(i):
                with application.app_context():
                    outcomes[i] = _racing(db.session, project_id, agent_id, barrier)
                    db.session.remove()

            threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
            for q in queues:
                q.put(project_id)
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
                assert not thread.is_alive(), "a racing dispatch hangs"
            outcomes += [results.get(timeout=60) for _ in racers]
            assert_dispatched_once(session, project_id, outcomes)
    finally:
        for q in queues:
            q.put(None)
        for racer in racers:
            racer.join(timeout=30)
    assert [r.exitcode for r in racers] == [0, 0]
    assert verify(session) is None


def test_a_stage_is_dispatched_once_on_sqlite(app, session, hall, tmp_path):  # noqa: F811
    race(app, app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, session, hall)


@pytest.mark.postgres
def test_a_stage_is_dispatched_once_on_postgresql(pg_app, pg_url, tmp_path):
    with pg_app.app_context():
        hall_ = build_hall(db.session, MONDAY)
        db.session.commit()
        race(pg_app, pg_url, tmp_path, db.session, hall_)
        db.session.remove()
