"""Chinese first, English second (Flask-Babel).

Chinese is the source language: msgids are the Chinese strings, and the only
catalog is ``agency/translations/en`` (Flask-Babel's default directory,
``translations`` under the app's root path).  ``scripts/i18n`` refreshes it.
"""
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale, gettext, lazy_gettext as _l

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


def html_lang() -> str:
    return "en" if str(get_locale()) == "en" else "zh-CN"


def init_app(app: Flask) -> None:
    from agency.web import filters, nav
    filters.init_app(app)
    nav.init_app(app)

    @app.context_processor
    def language():
        return {"hall_name": hall_name, "html_lang": html_lang}
