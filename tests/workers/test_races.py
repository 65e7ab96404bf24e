"""Races on the real PostgreSQL (R5): whatever races it, a task closes once.

Each thread has its own app context, hence its own session and connection;
a barrier starts them together.  Every round is a fresh task at its deadline.
"""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from agency.audit.models import AuditEvent
from agency.audit.services import verify
from agency.extensions import db
from agency.projects.models import Project, Stage
from agency.supervision.models import Card, Escalation
from agency.tasks.models import Task
from agency.tasks.services import answer_task
from tests.tasks import MONDAY, build_hall, events_for, liaison_of, start
from tests.support import committed_or_conflict, run_together
from workers import deadlines
from workers.deadlines import run_sweep


pytestmark = pytest.mark.postgres

ROUNDS = 30
SWEEP_ROUNDS = 8




def _sweeper(now):
    def job(session, barrier):
        barrier.wait()
        counts = run_sweep(session, now)
        session.commit()
        return counts
    return job


def _answerer(task_id, liaison_id, now, head_start: int = 0):
    """Answer the task; ``head_start`` round trips to the database first let the sweep get ahead.

    The sweep runs a few queries before it takes the project's lock; spreading
    the answer's start over as many round trips makes either side win.
    """
    def job(session, barrier):
        from agency.audit.services import Actor
        task = session.get(Task, task_id)  # loaded before the race, as a request does
        barrier.wait()
        for _ in range(head_start):
            session.execute(text("SELECT 1"))
        return committed_or_conflict(
            session, lambda: answer_task(session, now, Actor(liaison_id, "liaison"), task, "consent"), "answered")
    return job


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_liaison_answering_at_the_deadline_races_the_sweep(pg_app):
    outcomes = []
    with pg_app.app_context():
        session = db.session
        hall = build_hall(session, MONDAY)
        for round_no in range(ROUNDS):
            project, (task,) = start(session, MONDAY, hall, project_type="REAL_ESTATE")
            task_id, project_id, deadline = task.id, project.id, task.deadline
            liaison_id = liaison_of(hall, task).id
            session.commit()
            answer, counts = run_together(pg_app, _answerer(task_id, liaison_id, deadline, round_no % 8),
                                           _sweeper(deadline))
            assert not isinstance(counts, BaseException), counts
            assert answer in ("answered", "conflict"), answer
            session.expire_all()
            task = session.get(Task, task_id)
            closing = events_for(session, "task.answered", task_id) + events_for(session, "task.deemed_consent", task_id)
            red = _count(session, Card, Card.task_id == task_id, Card.color == "red")
            if answer == "answered":
                assert (task.status, task.outcome_reason, counts["deemed_consent"], red) == ("answered", None, 0, 0)
            else:
                assert (task.status, task.outcome_reason, counts["deemed_consent"], red) == (
                    "deemed_consent", "timeout", 1, 1)
            assert closing == 1
            project = session.get(Project, project_id)
            assert project.status == "completed"
            assert _count(session, AuditEvent, AuditEvent.project_id == project_id,
                          AuditEvent.action == "project.completed") == 1
            outcomes.append(answer)
        assert verify(session) is None
        session.remove()
    print("answer race outcomes:", {o: outcomes.count(o) for o in set(outcomes)})
    assert len(outcomes) == ROUNDS


