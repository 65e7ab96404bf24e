"""Jinja filters: times shown in the hall's zone, and user data marked as such."""
from datetime import datetime

from flask import Flask
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from agency.clock import local

# render_kw of a form choice whose label is user data (a person's or a project's name): <option class="user-data">.
USER_DATA = {"class": "user-data"}

WEEKDAYS = (_l("星期一"), _l("星期二"), _l("星期三"), _l("星期四"), _l("星期五"), _l("星期六"), _l("星期日"))


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return local(value).strftime(fmt) if value else ""


def weekday(value: datetime | None) -> str:
    """The day of the week of ``value`` in the hall's zone, in the page's language."""
    return str(WEEKDAYS[local(value).weekday()]) if value else ""


def user_data(value) -> Markup | str:
    """``{{ project.name|user_data }}``: text that people or the catalogue wrote (names, opinions, places,
    file names), shown as written whatever the page's language, in ``<span class="user-data">``.

    One language at a time (#13.5): everything else on a page is in the page's language, and
    tests/web/test_one_language.py skips what is marked so.  Mark an element that cannot hold a span
    (an ``<option>``, a ``<td>`` of names) with ``class="user-data"`` itself."""
    if value is None or value == "":
        return ""
    return Markup('<span class="user-data">%s</span>') % value


def init_app(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["weekday"] = weekday
    app.jinja_env.filters["user_data"] = user_data
