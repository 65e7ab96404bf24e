"""Report jobs (日清周结月通报), run from the ``reports`` queue."""
from datetime import date, datetime

from flask import current_app
from sqlalchemy.orm import Session

from agency.supervision.reports import build_report


def generate_report(session: Session, now: datetime, period: str, start_iso: str) -> int:
    """Build (or find) the report of ``period`` starting on ``start_iso``; safe to run twice.

    The runner commits together with marking the job done.
    """
    report = build_report(session, now, period, date.fromisoformat(start_iso), current_app.config["REPORT_DIR"])
    return report.id
