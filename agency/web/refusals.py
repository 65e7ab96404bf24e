"""A refused field shown where it was typed, after a redirect (#13.4).

A form that cannot be rendered again (an upload over the size limit: its body is never parsed) or whose
page is rebuilt elsewhere (the project page's supplement uploads) redirects back to the page with the
field's anchor (``…#entry-3``), and the message stands at that field, not at the top of the page, off
screen.  ``refuse_field(path, anchor, message)`` remembers it in the session for the next page view of
``path``, once; the template asks ``refused_field(anchor)`` where the field is.

The page routes' 413 (``too_large``) goes back to the form this way: the upload forms name their anchor
in their action (``?field=entry-3``) and the page they were on is the request's ``Referer`` (same-origin:
agency.web.security).  The API keeps its 413 error shape (agency.web.errors).
"""
import re
from contextlib import suppress
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _

KEY = "refused_field"
ANCHOR = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
DRAIN_LIMIT = 64 * 1024 * 1024  # read at most this much of a refused body before answering


def refuse_field(path: str, anchor: str, message: str) -> None:
    session[KEY] = {"path": path, "anchor": anchor, "message": message}


def refused_field(anchor: str) -> str | None:
    """The message refused at ``anchor`` for this page view (a template global)."""
    value = getattr(g, KEY, None)
    return value["message"] if value and value.get("anchor") == anchor else None


def _take() -> None:
    """On a page view, take the message meant for it (once); a message for another page is dropped."""
    setattr(g, KEY, None)
    if KEY in session and request.method == "GET" and not request.path.startswith(("/static/", "/api/")):
        value = session.pop(KEY)
        if value.get("path") == request.path:
            setattr(g, KEY, value)


def back_path() -> str:
    """The page the form was on: the same-origin Referer's path and query, else the home page."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc and referrer.netloc != request.host:
        return url_for("web.index")
    path = referrer.path or url_for("web.index")
    return path + (f"?{referrer.query}" if referrer.query else "")


def _drain() -> None:
    """Read (and drop) the refused body, so the browser gets the answer instead of a reset connection."""
    stream = request.environ.get("wsgi.input")
    left = min(request.content_length or 0, DRAIN_LIMIT)
    with suppress(OSError, ValueError):  # the client gone or the stream closed: nothing left to drain
        while stream is not None and left > 0:
            chunk = stream.read(min(left, 1024 * 1024))
            if not chunk:
                break
            left -= len(chunk)


def readable_size(size: int) -> str:
    """10 MB, 512 KB: the limit as people say it."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    return f"{max(1, round(size / 1024))} KB"


def too_large_page():
    """A page upload over MAX_CONTENT_LENGTH: back to the form, the message at the upload field."""
    _drain()
    message = _("文件过大：每个文件不能超过 %(size)s，请压缩或拆分后重新上传。",
                size=readable_size(current_app.config["MAX_UPLOAD_BYTES"]))
    anchor = request.args.get("field", "")
    target = back_path()
    path = urlsplit(target).path
    if ANCHOR.match(anchor):
        refuse_field(path, anchor, message)
        return redirect(target + "#" + anchor, 303)
    flash(message, "error")
    return redirect(target, 303)


def init_app(app: Flask) -> None:
    app.before_request(_take)

    @app.context_processor
    def refusals():
        return {"refused_field": refused_field}
