"""An outbox job reaches RQ after the transaction commits, not when a savepoint inside it is released.

SQLAlchemy tells ``after_commit`` and ``after_rollback`` listeners about savepoints too (a rating,
a meeting and a shipment are written in one, ``begin_nested``).  A job pushed at the savepoint's
release would reach a worker before its row is committed, find no row and be dropped until
reconcile; a job written before a savepoint that is rolled back must still be pushed at the commit.
"""
from datetime import datetime, timezone

import pytest

from agency.extensions import db
from agency.jobs.services import enqueue_job
from workers import queues

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def pushed(app, monkeypatch):
    seen: list[list] = []
    monkeypatch.setattr(queues, "push_many", lambda jobs: seen.append(sorted(j for j, _ in jobs)))
    with app.app_context():
        yield seen
        db.session.remove()


def _job(n: int):
    return enqueue_job(db.session, NOW, "default", "workers.reports.generate_report", n)


def test_a_released_savepoint_pushes_nothing_until_the_commit(pushed):
    session = db.session
    before = _job(1)
    with session.begin_nested():
        inside = _job(2)
    assert pushed == []  # the savepoint released: nothing committed yet
    session.commit()
    assert pushed == [sorted([before.id, inside.id])]


def test_a_rolled_back_savepoint_keeps_the_jobs_written_before_it(pushed):
    session = db.session
    before = _job(1)
    session.flush()
    savepoint = session.begin_nested()
    _job(2)
    session.flush()
    savepoint.rollback()
    session.commit()
    assert len(pushed) == 1 and before.id in pushed[0]


def test_a_rolled_back_transaction_pushes_nothing(pushed):
    session = db.session
    _job(1)
    with session.begin_nested():
        _job(2)
    session.rollback()
    session.commit()
    assert pushed == []
