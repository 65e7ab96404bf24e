"""Refusal and suspension on the real PostgreSQL: a refused task is resubmitted once whatever races it;
the sweep's partial indexes leave suspended clocks out; the 3550 figures in SQL leave suspended days out."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from agency.audit.services import verify
from agency.extensions import db
from agency.people.models import User
from agency.projects.decisions import resubmit_task, resume_project, suspend_project
from agency.tasks.models import Task
from agency.tasks.services import answer_task
from tests.projects.test_suspension import assert_figures, shanghai
from tests.tasks import MONDAY, as_actor, build_hall, liaison_of, start
from tests.support import committed_or_conflict, run_together
from workers.deadlines import run_sweep


pytestmark = pytest.mark.postgres

ROUNDS = 50




def _resubmitter(task_id, agent_id, at):
    def job(session, barrier):
        task, agent = session.get(Task, task_id), session.get(User, agent_id)  # loaded before, as a request does
        barrier.wait()
        return committed_or_conflict(session, lambda: resubmit_task(session, at, agent, task, "已整改").id)
    return job


def test_two_resubmissions_at_once_make_one_task(pg_app):
    with pg_app.app_context():
        session = db.session
        hall = build_hall(session, MONDAY)
        agent_id = hall["agent"].id
        for round_no in range(ROUNDS):
            project, (task,) = start(session, MONDAY, hall, project_type="REAL_ESTATE", name=f"第{round_no}轮")
            answer_task(session, MONDAY + timedelta(hours=1), as_actor(liaison_of(hall, task)), task, "refuse", "权属不清")
            session.commit()
            at = MONDAY + timedelta(hours=2)
            results = run_together(pg_app, _resubmitter(task.id, agent_id, at), _resubmitter(task.id, agent_id, at))
            assert not any(isinstance(r, BaseException) for r in results), results
            assert sorted(results, key=str).count("conflict") == 1, results
            made = session.scalars(select(Task.id).where(Task.supersedes_id == task.id)).all()
            assert made == [r for r in results if r != "conflict"]
            assert session.scalar(select(func.count()).select_from(Task).where(Task.project_id == project.id)) == 2
        assert verify(session) is None
        session.remove()


def test_the_database_refuses_a_second_resubmission_of_one_task(pg_app):
    with pg_app.app_context():
        session = db.session
        hall = build_hall(session, MONDAY)
        project, (task,) = start(session, MONDAY, hall, project_type="REAL_ESTATE")
        answer_task(session, MONDAY + timedelta(hours=1), as_actor(liaison_of(hall, task)), task, "refuse", "权属不清")
        new = resubmit_task(session, MONDAY + timedelta(hours=2), hall["agent"], task, "已整改")
        session.commit()
        twin = Task(**{c: getattr(new, c) for c in ("project_id", "stage_id", "department_id", "item_id", "status",
                                                     "promised_days", "started_at", "deadline", "warn_at",
                                                     "created_at", "opinion", "supersedes_id")})
        session.add(twin)
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()
        session.remove()


def test_suspended_clocks_are_out_of_the_sweep_and_the_figures_leave_the_days_out(pg_app):
    with pg_app.app_context():
        session = db.session
        hall = build_hall(session, MONDAY)
        project, (task,) = start(session, MONDAY, hall, project_type="REAL_ESTATE", name="不动产")
        suspend_project(session, shanghai("2026-11-24 10:00"), hall["agent"], project, "企业申请暂停")
        session.commit()
        counts = run_sweep(session, shanghai("2026-11-30 18:00"))  # past the old deadline (Mon 30 Nov 17:30)
        assert (counts["deemed_consent"], counts["warned"]) == (0, 0)
        resume_project(session, shanghai("2026-12-01 10:00"), hall["agent"], project)
        session.commit()
        assert session.get(Task, task.id).deadline == shanghai("2026-12-07 17:30")  # 4 working days left
            # past its resumed deadline (Mon 7 Dec 17:30): the first touch after it deems it, here on Wed 9 Dec
        run_sweep(session, shanghai("2026-12-09 10:00"))
        session.commit()
        session.expire_all()
        assert_figures(session, hall, session.get(type(project), project.id))
        session.remove()
