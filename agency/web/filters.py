"""Jinja filters: times shown in the hall's zone."""
from datetime import datetime

from flask import Flask

from agency.clock import local


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return local(value).strftime(fmt) if value else ""


def init_app(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = localtime
