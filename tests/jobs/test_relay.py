"""The outbox relay (``workers.relay``): committed rows reach RQ once each, woken by the commit.

A change writes its jobs' rows and sends nothing to Redis; the relay takes the rows not yet put on
RQ, marks them, commits and pushes.  On PostgreSQL a trigger notifies the relays with the commit;
in one process the commit sets ``relay_wake``.  The threads below wait on the relay's passes (a
condition it signals), never on a sleep; their poll is a minute, so only a wake can make them pass.
"""
import json
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from agency.extensions import db
from agency.jobs.models import OutboxJob
from agency.jobs.services import enqueue_job, relay_wake
from agency.notifications.services import notify
from tests import support
from workers import queues, relay

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
JOB = "workers.reports.generate_report"


def _write(session, count: int, start: int = 0) -> list[int]:
    jobs = [enqueue_job(session, NOW, "default", JOB, n) for n in range(start, start + count)]
    session.commit()
    return [job.id for job in jobs]


def _enqueued(session) -> dict[int, bool]:
    session.expire_all()
    marks = {job_id: at is not None for job_id, at in session.execute(select(OutboxJob.id, OutboxJob.enqueued_at))}
    session.rollback()
    return marks


def test_the_relay_puts_committed_rows_on_rq_in_order_and_marks_them(app):
    with app.app_context():
        session = db.session
        ids = _write(session, 5)
        assert queues.get_queue("default").count == 0  # the commit sent nothing
        assert relay.relay_all(session, NOW, batch=2) == 5  # three batches
        assert queues.get_queue("default").job_ids == [queues.rq_job_id(i) for i in ids]
        assert _enqueued(session) == dict.fromkeys(ids, True)
        assert relay.relay_all(session, NOW) == 0  # nothing is put on RQ twice
        assert queues.get_queue("default").count == 5


def test_a_failed_push_gives_the_rows_back_for_the_next_pass(app, monkeypatch):
    with app.app_context():
        session = db.session
        ids = _write(session, 2)

        def down(jobs):
            raise ConnectionError("Redis refused the connection")

        with monkeypatch.context() as patch:
            patch.setattr(relay, "push_jobs", down)
            with pytest.raises(ConnectionError):
                relay.relay_once(session, NOW)
        assert _enqueued(session) == dict.fromkeys(ids, False)
        assert queues.get_queue("default").count == 0
        assert relay.relay_once(session, NOW) == 2
        assert queues.get_queue("default").job_ids == [queues.rq_job_id(i) for i in ids]


def test_done_and_parked_rows_are_not_relayed(app):
    with app.app_context():
        session = db.session
        done, parked, waiting = _write(session, 3)
        session.get(OutboxJob, done).status = "done"
        session.get(OutboxJob, parked).status = "failed"
        session.commit()
        assert relay.relay_all(session, NOW) == 1
        assert queues.get_queue("default").job_ids == [queues.rq_job_id(waiting)]


def test_the_embedded_relay_thread_is_woken_by_the_commit(app):
    """One process (SQLite, the in-process Redis stand-in): the commit sets the wake, the thread relays."""
    relay_wake.clear()
    thread = relay.Relay(app, poll=60)
    thread.start()
    try:
        with app.app_context():
            begun = thread.started
            (job_id,) = _write(db.session, 1)
            assert thread.wait_for_pass(begun)
            assert queues.get_queue("default").job_ids == [queues.rq_job_id(job_id)]
    finally:
        thread.stop()
        thread.join(10)
    assert not thread.is_alive()


