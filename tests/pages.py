"""Helpers of the page tests: a clean-``g`` test client, the CSRF token, signing in through the form."""
import re

import flask_babel
from flask import g, has_app_context
from flask.testing import FlaskClient

from tests.support import PASSWORD, UnmarkedClient


class PageClient(UnmarkedClient):
    """A test client whose requests start with a clean ``g``, as a browser's would.

    Fixtures like ``session`` keep an app context pushed for the whole test and Flask
    reuses it for each request, so Flask-WTF's CSRF token, Flask-Login's user and
    Flask-Babel's locale would otherwise leak from one request to the next.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for key in ("csrf_token", "_login_user"):
                g.pop(key, None)
            flask_babel.refresh()
        return super().open(*args, **kwargs)


def page_client(app) -> FlaskClient:
    app.test_client_class = PageClient
    return app.test_client()


def read_csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def csrf(client, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page's form."""
    return read_csrf(client.get(path).get_data(as_text=True))


def login(client, username: str, password: str = PASSWORD):
    """Sign the client in through the login form (CSRF included); returns the POST's response."""
    return client.post("/login", data={"csrf_token": csrf(client), "username": username, "password": password})


def post(client, path: str, data: dict | None = None, token_from: str | None = None, **kw):
    """POST a form with the CSRF token of the session (read from ``token_from``, default the inbox)."""
    return client.post(path, data={"csrf_token": csrf(client, token_from or "/inbox"), **(data or {})}, **kw)


def text(response) -> str:
    return response.get_data(as_text=True)
