"""One place that turns errors into responses: JSON under /api/v1, pages elsewhere."""
from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from agency.api import is_api_request, render_domain_error, render_http_error
from agency.errors import DomainError
from agency.extensions import db


def _domain(error: DomainError):
    if is_api_request():
        return render_domain_error(error)
    db.session.rollback()
    return render_template("errors/error.html", status=error.status, message=error.message), error.status


def _http(error: HTTPException):
    if is_api_request():
        return render_http_error(error)
    return render_template("errors/error.html", status=error.code, message=error.description), error.code


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain)
    app.register_error_handler(HTTPException, _http)
