"""The one APScheduler process.  Its jobs only run the sweep or enqueue work.

Deadlines are columns, not scheduler entries: the sweep finds what is due.
"""
import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

log = logging.getLogger(__name__)


def _sweep(app: Flask) -> None:
    from agency import clock
    from agency.extensions import db
    from workers.deadlines import run_sweep
    with app.app_context():
        counts = run_sweep(db.session, clock.now())
        if any(counts.values()):
            log.info("sweep: %s", counts)


def _reconcile(app: Flask) -> None:
    from agency import clock
    from agency.extensions import db
    from workers.reconcile import reconcile
    with app.app_context():
        reconcile(db.session, clock.now())


def _checkpoint(app: Flask) -> None:
    from agency import clock
    from agency.audit.checkpoints import checkpoint_audit
    from agency.extensions import db
    from sqlalchemy.exc import OperationalError
    with app.app_context():
        try:
            checkpoint = checkpoint_audit(db.session, clock.now())
            db.session.commit()
        except OperationalError as error:  # the lock not granted in time: the next run tries again
            db.session.rollback()
            log.warning("audit checkpoint postponed: %s", error)
            return
        if checkpoint is not None:
            log.info("audit checkpoint %s:%s (%d chains)", checkpoint.id, checkpoint.hash, len(checkpoint.heads))


def _report(app: Flask, period: str) -> None:
    from agency import clock
    from agency.extensions import db
    from agency.supervision.reports import schedule_report
    with app.app_context():
        schedule_report(db.session, clock.now(), period)
        db.session.commit()


def declare_jobs(scheduler, app: Flask) -> None:
    """The fixed list of timers; ids are stable so a restart replaces, never duplicates."""
    tz = app.config["TIMEZONE"]
    common = {"replace_existing": True, "coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    scheduler.add_job(_sweep, "interval", minutes=1, id="sweep", args=[app], **common)
    scheduler.add_job(_reconcile, "interval", minutes=5, id="reconcile", args=[app], **common)
    # Its own timer, not the sweep's (a sweep with nothing due stays one statement); it bounds how long
    # the end of a chain can be deleted unnoticed.
    scheduler.add_job(_checkpoint, "interval", minutes=app.config["AUDIT_CHECKPOINT_MINUTES"],
                      id="audit-checkpoint", args=[app], **common)
    scheduler.add_job(_report, "cron", hour=0, minute=30, timezone=tz, id="report-daily",
                      args=[app, "daily"], **common)
    scheduler.add_job(_report, "cron", day_of_week="mon", hour=1, minute=0, timezone=tz, id="report-weekly",
                      args=[app, "weekly"], **common)
    scheduler.add_job(_report, "cron", day=1, hour=1, minute=30, timezone=tz, id="report-monthly",
                      args=[app, "monthly"], **common)


def start_background(app: Flask) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=app.config["TIMEZONE"])
    declare_jobs(scheduler, app)
    scheduler.start()
    return scheduler


def run_blocking(app: Flask) -> None:
    scheduler = BlockingScheduler(timezone=app.config["TIMEZONE"])
    declare_jobs(scheduler, app)
    log.info("scheduler started with jobs: %s", [j.id for j in scheduler.get_jobs()])
    scheduler.start()