def test_two_sweeps_at_once_close_each_task_once(pg_app):
    now = datetime.fromisoformat("2026-12-07T17:31:00+08:00")
    with pg_app.app_context():
        session = db.session
        hall = build_hall(session, MONDAY)
        for _ in range(SWEEP_ROUNDS):
            due = [start(session, MONDAY, hall, project_type="REAL_ESTATE")[1][0] for _ in range(2)]
            forbidden = start(session, MONDAY, hall, project_type="COMPLETION", items=["ZJ-05"])[1][0]
            last_day = start(session, datetime.fromisoformat("2026-12-01T09:00:00+08:00"), hall,
                             project_type="REAL_ESTATE")[1][0]
            assert forbidden.deadline <= now and last_day.warn_at <= now < last_day.deadline
            ids = [t.id for t in due]
            forbidden_id, last_day_id = forbidden.id, last_day.id
            session.commit()
            first, second = run_together(pg_app, _sweeper(now), _sweeper(now))
            for counts in (first, second):
                assert not isinstance(counts, BaseException), repr(counts)
            assert first["deemed_consent"] + second["deemed_consent"] == 2
            assert first["escalated"] + second["escalated"] == 1
            assert first["warned"] + second["warned"] == 1
            session.expire_all()
            for task_id in ids:
                assert session.get(Task, task_id).status == "deemed_consent"
                assert events_for(session, "task.deemed_consent", task_id) == 1
                assert _count(session, Card, Card.task_id == task_id, Card.color == "red") == 1
            assert _count(session, Escalation, Escalation.task_id == forbidden_id) == 1
            assert events_for(session, "task.escalated", forbidden_id) == 1
            assert session.get(Task, forbidden_id).status == "pending"
            assert events_for(session, "task.warned", last_day_id) == 1
            assert _count(session, Card, Card.task_id == last_day_id) == 1
        assert verify(session) is None
        session.remove()


def test_a_stage_closes_when_its_last_task_is_answered_during_the_sweep(pg_app, monkeypatch):
    """The sweep reads its batch, then a liaison answers one task of it before the sweep takes the project.

    The sweep then deems the other task of the stage: the stage must close on
    the committed facts (the answer), and the next stage must be dispatched.
    """
    now = datetime.fromisoformat("2026-12-07T17:31:00+08:00")
    with pg_app.app_context():
        session = db.session
        hall = build_hall(session, MONDAY)
        project, tasks = start(session, MONDAY, hall, items=["FGW-01", "FGW-03"])
        other = max(tasks, key=lambda t: t.id)
        other_id, liaison_id, project_id = other.id, liaison_of(hall, other).id, project.id
        in_time = other.deadline - timedelta(seconds=1)  # answered in time; the request lands during the sweep
        session.commit()

        real = deadlines.lock_projects
        interfered = []

        def answer_first_then(session_, project_ids):
            if not interfered:  # the sweep has read both tasks as due, and not yet taken the project
                interfered.append(True)
                result = run_together(pg_app, _answerer(other_id, liaison_id, in_time))
                assert result == ["answered"], result
            return real(session_, project_ids)

        monkeypatch.setattr(deadlines, "lock_projects", answer_first_then)
        counts = run_sweep(session, now)
        session.commit()
        assert counts["deemed_consent"] == 1
        session.expire_all()
        assert session.get(Task, other_id).status == "answered"
        stages = session.scalars(select(Stage.status).where(Stage.project_id == project_id)
                                 .order_by(Stage.order)).all()
        assert stages == ["closed", "open", "waiting"]
        assert _count(session, Task, Task.project_id == project_id) == 2 + 7
        assert verify(session) is None
        session.remove()


def test_two_withdrawals_at_once_terminate_once(pg_app):
    with pg_app.app_context():
        session = db.session
        hall = build_hall(session, MONDAY)
        project, _ = start(session, MONDAY, hall)
        project_id, enterprise_id = project.id, hall["ent"].id
        session.commit()

        def withdraw(session_, barrier):
            from agency.people.models import User
            from agency.projects.services import withdraw_project
            project_ = session_.get(Project, project_id)  # loaded before the race, as a request does
            enterprise = session_.get(User, enterprise_id)
            barrier.wait()
            return committed_or_conflict(
                session_, lambda: withdraw_project(session_, MONDAY + timedelta(hours=1), enterprise, project_,
                                                   "不再投资"), "withdrawn")

        results = run_together(pg_app, withdraw, withdraw)
        assert sorted(results) == ["conflict", "withdrawn"], results
        session.expire_all()
        assert _count(session, AuditEvent, AuditEvent.project_id == project_id,
                      AuditEvent.action == "project.withdrawn") == 1
        assert _count(session, AuditEvent, AuditEvent.project_id == project_id,
                      AuditEvent.action == "task.cancelled") == 4
        assert verify(session) is None
        session.remove()
