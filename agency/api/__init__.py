"""The REST API under /api/v1: flask-smorest (marshmallow + OpenAPI), bearer
tokens, and the error shape of API.md for every failure."""
from functools import wraps

import flask_smorest
from flask import g, jsonify, request
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from agency import clock
from agency.errors import DomainError
from agency.extensions import csrf, db

PREFIX = "/api/v1"
# Calls anyone may make without a token: signing in, the OpenAPI document, the service guide and the
# quarterly disclosure (R19: they name no enterprise or person).
PUBLIC_ENDPOINTS = {"auth_api.token", "api-docs.openapi_json", "guide_api.guide_items",
                    "guide_api.quarterly_disclosure"}


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400  # API.md: bad input is 400


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _Parser()


class Api(flask_smorest.Api):
    def _register_error_handlers(self):
        """Errors are rendered by ``register_error_handlers`` in the shape of API.md."""


api = Api(spec_kwargs={
    "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearerAuth": []}],
})


def error_body(status: int, code: str, message: str, fields: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    response.status_code = status
    return response


_HTTP_CODES = {400: "bad_input", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
               422: "rule_violated", 429: "too_many_requests"}


def is_api_request() -> bool:
    return request.path.startswith(PREFIX + "/") or request.path == PREFIX


def render_http_error(error: HTTPException):
    data = getattr(error, "data", None) or {}
    fields = data.get("messages") or data.get("errors") or {}
    if isinstance(fields, dict) and set(fields) <= {"json", "query", "form", "files", "headers", "view_args"}:
        flat = {}
        for part in fields.values():
            flat.update(part if isinstance(part, dict) else {"_": part})
        fields = flat
    message = data.get("message") or ("invalid input" if fields else error.description)
    return error_body(error.code or 500, _HTTP_CODES.get(error.code, "error"), message, fields)


def render_domain_error(error: DomainError):
    db.session.rollback()
    return error_body(error.status, error.code, error.message, error.fields)


def authenticate_request():
    """Bearer token on every API call but the public ones."""
    if not is_api_request() or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    from agency.people.services import user_for_token
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    found = user_for_token(db.session, clock.now(), token.strip()) if scheme.lower() == "bearer" and token else None
    if found is None:
        return error_body(401, "unauthorized", "a valid bearer token is required (POST /api/v1/auth/token)")
    g.api_user, g.api_token_id = found
    return None


def current_user():
    return g.api_user


def roles(*allowed: str):
    """Restrict an API handler to roles; object checks stay in the handler (agency.people.access)."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if g.api_user.role not in allowed:
                return error_body(403, "forbidden", f"this call is for: {', '.join(allowed)}")
            return view(*args, **kwargs)
        return wrapper
    return decorate


def init_app(app, blueprints) -> None:
    api.init_app(app)
    for blueprint in blueprints:
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint, url_prefix=PREFIX)
    app.before_request(authenticate_request)
