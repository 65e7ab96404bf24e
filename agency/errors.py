"""Domain errors.  Services raise them; pages and the API turn them into a
form message or the error shape of API.md in one place each.

One error, two readers, each in its own language (#13.5):

- ``message`` is the API's and the command line's text: English, exactly as
  API.md's clients have always read it (``{"error": {"code", "message",
  "fields"}}``).  It is never shown on a page.
- ``shown`` is the page's text: a Chinese msgid through the translation
  catalogue, written with ``lazy_gettext`` so it renders in the language of
  the page that shows it (English from ``agency/translations/en``)::

      raise RuleViolation("a meeting cannot be scheduled in the past",
                          fields={"starts_at": "must be in the future"},
                          shown=_l("会议时间已过，不能安排在过去的时间。"))

  Parameters go in the lazy string (``_l("%(name)s 没有联络员", name=...)``);
  a parameter that is itself a word of the interface (a status, a kind of
  meeting) is passed as its own lazy label so it follows the page too.

Pages read ``agency.web.errors.page_message(error)``: ``shown`` in the page's
language, or, for an error raised without one, the general explanation of
its status (``该操作不符合办理规则。``); the English ``message`` never reaches
a page.
"""
from flask_babel import LazyString


class DomainError(Exception):
    status = 422
    code = "rule_violated"

    def __init__(self, message: str, *, fields: dict | None = None, code: str | None = None,
                 shown: LazyString | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.shown = shown
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
