"""Chinese first, English second (Flask-Babel)."""
from flask import Flask, current_app, request, session


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return request.accept_languages.best_match(current_app.config["LANGUAGES"]) or "zh"


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def init_app(app: Flask) -> None:
    from agency.web import filters, nav
    filters.init_app(app)
    nav.init_app(app)
