"""The outbox (R13): a job is written with its change, reaches RQ after commit,
runs once in effect, and reconcile puts back what never reached RQ.

The tests marked redis use the real PostgreSQL and Redis with a real RQ
worker; the others the embedded stand-in (fakeredis) that tests and
`make run` use.  Workers killed for real: tests/workers/test_worker_kills.py.
"""
import json
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone

import pytest
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from agency.extensions import db
from agency.jobs.models import OutboxJob
from agency.notifications.models import Delivery
from agency.people.models import User
from agency.notifications.services import notify
from tests import support
from workers import queues
from workers.worker import make_worker

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
EMAIL = "owner@enterprise.example.cn"




def _user(session):
    return support.UserFactory(session, NOW)("enterprise", email=EMAIL)


def _outbox_rows(session) -> list[OutboxJob]:
    session.expire_all()
    return list(session.scalars(select(OutboxJob).order_by(OutboxJob.id)))


def _work(queue: str = "notifications") -> None:
    """A real RQ SimpleWorker in burst mode: it runs every job waiting on the queue, then exits."""
    make_worker([queue]).work(burst=True, logging_level="WARNING")
    assert queues.get_queue(queue).count == 0


def _rq_results(row: OutboxJob) -> list:
    """What each RQ execution of the row's job returned, oldest first."""
    job = Job.fetch(row.rq_job_id, connection=queues.connection(), serializer=JSONSerializer)
    return [result.return_value for result in reversed(job.results())]


