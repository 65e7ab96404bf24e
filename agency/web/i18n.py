"""Chinese first, English second (Flask-Babel).

Chinese is the source language: msgids are the Chinese strings, and the only
catalog is ``agency/translations/en`` (Flask-Babel's default directory,
``translations`` under the app's root path).  ``scripts/i18n`` refreshes it.
"""
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request, session, url_for
from flask_babel import get_locale, gettext, lazy_gettext as _l
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

# The default hall name (config HALL_NAME), listed here so the catalog carries its English.
DEFAULT_HALL_NAME = _l("行政服务大厅代办中心")


def select_locale() -> str:
    """The language chosen with the switch, else the browser's, else Chinese.  Outside a request
    (jobs, commands) the default; use flask_babel.force_locale there for a person's language."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return request.accept_languages.best_match(current_app.config["LANGUAGES"]) or "zh"


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def hall_name() -> str:
    """The configured hall name, in English when the catalog knows it."""
    configured = current_app.config["HALL_NAME"]
    return gettext(configured)


def gettable(path: str) -> bool:
    """Whether ``path`` (of this site, query string allowed) answers a GET: a page to come back to."""
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(urlsplit(path).path, method="GET")
    except RequestRedirect:
        return True
    except HTTPException:
        return False
    return True


def switch_target() -> str:
    """Where the language switch returns: this page; when this page answers a POST at an address that has no
    GET (a refused form shown at its action), the page the form was on, else the home page."""
    here = request.full_path if request.query_string else request.path
    if request.method == "GET" or gettable(request.path):
        return here
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/") and gettable(referrer.path):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return url_for("web.index")


def html_lang() -> str:
    return "en" if str(get_locale()) == "en" else "zh-CN"


def init_app(app: Flask) -> None:
    from agency.web import filters, nav, records
    filters.init_app(app)
    nav.init_app(app)
    app.jinja_env.filters["record"] = records.record

    @app.context_processor
    def language():
        return {"hall_name": hall_name, "html_lang": html_lang, "switch_target": switch_target}
