"""Workers SIGKILLed at random points, on the real PostgreSQL and Redis: no outbox job is lost,
none runs twice, and no process is left behind.

The workers are real ``agency worker`` processes (the kill loop forks them
from one launcher, tests/workers/worker_forks.py, since a fresh ``flask``
costs seconds of imports; the orphan test runs ``flask --app wsgi agency
worker`` itself).  Time is only ever waited for as a condition with a deadline.
"""
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import func, select

from agency.extensions import db
from agency.jobs.models import OutboxJob
from agency.notifications.models import Delivery
from agency.notifications.services import notify
from tests import support
from workers import queues
from workers.reconcile import reconcile

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(minutes=1)  # past reconcile's grace for every row written at NOW
KILLS = 50
SLOTS = 2  # workers alive at once




@pytest.fixture
def worker_env(pg_url, redis_url, tmp_path):
    """The environment of a production-like worker process on the test database and Redis db."""
    env = {**os.environ, "AGENCY_ENV": "development", "DATABASE_URL": pg_url, "REDIS_URL": redis_url,
           "MAIL_BACKEND": "memory", "SECRET_KEY": "test-secret", "AGENCY_INSTANCE": str(tmp_path / "instance"),
           "UPLOAD_DIR": str(tmp_path / "uploads"), "REPORT_DIR": str(tmp_path / "reports"),
           "WORKER_LOG": str(tmp_path / "workers.log")}
    env.pop("AGENCY_NOW", None)
    return env


class Jobs:
    """Writes outbox jobs (one e-mail notice each, key ``kill:N``) and reads what became of them."""

    def __init__(self, session):
        self.session, self.written = session, 0
        self.user = support.UserFactory(session, NOW)("enterprise", email="owner@enterprise.example.cn")

    def write(self, count: int) -> None:
        for n in range(self.written, self.written + count):
            notify(self.session, NOW, self.user, f"通知{n}", key=f"kill:{n}")
        self.session.commit()
        assert support.relay() == count  # what the relay thread of the scheduler process does
        self.written += count

    def count(self, *where) -> int:
        count = self.session.scalar(select(func.count()).select_from(OutboxJob).where(*where))
        self.session.rollback()
        return count

    def assert_each_ran_exactly_once(self) -> None:
        rows = self.session.execute(select(OutboxJob.status, OutboxJob.attempts)).all()
        assert len(rows) == self.written
        assert {tuple(r) for r in rows} == {("done", 1)}
        emails = self.session.execute(select(Delivery.key, Delivery.status, Delivery.attempts)
                                      .where(Delivery.channel == "email")).all()
        assert sorted(key for key, _, _ in emails) == sorted(f"kill:{n}:email:{self.user.id}"
                                                             for n in range(self.written))
        assert {(status, attempts) for _, status, attempts in emails} == {("sent", 1)}  # sent once each
        self.session.rollback()