def _reconcile(app, now: datetime) -> dict:
    result = app.test_cli_runner().invoke(args=["agency", "reconcile", "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.postgres
@pytest.mark.redis
def test_committed_job_runs_exactly_once_even_when_delivered_twice(redis_app):
    session = db.session
    mail = redis_app.extensions["mail_outbox"]
    user = _user(session)
    notify(session, NOW, user, "项目已受理", "您的项目已受理", key="accepted:1")
    session.commit()

    (row,) = _outbox_rows(session)
    assert (row.queue, row.func, row.status, row.enqueued_at) == (
        "notifications", "workers.notifications.deliver_all", "pending", None)
    queue = queues.get_queue("notifications")
    assert queue.count == 0  # the change sends nothing to Redis: the relay does
    assert support.relay() == 1
    assert queue.job_ids == [row.rq_job_id]  # on the real Redis once relayed
    assert _outbox_rows(session)[0].enqueued_at is not None
    assert support.relay() == 0  # relayed once

    _work()
    assert _rq_results(row) == ["done"]
    assert [(m["To"], m["Subject"]) for m in mail] == [(EMAIL, "项目已受理")]
    (row,) = _outbox_rows(session)
    assert (row.status, row.attempts) == ("done", 1)
    assert row.finished_at is not None

    # RQ delivers at least once: the same job arrives a second time.
    queues.push(row.id, row.queue)
    assert queue.job_ids == [row.rq_job_id]
    _work()
    assert _rq_results(row) == ["done", "already done"]
    assert len(mail) == 1
    (row,) = _outbox_rows(session)
    assert (row.status, row.attempts) == ("done", 1)
    email = session.scalar(select(Delivery).where(Delivery.channel == "email"))
    assert (email.status, email.attempts, email.recipient) == ("sent", 1, EMAIL)


@pytest.mark.postgres
@pytest.mark.redis
def test_rolled_back_change_leaves_no_outbox_row_and_no_rq_job(redis_app):
    session = db.session
    user = _user(session)
    notify(session, NOW, user, "不会发出", key="rolled-back")
    assert session.scalar(select(func.count()).select_from(OutboxJob)) == 1  # written, not committed
    session.rollback()

    assert _outbox_rows(session) == []
    assert support.relay() == 0
    assert queues.get_queue("notifications").count == 0
    # a later, unrelated commit does not push the forgotten job either
    support.UserFactory(session, NOW)("agent")
    assert support.relay() == 0
    assert queues.get_queue("notifications").count == 0
    assert list(queues.connection().scan_iter("rq:job:*")) == []
    _work()
    assert redis_app.extensions["mail_outbox"] == []


@pytest.mark.postgres
@pytest.mark.redis
def test_lost_enqueue_is_recovered_by_reconcile(redis_app, monkeypatch):
    """The relay marked the row and stopped before its push reached Redis (killed, or Redis lost it):
    no relay takes the row again, reconcile puts it back."""
    from workers import relay
    session = db.session
    mail = redis_app.extensions["mail_outbox"]
    user = _user(session)
    notify(session, NOW, user, "补正通知", key="lost:1")
    session.commit()
    with monkeypatch.context() as patch:
        patch.setattr(relay, "push_jobs", lambda jobs: None)  # Redis "lost" the enqueue
        assert support.relay() == 1
    (row,) = _outbox_rows(session)
    queue = queues.get_queue("notifications")
    assert queue.count == 0 and row.enqueued_at is not None
    assert support.relay() == 0  # marked: the relay leaves it to reconcile

    assert _reconcile(redis_app, NOW + timedelta(seconds=10)) == {"requeued": 0}  # still within the grace period
    assert _reconcile(redis_app, NOW + timedelta(minutes=5)) == {"requeued": 1}
    assert queue.job_ids == [row.rq_job_id]
    assert _reconcile(redis_app, NOW + timedelta(minutes=5)) == {"requeued": 0}  # already waiting on RQ

    _work()
    assert _rq_results(row) == ["done"]
    assert [m["To"] for m in mail] == [EMAIL]
    assert _outbox_rows(session)[0].status == "done"
    assert _reconcile(redis_app, NOW + timedelta(minutes=10)) == {"requeued": 0}  # done rows stay done


@pytest.mark.postgres
@pytest.mark.redis
def test_job_lost_from_redis_is_recovered_by_reconcile(redis_app):
    session = db.session
    mail = redis_app.extensions["mail_outbox"]
    notify(session, NOW, _user(session), "会议通知", key="flushed:1")
    session.commit()
    assert support.relay() == 1
    (row,) = _outbox_rows(session)
    queues.connection().flushdb()  # Redis lost everything before a worker ran
    _work()
    assert mail == []

    assert _reconcile(redis_app, NOW + timedelta(minutes=1)) == {"requeued": 1}
    _work()
    assert _rq_results(row) == ["done"]
    assert len(mail) == 1
    assert _outbox_rows(session)[0].status == "done"


def test_embedded_run_jobs_runs_pending_rows(app, session, make_user, run_jobs, mail):
    user = make_user("enterprise", email=EMAIL)
    notify(session, NOW, user, "项目已受理", key="embedded:1")
    session.commit()
    (row,) = _outbox_rows(session)
    assert queues.get_queue("notifications").count == 0  # the relay puts it there

    assert run_jobs() == 1  # relayed to the in-process stand-in, run by its worker
    assert _rq_results(row) == ["done"]
    assert [m["To"] for m in mail] == [EMAIL]
    assert _outbox_rows(session)[0].status == "done"
    assert run_jobs() == 0
    assert len(mail) == 1


WRITER = """
import sys
from datetime import datetime
from pathlib import Path
sys.path.insert(0, {root!r})
from tests import support
from agency.extensions import db
from agency.people.models import User
from agency.notifications.services import notify
from workers.queues import get_queue

app = support.make_app({url!r}, Path({tmp!r}))
with app.app_context():
    notify(db.session, datetime.fromisoformat({now!r}), db.session.get(User, {user_id}), "来自另一进程", key="other-process")
    db.session.commit()
    assert get_queue("notifications").count == 0  # the change pushes nothing: a relay does
"""


def test_worker_burst_runs_rows_written_by_another_process(app, session, make_user, mail, tmp_path):
    user = make_user("enterprise", email=EMAIL)
    script = textwrap.dedent(WRITER).format(root=str(support.ROOT), url=app.config["SQLALCHEMY_DATABASE_URI"],
                                            tmp=str(tmp_path), now=NOW.isoformat(), user_id=user.id)
    subprocess.run([sys.executable, "-c", script], check=True, cwd=support.ROOT, timeout=60)

    (row,) = _outbox_rows(session)
    assert row.status == "pending"
    assert queues.get_queue("notifications").count == 0  # nothing on this process's stand-in

    result = app.test_cli_runner().invoke(args=["agency", "worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"ran": 1}
    assert [(m["To"], m["Subject"]) for m in mail] == [(EMAIL, "来自另一进程")]
    assert _outbox_rows(session)[0].status == "done"


def test_a_job_failing_every_time_is_parked_after_max_attempts(app, monkeypatch):
    """A job that never succeeds stops being retried by reconcile once MAX_ATTEMPTS is spent."""
    from agency import clock
    from agency.extensions import db
    from agency.jobs.models import OutboxJob
    from agency.jobs.services import MAX_ATTEMPTS, enqueue_job
    from workers import notifications
    from workers.reconcile import reconcile
    from workers.runner import run_job

    def broken(session, now, *args):
        raise RuntimeError("gateway down")

    monkeypatch.setattr(notifications, "deliver_all", broken)
    with app.app_context():
        job = enqueue_job(db.session, clock.now(), "notifications", "workers.notifications.deliver_all", [])
        db.session.commit()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                run_job(job.id)
            except RuntimeError:
                pass
            row = db.session.get(OutboxJob, job.id)
            db.session.refresh(row)
            assert row.attempts == attempt
            assert row.status == ("failed" if attempt == MAX_ATTEMPTS else "pending")
        assert "gateway down" in row.last_error
        later = clock.now() + timedelta(hours=1)
        assert reconcile(db.session, later) == 0  # parked: no longer put back on the queue


def _dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.mark.postgres
@pytest.mark.redis
def test_reconcile_goes_by_where_rq_holds_a_job_not_by_its_status(redis_app):
    """Each row's RQ job is left in one state a killed (or live) worker leaves; reconcile pushes
    again exactly those RQ will never run, whatever their status says."""
    session = db.session
    mail = redis_app.extensions["mail_outbox"]
    user = _user(session)
    states = ["waiting", "popped", "started_live", "started_dead_pid", "started_unregistered",
              "started_expired", "scheduled", "failed", "intermediate"]
    for state in states:
        notify(session, NOW, user, state, key=state)
    session.commit()
    assert support.relay() == len(states)
    rows = dict(zip(states, _outbox_rows(session)))
    conn, queue = queues.connection(), queues.get_queue("notifications")
    live, dead, gone = (make_worker(["notifications"]) for _ in range(3))
    for worker in (live, dead, gone):
        worker.register_birth()  # live: this process's pid, on this host
    conn.hset(dead.key, "pid", _dead_pid())

    def pop(state) -> Job:  # what a worker's BLPOP does: the id leaves the queue list
        assert conn.lpop(queue.key).decode() == rows[state].rq_job_id
        return Job.fetch(rows[state].rq_job_id, connection=conn, serializer=JSONSerializer)

    def start(state, worker) -> str:
        job = pop(state)
        execution = worker.prepare_execution(job)
        worker.prepare_job_execution(job)
        assert job.get_status() == "started"
        return execution.composite_key

    conn.rpush(queue.key, conn.lpop(queue.key))  # "waiting" goes to the back: it stays on the list
    assert pop("popped").get_status() == "queued"  # the probe's lost job: queued, yet in no list or registry
    start("started_live", live)
    dead_entry = start("started_dead_pid", dead)
    start("started_unregistered", gone)
    conn.delete(gone.key)  # a worker on another host, silent past its registration's TTL
    expired = start("started_expired", live)
    conn.zadd(queue.started_job_registry.key, {expired: 1})  # its timeout passed long ago
    queue.schedule_job(pop("scheduled"), datetime.now(timezone.utc) + timedelta(minutes=10))
    queue.failed_job_registry.add(pop("failed"), exc_string="RQ gave up")
    conn.rpush(queue.intermediate_queue_key, pop("intermediate").id)  # a single-queue worker's LMOVE
    assert queue.job_ids == [rows["waiting"].rq_job_id]

    orphans = ["popped", "started_dead_pid", "started_unregistered", "started_expired", "failed", "intermediate"]
    assert _reconcile(redis_app, NOW + timedelta(minutes=1)) == {"requeued": len(orphans)}
    assert queue.job_ids == [rows[s].rq_job_id for s in ["waiting", *orphans]]
    started = {e.decode() for e in conn.zrange(queue.started_job_registry.key, 0, -1)}
    assert dead_entry not in started and expired not in started
    assert [job_id for job_id, _ in queue.started_job_registry.get_job_and_execution_ids(cleanup=False)] == [
        rows["started_live"].rq_job_id]
    assert queue.failed_job_registry.get_job_ids(cleanup=False) == []
    assert conn.llen(queue.intermediate_queue_key) == 0
    assert _reconcile(redis_app, NOW + timedelta(minutes=1)) == {"requeued": 0}  # all held now

    _work()
    done = {s for s, row in zip(states, _outbox_rows(session)) if row.status == "done"}
    assert done == {"waiting", *orphans}
    assert all(row.attempts == 1 for row in _outbox_rows(session) if row.status == "done")
    assert sorted(m["Subject"] for m in mail) == sorted(["waiting", *orphans])


@pytest.mark.postgres
def test_a_second_delivery_racing_a_running_e_mail_job_waits_and_is_a_no_op(pg_app, monkeypatch):
    """The e-mail job holds its row's lock (taken by the claim's conditional UPDATE) until its one
    commit: a second delivery of the same job (reconcile pushed it again) arriving while the first is
    sending waits for it, then finds it done; the row is finished once and every e-mail is sent once."""
    import threading

    from agency.notifications import services as notifications
    from agency.notifications.services import notify_many
    from workers import runner

    with pg_app.app_context():
        factory = support.UserFactory(db.session, NOW)
        users = [factory("enterprise", email=f"owner{n}@enterprise.example.cn") for n in (1, 2)]
        notify_many(db.session, NOW, users, "项目已受理", key="twice")
        db.session.commit()
        (row,) = _outbox_rows(db.session)
        job_id, emails = row.id, [u.email for u in users]
        url = db.engine.url
        db.session.remove()

    first_claimed, sent = threading.Event(), []
    claim = runner.claim_job

    def second_is_waiting() -> bool:
        """The second run blocks on the job row's lock (seen by PostgreSQL), polled until it is."""
        return support.waits_for_a_lock(url, "UPDATE outbox_jobs%")

    def claim_and_tell(session, now, job_id, *replayable):
        job = claim(session, now, job_id, *replayable)
        if threading.current_thread().name == "first":
            first_claimed.set()
        return job

    def send(to, *args, **kwargs):
        if to == emails[1] and threading.current_thread().name == "first":
            assert second_is_waiting()  # the second run waits for the whole job, mid-way included
        sent.append(to)

    monkeypatch.setattr(runner, "claim_job", claim_and_tell)
    monkeypatch.setattr(notifications, "send_email", send)
    results = {}

    def run(name):
        with pg_app.app_context():
            try:
                results[name] = runner.run_job(job_id)
            finally:
                db.session.remove()

    first = threading.Thread(target=run, args=("first",), name="first")
    first.start()
    assert first_claimed.wait(20)
    second = threading.Thread(target=run, args=("second",), name="second")
    second.start()
    for thread in (first, second):
        thread.join(30)
        assert not thread.is_alive()
    assert results == {"first": "done", "second": "already done"}
    assert sorted(sent) == emails
    with pg_app.app_context():
        (row,) = _outbox_rows(db.session)
        assert (row.status, row.attempts) == ("done", 1)
        deliveries = db.session.scalars(select(Delivery).where(Delivery.channel == "email")).all()
        assert [(d.status, d.attempts) for d in deliveries] == [("sent", 1), ("sent", 1)]
        db.session.remove()


@pytest.mark.postgres
@pytest.mark.redis
def test_an_e_mail_job_failing_half_way_keeps_what_was_sent_without_its_done_mark(redis_app, monkeypatch):
    """One of a job's two e-mails fails: the one sent is committed as sent at once, and the job's claim
    (its done mark) is given back in that commit: the row is pending with the failure counted once.
    RQ's retry sends only the other, and the row is done after its second attempt."""
    from agency.notifications import services as notifications
    from agency.notifications.services import notify_many
    from workers.scheduler import _promote_retries

    session = db.session
    factory = support.UserFactory(session, NOW)
    first, second = (factory("enterprise", email=f"owner{n}@enterprise.example.cn").email for n in (1, 2))
    notify_many(session, NOW, session.scalars(select(User).where(User.email.in_([first, second]))).all(),
                "项目已受理", key="half-way")
    session.commit()
    assert support.relay() == 1
    sent, down = [], {second}

    def send(to, *args, **kwargs):
        if to in down:
            raise ConnectionError("smtp down")
        sent.append(to)

    monkeypatch.setattr(notifications, "send_email", send)
    _work()
    (row,) = _outbox_rows(session)
    assert (row.status, row.attempts, row.finished_at) == ("pending", 1, None)
    assert "smtp down" in row.last_error
    emails = {d.recipient: d for d in session.scalars(select(Delivery).where(Delivery.channel == "email"))}
    assert (emails[first].status, emails[first].attempts, emails[first].last_error) == ("sent", 1, "")
    assert (emails[second].status, emails[second].attempts, emails[second].sent_at) == ("pending", 1, None)
    assert "smtp down" in emails[second].last_error
    assert sent == [first]
    queue = queues.get_queue("notifications")
    assert queue.scheduled_job_registry.get_job_ids() == [row.rq_job_id]  # RQ's retry

    down.clear()
    queues.connection().zadd(queue.scheduled_job_registry.key, {row.rq_job_id: 1})  # the retry is due
    _promote_retries(redis_app, {})
    _work()
    assert sent == [first, second]
    (row,) = _outbox_rows(session)
    assert (row.status, row.attempts) == ("done", 2) and row.finished_at is not None
    emails = {d.recipient: d for d in session.scalars(select(Delivery).where(Delivery.channel == "email"))}
    assert [(emails[to].status, emails[to].attempts) for to in (first, second)] == [("sent", 1), ("sent", 2)]


def test_a_job_that_commits_its_progress_and_returns_is_claimed_again_and_done(app, monkeypatch):
    """A job function that commits part of its work (giving its claim back) and then succeeds is
    claimed again before the runner's commit: done once, one attempt."""
    from agency import clock
    from agency.jobs.services import commit_progress, enqueue_job
    from workers import notifications
    from workers.runner import run_job

    monkeypatch.setattr(notifications, "deliver_all", lambda session, now, *args: commit_progress(session))
    with app.app_context():
        job = enqueue_job(db.session, clock.now(), "notifications", "workers.notifications.deliver_all", [])
        db.session.commit()
        assert run_job(job.id) == "done"
        (row,) = _outbox_rows(db.session)
        assert (row.status, row.attempts) == ("done", 1)
        assert run_job(job.id) == "already done"


@pytest.mark.postgres
@pytest.mark.redis
def test_the_scheduler_process_puts_a_due_retry_back_on_its_queue(redis_app, monkeypatch):
    """Workers run no RQ scheduler child (it outlived a killed worker): the scheduler process's
    timer promotes RQ's due retries, and reconcile leaves a scheduled retry alone."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from workers import notifications
    from workers.scheduler import _promote_retries, declare_jobs

    session = db.session
    mail = redis_app.extensions["mail_outbox"]
    notify(session, NOW, _user(session), "重试", key="retry:1")
    session.commit()
    assert support.relay() == 1
    (row,) = _outbox_rows(session)
    queue = queues.get_queue("notifications")
    with monkeypatch.context() as patch:
        patch.setattr(notifications, "deliver_all", lambda *args: 1 / 0)
        _work()
    assert queue.scheduled_job_registry.get_job_ids() == [row.rq_job_id]  # RQ's retry, 10 s later
    assert _outbox_rows(session)[0].attempts == 1
    assert _reconcile(redis_app, NOW + timedelta(minutes=1)) == {"requeued": 0}  # held: it will run

    state: dict = {}
    _promote_retries(redis_app, state)
    assert queue.count == 0  # not due yet
    queues.connection().zadd(queue.scheduled_job_registry.key, {row.rq_job_id: 1})  # ... and now it is
    _promote_retries(redis_app, state)
    assert queue.job_ids == [row.rq_job_id]
    assert queue.scheduled_job_registry.get_job_ids() == []
    _work()
    assert [m["Subject"] for m in mail] == ["重试"]
    assert (_outbox_rows(session)[0].status, _outbox_rows(session)[0].attempts) == ("done", 2)

    scheduler = BlockingScheduler(timezone=redis_app.config["TIMEZONE"])
    declare_jobs(scheduler, redis_app)
    assert scheduler.get_job("rq-retries").trigger.interval == timedelta(seconds=5)
