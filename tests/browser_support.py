"""Helpers behind the browser fixtures (tests/web/conftest.py): a live server
in a thread, Debian's Chromium through Playwright's sync API, sign-in and
screenshots.

Chromium is Debian's (/usr/bin/chromium, installed by scripts/bootstrap);
Playwright's own browser download is never used.  Without it the browser
tests skip, unless AGENCY_REQUIRE_SERVICES=1, where they fail.
"""
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.support import ROOT

CHROMIUM = os.environ.get("AGENCY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def require_services() -> bool:
    return os.environ.get("AGENCY_REQUIRE_SERVICES") == "1"


def unavailable(reason: str):
    """Skip, or fail when the services (and so the browser) are required."""
    if require_services():
        pytest.fail(f"{reason} (AGENCY_REQUIRE_SERVICES=1: browser tests may not skip)")
    pytest.skip(reason)


def chromium_path() -> str:
    path = CHROMIUM if os.path.isabs(CHROMIUM) else shutil.which(CHROMIUM)
    if not path or not os.access(path, os.X_OK):
        unavailable(f"Chromium not found at {CHROMIUM} (install Debian's chromium: scripts/bootstrap test)")
    return path


class _QuietHandler(WSGIRequestHandler):
    """Errors are still logged; the line per request is not."""

    def log_request(self, *args, **kwargs) -> None:
        pass


class LiveServer:
    """A WSGI app served by werkzeug on 127.0.0.1 and a free port, in a daemon thread."""

    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"live-server-{self.port}", daemon=True)

    def start(self) -> "LiveServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __call__(self, path: str = "/") -> str:
        return self.url + path


def launch(playwright):
    """Debian's Chromium, headless."""
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)


def new_page(browser, viewport: dict | None = None, locale: str = "zh-CN"):
    """A fresh context (own cookies) and page.  Chromium's default Accept-Language is English, so set it."""
    context = browser.new_context(viewport=viewport or DESKTOP, locale=locale,
                                  extra_http_headers={"Accept-Language": locale})
    context.set_default_timeout(10_000)
    return context.new_page()


def sign_in(page, server: LiveServer, username: str, password: str) -> None:
    """Through the login form, as a person would; waits for the home page."""
    page.goto(server("/login"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/home$"))


def screenshot(page, name: str, full_page: bool = True) -> Path:
    """Save under test-output/screenshots/ at the repository root and return the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
