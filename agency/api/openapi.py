"""What the OpenAPI document says of errors: the error shape of API.md, as one component (``Error``)
that every operation's 4xx responses refer to, and which of them each operation may answer."""
from http import HTTPStatus

from apispec import BasePlugin
from marshmallow import Schema, fields

ERROR_CODES = ("bad_input, unauthorized, forbidden, not_found, method_not_allowed, conflict, too_large, "
               "unsupported_media_type, rule_violated, too_many_requests")
WRITES = {"post", "put", "patch", "delete"}


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"description": ERROR_CODES})
    message = fields.String(required=True)
    fields_ = fields.Dict(required=True, data_key="fields",
                          metadata={"description": "what is wrong, by field name; may be empty"})


class ErrorSchema(Schema):
    """``{"error": {"code", "message", "fields"}}`` (API.md)."""

    error = fields.Nested(ErrorDetail, required=True)


def error_statuses(method: str, operation: dict, path_ids: bool, public: bool) -> list[int]:
    """The 4xx answers an operation may give.

    400 bad input (its query or body; any JSON body that is not JSON); 401 without a valid token (or, on
    signing in, wrong credentials); 403 a
    call not for the caller's role (``x-roles``) or an action that is not theirs; 404 an unknown or
    another party's object (a path id, or an id in the body); 409 and 422 a change refused by the
    object's state or a rule; 413 a body over its size limit; 415 an upload of a type not taken; 429 too many sign-ins.
    """
    body = "requestBody" in operation
    statuses = [400, 401]
    if "x-roles" in operation or method in WRITES and not public:
        statuses.append(403)
    if path_ids or body and not public:
        statuses.append(404)
    if method in WRITES and not public:
        statuses += [409, 422]
    if body:
        statuses.append(413)
    if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
        statuses.append(415)
    if public and method in WRITES:
        statuses.append(429)
    return statuses


class ErrorResponses(BasePlugin):
    """Adds each operation's 4xx responses, all referring to the ``Error`` component (a 4xx documented
    without a body gets it too), and marks the public operations (``security: []``)."""

    def __init__(self, public_endpoints: set[str]):
        self.public_endpoints = public_endpoints

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        public = rule is not None and rule.endpoint in self.public_endpoints
        path_ids = bool(rule.arguments) if rule is not None else "{" in (path or "")
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            documented = {str(code) for code in responses}
            for code, response in responses.items():  # e.g. @blp.alt_response(422, description=...)
                if str(code).startswith("4") and isinstance(response, dict) and "content" not in response:
                    response["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
            for status in error_statuses(method, operation, path_ids, public):
                if str(status) not in documented:
                    responses[str(status)] = HTTPStatus(status).name  # flask-smorest's lazy components
            if public:
                operation["security"] = []
