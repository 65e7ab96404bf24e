"""A replayable job commits without waiting for the disk; every other job's commit waits (PostgreSQL).

``workers.runner.REPLAYABLE``: only jobs whose effects a rerun redoes (a notice's delivery) may lose
their commit in a database crash; their row is then not done either, and reconcile runs them again.
"""
import sys
import types
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, text

from agency.extensions import db
from agency.jobs.models import OutboxJob
from agency.jobs.services import enqueue_job
from workers import runner
from workers.runner import run_job

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def jobs(monkeypatch):
    """Two job functions in workers/ (where the runner looks), each noting the commit setting it ran under."""
    seen: dict[str, str] = {}

    def note(name):
        def job(session, now):
            seen[name] = session.execute(text("SHOW synchronous_commit")).scalar_one()
        return job

    module = types.ModuleType("workers.test_replayable_jobs")
    module.plain, module.notice = note("plain"), note("notice")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(runner, "REPLAYABLE", runner.REPLAYABLE | {f"{module.__name__}.notice"})
    return seen


def test_only_a_replayable_job_commits_without_waiting_for_the_disk(pg_app, jobs):
    with pg_app.app_context():
        session = db.session
        ids = [enqueue_job(session, NOW, "default", f"workers.test_replayable_jobs.{name}") for name in ("plain", "notice")]
        session.commit()
        for job in ids:
            assert run_job(job.id) == "done"
        assert jobs == {"plain": "on", "notice": "off"}
        session.expire_all()
        assert session.scalars(select(OutboxJob.status).where(OutboxJob.id.in_([j.id for j in ids]))).all() == ["done"] * 2
        assert session.execute(text("SHOW synchronous_commit")).scalar_one() == "on"  # for that transaction only
        session.remove()


def test_the_notice_deliveries_are_the_replayable_jobs():
    """Not an invitation's delivery (it makes a department duly invited, R6) nor a report."""
    assert runner.REPLAYABLE == {"workers.tasks.deliver_task", "workers.notifications.deliver_all"}
    for name in runner.REPLAYABLE:
        runner.resolve(name)  # each names a job function that exists
