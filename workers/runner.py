"""The one RQ entry point: run an outbox row, exactly once in effect.

RQ delivers at least once, and reconcile may push a job again.  The row is
locked, its function runs in the same transaction that marks it done, so a
second delivery waits for the first and then finds it done.  A function that
commits along the way (the e-mail job, when a channel fails: what was sent stays
sent) must make each committed part idempotent itself; the done mark still lands once.
"""
import importlib
import traceback

from flask import current_app, has_app_context

from agency import clock
from agency.extensions import db
from agency.jobs.services import claim_job, fail_job, finish_job

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


def resolve(func: str):
    if not func.startswith("workers."):
        raise ValueError(f"refusing to run {func!r}: jobs live in workers/")
    module, _, name = func.rpartition(".")
    return getattr(importlib.import_module(module), name)


def run_job(outbox_id: int) -> str:
    app = _application()
    with app.app_context():
        session = db.session
        job = claim_job(session, outbox_id)
        if job is None:
            session.rollback()
            return "already done"
        func, args = resolve(job.func), list(job.args)
        try:
            func(session, clock.now(), *args)
            if not finish_job(session, clock.now(), outbox_id):
                session.rollback()
                return "already done"
            session.commit()
        except Exception as exc:
            session.rollback()
            fail_job(session, clock.now(), outbox_id, "".join(traceback.format_exception(exc)))
            session.commit()
            raise
        return "done"