def _processes() -> dict[int, tuple[str, int, int]]:
    """Every process: pid -> (state, parent pid, process group)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                state, ppid, pgrp = (entry / "stat").read_text().rpartition(")")[2].split()[:3]
            except (OSError, ValueError):
                continue
            found[int(entry.name)] = (state, int(ppid), int(pgrp))
    return found


def _family(pid: int) -> set[int]:
    """The living process ``pid``, its descendants and the members of its process group."""
    table = {p: info for p, info in _processes().items() if info[0] not in ("Z", "X")}
    family = {p for p, (_, _, pgrp) in table.items() if pgrp == pid} | ({pid} if pid in table else set())
    grown = True
    while grown:
        children = {p for p, (_, ppid, _) in table.items() if ppid in family} - family
        family |= children
        grown = bool(children)
    return family


def _wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _kill(pid: int) -> None:
    """SIGKILL a worker; then nothing of it (group, children) may stay alive."""
    family = _family(pid)
    assert pid in family
    os.kill(pid, signal.SIGKILL)
    try:
        _wait_for(lambda: not (family & _alive() or _family(pid)), 10, f"worker {pid}'s processes {sorted(family)} to end")
    finally:  # a failing test leaves no orphan running either
        for survivor in (family | _family(pid)) & _alive():
            os.kill(survivor, signal.SIGKILL)


def _alive() -> set[int]:
    return {p for p, (state, _, _) in _processes().items() if state not in ("Z", "X")}


def _registered_pids() -> set[int]:
    """The pids of the workers registered in Redis (they have reached their work loop)."""
    redis = queues.connection()
    return {int(pid) for key in redis.scan_iter("rq:worker:*") if redis.type(key) == b"hash"
            for pid in [redis.hget(key, "pid")] if pid}


class Launcher:
    def __init__(self, env):
        self.process = subprocess.Popen([sys.executable, "-m", "tests.workers.worker_forks"], cwd=support.ROOT,
                                        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def spawn(self) -> int:
        self.process.stdin.write("worker\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def children(self) -> set[int]:
        return {p for p, (state, ppid, _) in _processes().items() if ppid == self.process.pid and state != "Z"}

    def close(self) -> None:
        self.process.stdin.close()
        assert self.process.wait(10) == 0


def test_no_outbox_job_is_lost_or_run_twice_when_workers_are_killed(redis_app, worker_env):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    jobs = Jobs(db.session)
    queue = queues.get_queue("notifications")
    launcher = Launcher(worker_env)
    live: list[int] = []
    kills = requeued = 0
    stop_by = time.monotonic() + 60
    try:
        while kills < KILLS:
            assert time.monotonic() < stop_by, f"kill loop too slow after {kills} kills (seed {seed})"
            if queue.count < 100:  # the e-mail jobs take ~5 ms: keep more waiting than two workers run meanwhile
                jobs.write(200)
            while len(live) < SLOTS:
                live.append(launcher.spawn())
            if kills % 10 == 5:  # reconcile beside live workers: what they run must not be run twice
                requeued += reconcile(db.session, LATER)
            victim = live.pop(0)  # the older one: its successor boots meanwhile
            _wait_for(lambda: victim in _registered_pids(), 20, f"worker {victim} to start")
            time.sleep(rng.uniform(0, 0.4))  # a random point of its work: dequeuing, mid-job, committing, idle
            _kill(victim)
            kills += 1
        for pid in live:
            _kill(pid)
            kills += 1
        live = []
        assert jobs.count(OutboxJob.status != "done") > 0, "the workers finished everything: kill sooner"

        requeued += reconcile(db.session, LATER)
        assert requeued > 0, f"no kill left a job behind (seed {seed}); the test proves nothing"
        live = [launcher.spawn() for _ in range(SLOTS)]
        _wait_for(lambda: jobs.count(OutboxJob.status != "done") == 0, 60,
                  f"every outbox row to be done after reconcile (seed {seed})")
        for pid in live:  # a warm shutdown leaves nothing either
            os.kill(pid, signal.SIGTERM)
        _wait_for(lambda: not any(_family(pid) for pid in live), 20, "the workers to stop")
        live = []
        assert launcher.children() == set()
    finally:
        for pid in live:
            if pid in _alive():
                os.kill(pid, signal.SIGKILL)
        launcher.close()

    jobs.assert_each_ran_exactly_once()
    assert kills >= KILLS
    assert reconcile(db.session, LATER) == 0
    assert queue.count == 0


def test_a_killed_flask_worker_leaves_no_process_behind(redis_app, worker_env, tmp_path):
    """``flask agency worker`` SIGKILLed mid-work: its process group and children are gone with it,
    and a second worker, after reconcile, runs what it left exactly once."""
    jobs = Jobs(db.session)
    jobs.write(300)
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "agency", "worker"]

    def start() -> subprocess.Popen:
        with open(tmp_path / "flask-worker.log", "ab") as log:
            return subprocess.Popen(command, cwd=support.ROOT, env=worker_env, start_new_session=True,
                                    stdout=log, stderr=subprocess.STDOUT)

    first = start()
    try:
        _wait_for(lambda: jobs.count(OutboxJob.status == "done") > 0, 60, "the worker to run jobs")
        _kill(first.pid)
        assert first.wait(10) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert not _family(first.pid)

    reconcile(db.session, LATER)
    second = start()
    try:
        _wait_for(lambda: jobs.count(OutboxJob.status != "done") == 0, 60, "every outbox row to be done")
        second.send_signal(signal.SIGTERM)
        assert second.wait(20) == 0
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()
    _wait_for(lambda: not _family(second.pid), 10, "the second worker's processes to end")
    jobs.assert_each_ran_exactly_once()
