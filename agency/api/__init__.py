"""The REST API under /api/v1: flask-smorest (marshmallow + OpenAPI), bearer
tokens, and the error shape of API.md for every failure."""
from copy import deepcopy
from functools import wraps

import flask_smorest
from flask import current_app, g, jsonify, request
from flask_smorest.utils import deepupdate
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException

from agency import clock
from agency.api import body, fields as api_fields
from agency.api.openapi import ErrorResponses, ErrorSchema
from agency.errors import DomainError
from agency.extensions import csrf, db
from agency.transaction import read_outside_transaction

PREFIX = "/api/v1"
# Calls anyone may make without a token: signing in, the OpenAPI document, the service guide and the
# quarterly disclosure (R19: they name no enterprise or person).
PUBLIC_ENDPOINTS = {"auth_api.token", "api-docs.openapi_json", "guide_api.guide_items",
                    "guide_api.quarterly_disclosure"}


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400  # API.md: bad input is 400

    def _raw_load_json(self, req):
        """The JSON body within its bounds (depth, storable text): agency.api.body."""
        if not is_json_request(req):
            return core.missing
        return body.parse_json(req.get_data(cache=True))


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _Parser()


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema  # the "Error" component: API.md's shape, not flask-smorest's

    def _register_error_handlers(self):
        """Errors are rendered by ``register_error_handlers`` in the shape of API.md."""


api = Api(spec_kwargs={
    "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearerAuth": []}],
    "extra_plugins": [ErrorResponses(PUBLIC_ENDPOINTS)],
})
api.register_converter(api_fields.IdConverter, api_fields.id_parameter)
api.register_field(api_fields.Money, "string", "decimal")


def produces(status: int, description: str, *media_types: str):
    """``@produces(200, "...", "text/csv")``: document an answer that is a file or a page, not JSON (its
    content types), beside any JSON one that ``@blp.response`` documents."""
    content = {media: {"schema": {"type": "string"} if media.startswith("text/")
                       else {"type": "string", "format": "binary"}} for media in media_types}
    # an int status, as flask-smorest keys the responses it documents (a "200" would replace them)
    return Blueprint.doc(responses={status: {"description": description, "content": content}})


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
    message = data.get("message") or (invalid_input(fields) if fields else error.description)
    response = error_body(error.code or 500, _HTTP_CODES.get(error.code, "error"), message, fields)
    for name, value in error.get_headers():  # e.g. Allow on a 405 (RFC 9110), Retry-After
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def invalid_input(fields: dict) -> str:
    """"invalid input: start: a date from ...; days: ..." (the first messages of the first fields)."""
    said = []
    for name, problem in list(fields.items())[:3]:
        first = problem[0] if isinstance(problem, list) and problem and isinstance(problem[0], str) else "invalid"
        said.append(f"{name}: {first}")
    return "invalid input: " + "; ".join(said)


def render_domain_error(error: DomainError):
    db.session.rollback()
    return error_body(error.status, error.code, error.message, error.fields)


def reads(view):
    """Mark an API handler that reads before it writes anything: its token and its reads run outside
    a transaction (agency.transaction.read_outside_transaction); it commits before it writes."""
    view.reads_outside_transaction = True
    return view


def authenticate_request():
    """Bearer token on every API call but the public ones."""
    if not is_api_request() or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if request.method == "GET" and getattr(current_app.view_functions.get(request.endpoint),
                                           "reads_outside_transaction", False):
        read_outside_transaction(db.session())  # the Session itself, not its scoped proxy
    from agency.people.services import user_for_token
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    found = user_for_token(db.session, clock.now(), token.strip()) if scheme.lower() == "bearer" and token else None
    if found is None:
        return error_body(401, "unauthorized", "a valid bearer token is required (POST /api/v1/auth/token)")
    g.api_caller, g.api_token_id = found
    g.api_user = None  # built on first use (current_user); g outlives a request under a test's app context
    return None


def caller():
    """Who is calling, as read with the token (agency.people.services.UserSnapshot): its id, role and
    department, for filters and checks; no ORM object, no statement."""
    return g.api_caller


def current_user():
    """The caller as a User of this request's session (built from the cached snapshot on first use,
    no statement): for services that record, relate or change it."""
    user = g.get("api_user")
    if user is None:
        from agency.people.services import attach_user
        user = g.api_user = attach_user(db.session, g.api_caller)
    return user


def roles(*allowed: str):
    """Restrict an API handler to roles; object checks stay in the handler (agency.people.access).

    The OpenAPI document names them (``x-roles``) and gives the operation its 403."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if g.api_caller.role not in allowed:
                return error_body(403, "forbidden", f"this call is for: {', '.join(allowed)}")
            return view(*args, **kwargs)
        wrapper._apidoc = deepcopy(getattr(view, "_apidoc", {}))
        wrapper._apidoc["manual_doc"] = deepupdate(wrapper._apidoc.get("manual_doc", {}), {"x-roles": list(allowed)})
        return wrapper
    return decorate


def bound_request():
    if is_api_request():
        body.bound_request()


def init_app(app, blueprints) -> None:
    api.init_app(app)
    for blueprint in blueprints:
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint, url_prefix=PREFIX)
    app.before_request(authenticate_request)
    app.before_request(bound_request)
