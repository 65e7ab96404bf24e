"""The outbox relay: puts on RQ the outbox rows that requests and jobs commit.

A change writes its jobs as ``outbox_jobs`` rows in its own transaction (R13) and is done: it sends
nothing to Redis.  The relay, a thread of the scheduler process (and of ``agency serve``), takes the
committed rows not yet put on RQ, marks them (``enqueued_at``), commits, and pushes them, every
queue's in one Redis pipeline.  It wakes when rows are committed: on PostgreSQL a trigger on
``outbox_jobs`` sends ``NOTIFY agency_outbox`` with the inserting transaction's commit (migration
0010); in one process (embedded mode, SQLite) the commit sets an event (``agency.jobs.services``).
Without a wake it looks every ``POLL`` anyway.

Why not push after each commit in the request, as before: RQ's enqueue costs the request a Redis
round trip and its own Python work (about 0.7 ms an answer and 2 ms a dispatch here, bench_workflow),
which the relay does once per batch, in another process.

At least once, as before: a row whose push fails is unmarked and taken again; a relay stopped between
its commit and its push leaves rows marked but not on RQ, which ``reconcile`` puts back (it goes by
what RQ holds, not by the mark).  Two relays never take the same row (``FOR UPDATE SKIP LOCKED``), and
a row delivered twice runs once anyway (``workers.runner``).
"""
from __future__ import annotations

import logging
import threading
from contextlib import suppress
from datetime import datetime

from flask import Flask
from sqlalchemy import bindparam, select, update
from sqlalchemy import func as sql

from agency.jobs.models import OutboxJob
from agency.jobs.services import relay_wake
from workers.queues import push_jobs

log = logging.getLogger(__name__)

CHANNEL = "agency_outbox"  # migration 0010's trigger notifies it
BATCH = 500
POLL = 5.0  # seconds between looks when nothing wakes the relay

_jobs = OutboxJob.__table__.c
# The rows to take, oldest first: pending (unrun), never put on RQ; locked so another relay skips them.
# The partial index ix_outbox_jobs_unfinished holds only unfinished rows, so this stays small.
_TAKE = (update(OutboxJob.__table__)
         .where(_jobs.id.in_(select(_jobs.id).where(_jobs.status == "pending", _jobs.enqueued_at.is_(None))
                             .order_by(_jobs.id).limit(bindparam("batch")).with_for_update(skip_locked=True)
                             .scalar_subquery()))
         .values(enqueued_at=bindparam("now"))
         .returning(_jobs.id, _jobs.queue))
# PostgreSQL: the same statement lets the mark commit without waiting for the disk (as SET LOCAL would, with
# no round trip of its own).  A crash of the database may lose the mark, never the row: the row is then
# relayed again, and a job delivered twice runs once (``workers.runner``).
_TAKE_NO_WAIT = _TAKE.returning(sql.set_config("synchronous_commit", "off", True).label("synchronous_commit"))
_GIVE_BACK = (update(OutboxJob.__table__).where(_jobs.id.in_(bindparam("taken", expanding=True)))
              .values(enqueued_at=None))


def relay_once(session, now: datetime, batch: int = BATCH) -> int:
    """Take up to ``batch`` committed rows not yet on RQ, mark them, commit, push them; how many.

    The mark is committed before the push, so a worker that runs a job at once finds its row free
    (the claim would wait for the relay's transaction otherwise).  A failed push gives the rows back
    (unmarked) and raises."""
    connection = session.connection()
    take = _TAKE_NO_WAIT if connection.dialect.name == "postgresql" else _TAKE
    taken = connection.execute(take, {"batch": batch, "now": now}).all()
    session.commit()
    if not taken:
        return 0
    try:
        push_jobs(sorted((row.id, row.queue) for row in taken))  # oldest first (RETURNING keeps no order)
    except Exception:
        session.connection().execute(_GIVE_BACK, {"taken": [row.id for row in taken]})
        session.commit()
        raise
    return len(taken)


def relay_all(session, now: datetime, batch: int = BATCH) -> int:
    """Relay until no row is left (a burst larger than a batch takes several); how many."""
    total = 0
    while (done := relay_once(session, now, batch)) == batch:
        total += done
    return total + done


class Relay(threading.Thread):
    """The relay's loop, as a daemon thread: relay everything, wait for a wake (or ``poll`` seconds), again.

    ``passes`` counts the completed passes, ``started`` the begun ones (tests wait through ``wait_for_pass``)."""

    def __init__(self, app: Flask, poll: float = POLL):
        super().__init__(name="agency-outbox-relay", daemon=True)
        self.app, self.poll = app, poll
        self.stopping = threading.Event()
        self.started = self.passes = 0
        self._listener: _Listener | None = None
        self._passed = threading.Condition()

    def stop(self) -> None:
        self.stopping.set()
        relay_wake.set()
        if self._listener is not None:
            self._listener.interrupt()

    def wait_for_pass(self, begun: int, timeout: float = 10.0) -> bool:
        """Block until a pass begun after ``begun`` passes had begun (``started``, read before a commit)
        has ended: what was committed then has been relayed, if something woke the relay.  False on timeout."""
        with self._passed:
            return self._passed.wait_for(lambda: self.passes > begun, timeout)

    def run(self) -> None:
        from agency.extensions import db
        with self.app.app_context():
            listener = self._listener = _Listener(db.engine) if db.engine.dialect.name == "postgresql" else None
            if listener is not None:
                listener.listen()  # before the first pass: nothing committed after its look is missed
            while not self.stopping.is_set():
                self._pass(db)
                if listener is None or not listener.wait(self.poll):  # no LISTEN here, or it was lost
                    relay_wake.wait(self.poll)  # a commit of this process, or the poll
                    relay_wake.clear()
            if listener is not None:
                listener.close()

    def _pass(self, db) -> None:
        from agency import clock
        with self._passed:
            self.started += 1
        try:
            relay_all(db.session, clock.now())
        except Exception:  # Redis or the database away: the rows stay for the next pass (and reconcile)
            log.exception("outbox relay pass failed")
            db.session.rollback()
            self.stopping.wait(self.poll)
        finally:
            db.session.remove()
            with self._passed:
                self.passes += 1
                self._passed.notify_all()


class _Listener:
    """A connection of its own that LISTENs on ``CHANNEL`` (autocommit); reconnects when it is lost."""

    def __init__(self, engine):
        self.engine, self.connection = engine, None

    def listen(self) -> None:
        if self.connection is None:
            self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self.connection.exec_driver_sql(f"LISTEN {CHANNEL}")

    def wait(self, timeout: float) -> bool:
        """Return at the first notification, or after ``timeout`` seconds; False when the connection
        failed (it is closed: the next wait listens again)."""
        try:
            self.listen()
            next(self.connection.connection.driver_connection.notifies(timeout=timeout, stop_after=1), None)
            return True
        except Exception:  # the server went away
            log.exception("outbox relay lost its LISTEN connection")
            self.close()
            return False

    def interrupt(self) -> None:
        """End a ``wait`` at once (the relay stops)."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql(f"NOTIFY {CHANNEL}")
            connection.commit()

    def close(self) -> None:
        if self.connection is not None:
            with suppress(Exception):  # already gone
                self.connection.close()
            self.connection = None


def start_relay(app: Flask) -> Relay:
    relay = Relay(app)
    relay.start()
    return relay
