"""The home page of each role, and the language switch."""
from collections.abc import Callable, Iterable
from typing import NamedTuple

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from agency import clock
from agency.extensions import db
from agency.web.i18n import gettable

bp = Blueprint("web", __name__)


class Figure(NamedTuple):
    """One number on a home page: label, value, tone ('', 'ok', 'warn', 'bad'), optional link."""
    label: str
    value: object
    tone: str = ""
    href: str | None = None


# role -> functions (session, user, now) -> figures.  Areas register theirs; none means no figures shown.
FIGURE_SOURCES: dict[str, list[Callable]] = {}


def figure_source(role: str):
    """Register a function that returns the home-page figures of a role (real numbers only)."""
    def register(fn: Callable[..., Iterable[Figure]]):
        if fn not in FIGURE_SOURCES.setdefault(role, []):
            FIGURE_SOURCES[role].append(fn)
        return fn
    return register


def _figures(role: str) -> list[Figure]:
    now = clock.now()
    return [f for source in FIGURE_SOURCES.get(role, []) for f in source(db.session, current_user, now)]


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("people.login"))
    return redirect(url_for("web.home"))


@bp.get("/home")
@login_required
def home():
    from agency.web.home import HOMES
    now = clock.now()
    work = HOMES[current_user.role](db.session, current_user._get_current_object(), now)
    return render_template(f"web/home_{current_user.role}.html", figures=_figures(current_user.role),
                           today=now, work=work,
                           queue_page="ops.queues" in current_app.view_functions)


def _safe_target(target: str | None) -> str:
    """A page of this site that answers a GET (never an action reached by a POST), else the home page."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target and gettable(target):
        return target
    return url_for("web.index")


@bp.post("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(_safe_target(request.form.get("next")))


@bp.app_template_global("page_args")
def page_args(number: int) -> dict:
    """The query string with ``page`` set (templates/web/_listing.html pager: its links keep the filters)."""
    from agency.web.listing import page_args as args
    return args(number)


# (value, label) pairs of the list filters' options (templates/web/_listing.html select_field);
# a third element marks a label that is user data (a name, shown as written in either language).
@bp.app_template_filter("department_option")
def department_option(department) -> tuple:
    return department.id, department.name, "user-data"


@bp.app_template_filter("agent_option")
def agent_option(user) -> tuple:
    return user.id, user.display_name, "user-data"


@bp.app_template_filter("need_option")
def need_option(need: str) -> tuple:
    from agency.web.home import NEED_LABELS
    return need, str(NEED_LABELS.get(need, need))


@bp.app_template_filter("due_option")
def due_option(due: str) -> tuple:
    from agency.web.home import TASK_DUE_LABELS
    return due, str(TASK_DUE_LABELS.get(due, due))
