"""A job marked replayable commits without waiting for the disk; every other job's commit waits (PostgreSQL).

``workers.runner.replayable``: only jobs whose effects a rerun redoes (a notice's delivery) may lose
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
from workers.runner import replayable, run_job

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
    module.plain = note("plain")
    module.notice = replayable(note("notice"))
    monkeypatch.setitem(sys.modules, module.__name__, module)
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


def test_the_delivery_jobs_are_the_replayable_ones():
    from workers import meetings, notifications, reports, tasks
    assert getattr(tasks.deliver_task, "replayable", False) and getattr(notifications.deliver_all, "replayable", False)
    assert not any(getattr(f, "replayable", False) for f in (meetings.deliver_invitation, reports.generate_report))
