"""Each role signs in through the login page in Chromium and lands on its home
page; screenshots at laptop and phone width go to test-output/screenshots/."""
import re

import pytest

from agency.demo import PASSWORD
from tests.browser_support import DESKTOP, PHONE, screenshot, sign_in

pytestmark = pytest.mark.browser

ROLES = {  # demo username -> (greeting, role label)
    "director": ("欢迎，王主任", "大厅主任"),
    "agent1": ("欢迎，李代办", "代办员"),
    "ent1": ("欢迎，张经理", "企业"),
    "fgw_a": ("欢迎，发改A角", "部门联络员"),
}


def watch_console(page) -> list[str]:
    """Console errors of the page (a CSP violation shows up here)."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def fits_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("username", list(ROLES))
def test_role_signs_in_and_lands_on_home(username, live_server, open_page):
    greeting, role = ROLES[username]
    page = open_page(DESKTOP)
    errors = watch_console(page)
    sign_in(page, live_server, username, PASSWORD)
    assert page.url == live_server("/home")
    heading = page.locator("main h1")
    assert heading.is_visible() and heading.inner_text() == greeting
    assert page.locator(".hero .role-label").inner_text() == role
    assert page.locator(".topbar .role-tag").inner_text() == role
    assert page.locator(".tiles .tile").count() >= 1
    assert page.locator("nav.nav a.active").inner_text() == "首页"
    if username == "director":
        assert page.locator(".banner").is_visible()
    screenshot(page, f"home-{username}-desktop")
    assert errors == []


@pytest.mark.parametrize("username", ["director", "ent1"])
def test_home_at_phone_width(username, live_server, open_page):
    page = open_page(PHONE)
    errors = watch_console(page)
    sign_in(page, live_server, username, PASSWORD)
    assert page.locator("main h1").is_visible()
    assert page.locator("nav.nav").is_visible()
    assert fits_width(page), "the page scrolls sideways at phone width"
    screenshot(page, f"home-{username}-phone")
    assert errors == []


def test_login_page_at_both_widths(live_server, open_page):
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_page(viewport)
        errors = watch_console(page)
        page.goto(live_server("/login"))
        assert page.locator("input[name=username]").is_visible()
        assert fits_width(page)
        screenshot(page, f"login-{name}")
        assert errors == []


def test_wrong_password_shows_an_error(live_server, open_page):
    page = open_page(DESKTOP)
    page.goto(live_server("/login"))
    page.fill("input[name=username]", "agent1")
    page.fill("input[name=password]", "wrong-password")
    page.click("form:has(input[name=password]) button[type=submit]")
    assert page.locator(".field .error").inner_text() == "用户名或密码不正确"


def test_switch_to_english(live_server, open_page):
    page = open_page(DESKTOP)
    errors = watch_console(page)
    sign_in(page, live_server, "director", PASSWORD)
    page.locator(".lang-switch button").click()
    page.wait_for_url(re.compile(r".*/home$"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("main h1").inner_text() == "Welcome, 王主任"
    assert page.locator(".hero .role-label").inner_text() == "Hall director"
    assert page.locator("nav.nav a.active").inner_text() == "Home"
    assert page.locator(".lang-switch button").inner_text() == "中文"
    screenshot(page, "home-director-desktop-en")
    page.locator("nav.nav a[href=\"/catalog/\"]").click()
    assert page.locator("main h1").inner_text() == "Agency service catalog"
    screenshot(page, "catalog-desktop-en")
    page.locator(".lang-switch button").click()
    assert page.locator("main h1").inner_text() == "代办事项目录"
    assert errors == []


def test_catalog_filter_in_the_browser(live_server, open_page):
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_page(viewport)
        sign_in(page, live_server, "agent1", PASSWORD)
        page.goto(live_server("/catalog/"))
        everything = page.locator("table.catalog tbody tr").count()
        page.select_option("#department", "ZJ")
        page.locator("form.filters button[type=submit]").click()
        page.wait_for_url(re.compile(r".*department=ZJ"))
        rows = page.locator("table.catalog tbody tr")
        assert 0 < rows.count() < everything
        assert all(code.startswith("ZJ-") for code in rows.locator("td:first-child").all_inner_texts())
        assert fits_width(page)
        screenshot(page, f"catalog-{name}")
