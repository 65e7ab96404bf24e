"""Domain errors.  Services raise them; pages and the API turn them into a
form message or the error shape of API.md in one place each."""


class DomainError(Exception):
    status = 422
    code = "rule_violated"

    def __init__(self, message: str, *, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class BadInput(DomainError):
    status, code = 400, "bad_input"


class NotFound(DomainError):
    """Unknown, or another party's object: the two look the same (API.md)."""
    status, code = 404, "not_found"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class TransitionNotAllowed(DomainError):
    """The object is not in a state that allows this (e.g. answering a closed task)."""
    status, code = 409, "conflict"


class RuleViolation(DomainError):
    """Well-formed, but it breaks a rule of DESIGN.md."""
    status, code = 422, "rule_violated"
