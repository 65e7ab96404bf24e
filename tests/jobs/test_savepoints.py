"""An outbox job reaches RQ after the transaction commits, not when a savepoint inside it is released.

SQLAlchemy tells ``after_commit`` and ``after_rollback`` listeners about savepoints too (a rating,
a meeting and a shipment are written in one, ``begin_nested``).  The relay takes only committed rows;
what these guard is the wake of the process's relay: set by the commit, not by a savepoint's release,
kept for the jobs written before a savepoint that is rolled back, not set by a rolled back transaction.
"""
from datetime import datetime, timezone

import pytest

from agency.extensions import db
from agency.jobs.services import enqueue_job, relay_wake
from tests.support import relay
from workers import relay as relay_module

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def pushed(app, monkeypatch):
    seen: list[list] = []
    monkeypatch.setattr(relay_module, "push_jobs", lambda jobs: seen.append(sorted(j for j, _ in jobs)))
    relay_wake.clear()
    with app.app_context():
        yield seen
        db.session.remove()
    relay_wake.clear()


def _job(n: int):
    return enqueue_job(db.session, NOW, "default", "workers.reports.generate_report", n)


def test_a_released_savepoint_wakes_nothing_until_the_commit(pushed):
    session = db.session
    before = _job(1)
    with session.begin_nested():
        inside = _job(2)
    assert not relay_wake.is_set()  # the savepoint released: nothing committed yet
    session.commit()
    assert relay_wake.is_set()
    assert relay() == 2
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
    assert relay_wake.is_set()
    assert relay() == 1
    assert pushed == [[before.id]]


def test_a_rolled_back_transaction_wakes_and_pushes_nothing(pushed):
    session = db.session
    _job(1)
    with session.begin_nested():
        _job(2)
    session.rollback()
    session.commit()
    assert not relay_wake.is_set()
    assert relay() == 0
    assert pushed == []
