"""Jinja filters: times shown in the hall's zone."""
from datetime import datetime

from flask import Flask
from flask_babel import lazy_gettext as _l

from agency.clock import local

WEEKDAYS = (_l("星期一"), _l("星期二"), _l("星期三"), _l("星期四"), _l("星期五"), _l("星期六"), _l("星期日"))


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return local(value).strftime(fmt) if value else ""


def weekday(value: datetime | None) -> str:
    """The day of the week of ``value`` in the hall's zone, in the page's language."""
    return str(WEEKDAYS[local(value).weekday()]) if value else ""


def init_app(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["weekday"] = weekday
