"""The one RQ entry point: run an outbox row, exactly once in effect.

RQ delivers at least once, and reconcile may push a job again.  The row is
claimed (locked and marked done by one conditional UPDATE) in the transaction
its function runs in, so the mark commits with the work or rolls back with it,
and a second delivery waits for the first and then finds it done.  A function
that commits along the way (the e-mail job, when a channel fails: what was sent
stays sent) does so through ``commit_progress``, which gives the claim back, and
must make each committed part idempotent itself; the done mark still lands once.
"""
import importlib
import traceback

from flask import current_app, has_app_context

from agency import clock
from agency.extensions import db
from agency.jobs.services import claim_job, end_job, fail_job, holds_claim

_app = None


def _application():
    global _app
    if has_app_context():
        return current_app._get_current_object()
    if _app is None:
        import gc

        from agency import create_app
        _app = create_app()
        gc.freeze()  # as wsgi.py does: start-up's objects are skipped by every full collection
    return _app


REPLAYABLE = frozenset({"workers.tasks.deliver_task", "workers.notifications.deliver_all"})
"""The jobs whose effects a database crash may lose, because running them again redoes them.

Their transaction commits without waiting for the disk (``synchronous_commit = off`` for that
transaction only, set by the claim: ``agency.jobs.services.claim_job``; about 1.2 ms of a job's
3-6 ms here, bench_jobs).  PostgreSQL never commits part of a transaction, and loses at most the
last fraction of a second of such commits in a crash of the database server (not of the worker):
the job's own row then is not done either, so reconcile puts it back on RQ and it runs again, as
after a worker killed before its commit (at least once: an e-mail may go twice, with the same
Message-ID).  The row that causes the job was committed durably by its request.  Only jobs whose
effects carry no legal weight are listed: a notice's delivery (the liaison's inbox, e-mails and
webhooks), not an invitation's (its delivery is what makes a department duly invited, R6) nor a
report."""


def resolve(func: str):
    if not func.startswith("workers."):
        raise ValueError(f"refusing to run {func!r}: jobs live in workers/")
    module, _, name = func.rpartition(".")
    return getattr(importlib.import_module(module), name)


def run_job(outbox_id: int) -> str:
    app = _application()
    with app.app_context():
        session = db.session
        now = clock.now()
        try:
            claimed = claim_job(session, now, outbox_id, REPLAYABLE)
            if claimed is None:
                session.rollback()
                return "already done"
            func, args = resolve(claimed[0]), list(claimed[1])
            try:
                func(session, now, *args)
                # A function that committed part of its work gave its claim back: claim again (once).
                if not holds_claim(session) and claim_job(session, clock.now(), outbox_id) is None:
                    session.rollback()
                    return "already done"
                session.commit()
            except Exception as exc:
                session.rollback()
                fail_job(session, clock.now(), outbox_id, "".join(traceback.format_exception(exc)))
                session.commit()
                raise
        finally:
            end_job(session)
        return "done"
