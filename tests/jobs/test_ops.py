"""Operations in the browser (issue #13, point 9): the director's queue page and ``queue_health``.

A job whose function raises is run by a real RQ worker until RQ gives up; the page lists it with
the last line of its traceback, and its retry button (a CSRF-protected POST) puts it back through
``FailedJobRegistry.requeue``.  Once on the embedded stand-in (what ``make run`` and most tests
use), once on the real PostgreSQL and Redis.
"""
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from agency.audit.models import AuditEvent
from agency.extensions import db
from agency.jobs.health import queue_health
from agency.jobs.models import OutboxJob
from agency.jobs.services import MAX_ATTEMPTS, enqueue_job
from agency.notifications.services import notify
from agency.people.models import User
from tests.support import PASSWORD, UserFactory, relay
from tests.web.conftest import PageClient
from workers import notifications, queues
from workers.queues import RETRY
from workers.worker import make_worker

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Shanghai
REASON = "RuntimeError: SMTP gateway down (421)"


class Director:
    """A signed-in test client; each request in its own application context, as in a server."""

    def __init__(self, app, username):
        app.test_client_class = PageClient
        self.app, self.client = app, app.test_client()
        token = self.csrf("/login")
        self.client.post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD})

    def get(self, path, **kw):
        with self.app.app_context():
            return self.client.get(path, **kw)

    def csrf(self, path="/ops/queues") -> str:
        html = self.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)

    def retry(self, queue, job_id, token=None):
        token = self.csrf() if token is None else token
        with self.app.app_context():
            return self.client.post(f"/ops/queues/{queue}/jobs/{job_id}/retry", data={"csrf_token": token})


def _people(session):
    make = UserFactory(session, NOW)
    return {"director": make("director", "director"), "agent": make("agent", "agent"),
            "ent": make("enterprise", "ent", email="owner@enterprise.example.cn")}


def _failing_job(session, monkeypatch) -> OutboxJob:
    """An e-mail job whose function raises every time, run by a real RQ worker until RQ gives up on it."""
    monkeypatch.setattr(notifications, "deliver_all", _broken)
    notify(session, NOW, session.scalar(select(User).where(User.username == "ent")), "项目已受理", key="ops:1")
    session.commit()
    assert relay() == 1
    (row,) = session.scalars(select(OutboxJob)).all()
    queue = queues.get_queue("notifications")
    for _ in range(RETRY.max + 1):  # the first run and RQ's retries, each due at once
        make_worker(["notifications"]).work(burst=True, logging_level="CRITICAL")
        for job_id in queue.scheduled_job_registry.get_job_ids():
            queue.scheduled_job_registry.requeue(job_id)  # RQ's own move of a due retry
    assert queue.failed_job_registry.get_job_ids() == [row.rq_job_id]
    session.expire_all()
    return row


def _broken(session, now, *args):
    raise RuntimeError("SMTP gateway down (421)")


def _row_of(html: str, attribute: str, value: str) -> str:
    match = re.search(rf'<tr {attribute}="{re.escape(value)}".*?</tr>', html, re.S)
    assert match, f"no row {attribute}={value}"
    return match.group(0)


def _count(html: str, queue: str, name: str) -> int:
    return int(re.search(rf'data-count="{name}">(\d+)<', _row_of(html, "data-queue", queue)).group(1))


def _failed_retried_and_run(app, session, monkeypatch, mail):
    _people(session)
    row = _failing_job(session, monkeypatch)
    queue = queues.get_queue("notifications")
    director = Director(app, "director")

    page = director.get("/ops/queues")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert _count(html, "notifications", "failed") == 1
    assert _count(html, "notifications", "waiting") == 0
    listed = _row_of(html, "data-job-id", row.rq_job_id)
    assert REASON in listed  # the last line of the traceback, not the whole of it
    assert "Traceback" not in listed
    assert "workers.notifications.deliver_all" in listed
    assert f"已尝试 {RETRY.max + 1} 次" in listed

    assert director.retry("notifications", row.rq_job_id, token="forged").status_code == 400
    assert queue.failed_job_registry.get_job_ids() == [row.rq_job_id]  # no CSRF token: nothing happened

    monkeypatch.undo()  # the gateway is back
    answer = director.retry("notifications", row.rq_job_id)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/ops/queues#failed")
    assert queue.job_ids == [row.rq_job_id]  # back on its queue, through RQ's requeue
    assert queue.failed_job_registry.get_job_ids() == []
    html = director.get("/ops/queues").get_data(as_text=True)
    assert "已将任务 outbox-" in html
    assert (_count(html, "notifications", "waiting"), _count(html, "notifications", "failed")) == (1, 0)
    session.expire_all()
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "job.retried"))
    assert (event.actor_role, event.object_type, event.object_id) == ("director", "outboxjob", row.id)

    make_worker(["notifications"]).work(burst=True, logging_level="CRITICAL")
    session.expire_all()
    row = session.get(OutboxJob, row.id)
    assert (row.status, row.attempts) == ("done", RETRY.max + 2)
    assert [m["Subject"] for m in mail] == ["项目已受理"]
    html = director.get("/ops/queues").get_data(as_text=True)
    assert "没有失败的任务" in html
    assert director.retry("notifications", row.rq_job_id).status_code == 302  # retried twice: refused, said so
    assert "该任务已不在失败列表中" in director.get("/ops/queues").get_data(as_text=True)


def test_a_failed_job_is_listed_with_its_reason_and_retried_from_the_page(app, session, monkeypatch, mail):
    _failed_retried_and_run(app, session, monkeypatch, mail)


