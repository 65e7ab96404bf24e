"""Fixtures of the page tests: a signed-in test client, and for the browser
tests a live demo server and Debian's Chromium (tests/browser_support.py)."""
import re
import shutil

import flask_babel
import pytest
from flask import g, has_app_context

from tests import browser_support
from tests.support import UnmarkedClient


class PageClient(UnmarkedClient):
    """A test client whose requests start with a clean ``g``.

    Fixtures like ``session`` keep an app context pushed for the whole test, and
    Flask reuses it for each request, so ``g`` (Flask-WTF's CSRF token, Flask-Login's
    user, Flask-Babel's locale) would leak from one request to the next; a browser
    never sees that.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for key in ("csrf_token", "_login_user"):
                g.pop(key, None)
            flask_babel.refresh()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = PageClient
    return app.test_client()


def read_csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.fixture
def login(client):
    """``login(username, password)`` signs the test client in through the login form (CSRF included)."""
    from tests.support import PASSWORD

    def sign_in(username: str, password: str = PASSWORD):
        token = read_csrf(client.get("/login").get_data(as_text=True))
        return client.post("/login", data={"csrf_token": token, "username": username, "password": password})
    return sign_in


@pytest.fixture
def csrf_token(client):
    """The CSRF token of the client's session (read from a page's language switch form)."""
    def read(path: str = "/login") -> str:
        return read_csrf(client.get(path).get_data(as_text=True))
    return read


@pytest.fixture(scope="module")
def live_server(sqlite_template, tmp_path_factory):
    """The demo hall (agency.demo.build_demo) served on 127.0.0.1 at a free port; ``live_server("/path")`` is a URL."""
    from agency import clock
    from agency.demo import build_demo
    from agency.extensions import db
    from tests.support import make_app

    folder = tmp_path_factory.mktemp("live")
    path = folder / "agency.db"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}", folder, LOGIN_RATE_LIMIT="1000 per minute")
    with app.app_context():
        build_demo(db.session, clock.now())
        db.session.commit()
        db.session.remove()
    server = browser_support.LiveServer(app).start()
    yield server
    server.stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, shared by the run."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:  # pragma: no cover - the dev requirements install it
        browser_support.unavailable(f"playwright is not installed: {error}")
    browser_support.chromium_path()
    manager = sync_playwright().start()
    try:
        chromium = browser_support.launch(manager)
    except Exception as error:  # noqa: BLE001
        manager.stop()
        browser_support.unavailable(f"Chromium did not start: {error}")
    yield chromium
    chromium.close()
    manager.stop()


@pytest.fixture
def open_page(browser):
    """``open_page(viewport=None, locale="zh-CN")`` -> a page in its own context, closed after the test."""
    contexts = []

    def open_(viewport: dict | None = None, locale: str = "zh-CN"):
        page = browser_support.new_page(browser, viewport, locale)
        contexts.append(page.context)
        return page
    yield open_
    for context in contexts:
        context.close()