@pytest.mark.postgres
def test_the_trigger_notifies_with_the_commit_and_not_on_rollback(pg_app):
    """A change writing a job notifies ``agency_outbox`` when it commits: not before, not if rolled back."""
    with pg_app.app_context():
        session = db.session
        user = support.UserFactory(session, NOW)("enterprise", email="owner@enterprise.example.cn")
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as listening:
            listening.exec_driver_sql(f"LISTEN {relay.CHANNEL}")
            driver = listening.connection.driver_connection

            def notices() -> list[str]:
                return [n.channel for n in driver.notifies(timeout=0.2)]

            notify(session, NOW, user, "项目已受理", key="wake:1")
            session.flush()
            assert notices() == []  # written, not committed
            session.rollback()
            assert notices() == []

            notify(session, NOW, user, "项目已受理", key="wake:2")
            notify(session, NOW, user, "补正通知", key="wake:3")
            session.commit()
            assert notices() == [relay.CHANNEL]  # one transaction, one notice


@pytest.mark.postgres
@pytest.mark.redis
def test_a_relay_in_another_process_is_woken_by_notify(redis_app):
    """The scheduler process's relay listens: a commit elsewhere wakes it (its in-process wake is not set)."""
    thread = relay.Relay(redis_app, poll=60)
    thread.start()
    try:
        assert thread.wait_for_pass(0)  # its first pass is over: it listens
        with redis_app.app_context():
            begun = thread.started
            with db.engine.begin() as elsewhere:  # a Core connection: no session, so no in-process wake
                elsewhere.execute(OutboxJob.__table__.insert().values(
                    queue="notifications", func="workers.notifications.deliver_all", args=[[]], status="pending",
                    attempts=0, last_error="", created_at=NOW))
            assert thread.wait_for_pass(begun)
            (row,) = db.session.scalars(select(OutboxJob)).all()
            assert queues.get_queue("notifications").job_ids == [row.rq_job_id] and row.enqueued_at is not None
    finally:
        thread.stop()
        thread.join(70)


@pytest.mark.postgres
@pytest.mark.redis
def test_relays_racing_writers_put_every_row_on_rq_exactly_once(redis_app, monkeypatch):
    """Three relays in threads beside a writer committing jobs in small batches, many rounds: every
    row is pushed once (SKIP LOCKED keeps two relays off the same row), and RQ holds each once."""
    pushed: list[int] = []
    real_push = relay.push_jobs
    lock = threading.Lock()

    def recording(jobs):
        real_push(jobs)
        with lock:
            pushed.extend(job_id for job_id, _ in jobs)

    monkeypatch.setattr(relay, "push_jobs", recording)
    rounds, per_round = 40, 7
    written: list[int] = []
    done = threading.Event()
    errors: list[BaseException] = []

    def writer():
        try:
            with redis_app.app_context():
                for n in range(rounds):
                    written.extend(_write(db.session, per_round, start=n * per_round))
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            done.set()

    def relaying():
        try:
            with redis_app.app_context():
                while not done.is_set():
                    relay.relay_once(db.session, NOW, batch=5)
                relay.relay_all(db.session, NOW, batch=5)
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer), *(threading.Thread(target=relaying) for _ in range(3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(written) == rounds * per_round
    assert sorted(pushed) == sorted(written)  # each once
    with redis_app.app_context():
        assert _enqueued(db.session) == dict.fromkeys(written, True)
        job_ids = queues.get_queue("default").job_ids
        assert len(job_ids) == len(set(job_ids)) == len(written)


def test_the_relay_command_once_relays_and_says_how_many(app):
    with app.app_context():
        ids = _write(db.session, 3)
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["agency", "relay", "--once"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"relayed": 3}
    with app.app_context():
        assert queues.get_queue("default").job_ids == [queues.rq_job_id(i) for i in ids]
    assert json.loads(app.test_cli_runner().invoke(args=["agency", "relay", "--once"]).output) == {"relayed": 0}


def test_a_lost_listen_connection_is_closed_and_reported_so_the_relay_waits_in_process():
    class Refusing:
        def connect(self):
            raise ConnectionError("the server went away")

    listener = relay._Listener(Refusing())
    assert listener.wait(0.01) is False
    assert listener.connection is None  # the next wait listens again