@pytest.mark.postgres
@pytest.mark.redis
def test_a_failed_job_is_listed_and_retried_on_the_real_redis(redis_app, monkeypatch):
    _failed_retried_and_run(redis_app, db.session, monkeypatch, redis_app.extensions["mail_outbox"])
    assert queues.connection().ping()  # the real Redis, not the stand-in
    assert queues.redis_url() == redis_app.config["REDIS_URL"]


def test_a_parked_row_rq_no_longer_keeps_is_listed_and_run_again(app, session, monkeypatch, mail):
    """Parked: MAX_ATTEMPTS runs failed, reconcile leaves it, RQ's failed entry expired. Retry enqueues it."""
    _people(session)
    job = enqueue_job(session, NOW, "notifications", "workers.notifications.deliver_all", [])
    session.commit()
    queues.connection().flushdb()  # RQ no longer holds anything of it
    row = session.get(OutboxJob, job.id)
    row.status, row.attempts, row.last_error = "failed", MAX_ATTEMPTS, "Traceback ...\nOSError: webhook refused"
    session.commit()

    director = Director(app, "director")
    html = director.get("/ops/queues").get_data(as_text=True)
    assert _count(html, "notifications", "parked") == 1
    listed = _row_of(html, "data-job-id", row.rq_job_id)
    assert "OSError: webhook refused" in listed and "已搁置" in listed
    assert director.retry("notifications", row.rq_job_id).status_code == 302
    assert queues.get_queue("notifications").job_ids == [row.rq_job_id]
    make_worker(["notifications"]).work(burst=True, logging_level="CRITICAL")
    session.expire_all()
    assert session.get(OutboxJob, job.id).status == "done"
    assert _count(director.get("/ops/queues").get_data(as_text=True), "notifications", "parked") == 0


def test_only_the_director_sees_the_queues(app, session):
    _people(session)
    UserFactory(session, NOW)("liaison", "fgw_a", department_code=_department(session), liaison_slot="primary")
    director = Director(app, "director")
    assert 'href="/ops/queues"' in director.get("/home").get_data(as_text=True)  # in the director's navigation
    token = director.csrf()
    for username in ("agent", "ent", "fgw_a"):
        other = Director(app, username)
        home = other.get("/home").get_data(as_text=True)
        assert 'href="/ops/queues"' not in home
        assert other.get("/ops/queues").status_code == 403
        assert other.retry("notifications", "outbox-1", token=other.csrf("/home")).status_code == 403
    anonymous = app.test_client()
    assert anonymous.get("/ops/queues").headers["Location"].startswith("/login")
    assert anonymous.post("/ops/queues/notifications/jobs/outbox-1/retry", data={"csrf_token": token}).status_code in (
        302, 400)
    assert director.retry("no.such.queue", "outbox-1").status_code == 404


def _department(session) -> str:
    from agency.catalog.models import Department
    session.add(Department(code="FGW", name="发展改革局"))
    session.commit()
    return "FGW"


def test_outbox_rows_not_run_and_the_last_sweep(app, session, clock):
    """Rows written but not run are counted with their age; the sweep records its ``now``."""
    from workers.deadlines import run_sweep

    _people(session)
    clock.set(NOW)
    for minutes, key in ((0, "a"), (3, "b"), (10, "c")):
        enqueue_job(session, NOW + timedelta(minutes=minutes), "default", "workers.reports.build_report", 1, key=key)
    session.commit()
    assert relay() == 3
    done = session.scalar(select(OutboxJob).where(OutboxJob.key == "c"))
    done.status = "done"
    session.commit()
    health = queue_health(session, NOW)
    assert (health.unfinished, health.last_sweep) == (2, None)
    assert [r.key for r in health.oldest_unfinished] == ["a", "b"]
    assert health.as_dict()["totals"]["waiting"] == 3  # the relay put all three on RQ
    assert health.as_dict()["queues"]["default"]["waiting"] == 3

    swept_at = clock.set(NOW + timedelta(minutes=42))
    run_sweep(session, swept_at)
    clock.advance(minutes=5)
    health = queue_health(session, NOW)
    assert health.last_sweep == swept_at
    assert health.as_dict()["last_sweep"] == swept_at and health.as_dict()["outbox_unfinished"] == 2

    director = Director(app, "director")
    html = director.get("/ops/queues").get_data(as_text=True)
    outbox = re.search(r'data-testid="outbox".*?</table>', html, re.S).group(0)
    assert re.findall(r'data-outbox-id="(\d+)"', outbox) == [str(r.id) for r in health.oldest_unfinished]
    assert "47分钟" in _row_of(outbox, "data-outbox-id", str(health.oldest_unfinished[0].id))  # 09:00 -> 09:47
    assert "44分钟" in _row_of(outbox, "data-outbox-id", str(health.oldest_unfinished[1].id))
    sweep = re.search(r'data-testid="last-sweep".*?</p>', html, re.S).group(0)
    assert "2026-11-23 09:42:00" in sweep and "5分钟前" in sweep

    with app.app_context():
        director.client.post("/lang/en", data={"csrf_token": director.csrf(), "next": "/ops/queues"})
    html = director.get("/ops/queues").get_data(as_text=True)
    assert "47 minutes" in html and "5 minutes ago" in html and "Last deadline sweep" in html


def test_queue_health_says_so_when_redis_is_unreachable(app, session, monkeypatch):
    from redis.exceptions import ConnectionError as RedisDown

    from workers import queues as queue_module
    _people(session)

    class Down:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise RedisDown("Connection refused")
            return fail

    monkeypatch.setattr(queue_module, "connection", lambda: Down())
    monkeypatch.setattr("agency.jobs.health.connection", lambda: Down())
    health = queue_health(session, NOW)
    assert health.redis_error == "Connection refused" and health.as_dict()["redis_ok"] is False
    page = Director(app, "director").get("/ops/queues")
    assert page.status_code == 200 and "无法连接 Redis" in page.get_data(as_text=True)

