"""The one clock of the system.

Outside production ``AGENCY_NOW`` (read at each call) replaces the wall
clock, so every rule can be exercised at any instant; a command's ``--now``
is passed down explicitly and wins over both.
"""
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from config import read_agency_now


def now() -> datetime:
    """The current instant, aware, in UTC."""
    honour = current_app.config.get("HONOUR_AGENCY_NOW", False) if has_app_context() else False
    override = read_agency_now() if honour else None
    return (override or datetime.now(timezone.utc)).astimezone(timezone.utc)


def hall_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def closing_time() -> time:
    return time.fromisoformat(current_app.config["HALL_CLOSING_TIME"])


def local(dt: datetime) -> datetime:
    """``dt`` shown in the hall's zone."""
    return dt.astimezone(hall_tz())
