"""In Chromium, axe-core (static/vendor/axe-core, the npm package's axe.min.js) checks every role's main
pages, at desktop and phone width, in Chinese and English: a serious or critical violation fails.

axe is loaded from the app's own static folder with Playwright's add_script_tag, so the pages' CSP
(script-src 'self') stays on while it runs; no page ever loads it by itself."""
import pytest

from agency.demo import PASSWORD
from tests.browser_support import DESKTOP, PHONE, screenshot, sign_in
from tests.web.role_pages import PUBLIC_PAGES, ROLE_PAGES, main_pages

pytestmark = pytest.mark.browser
AXE = "/static/vendor/axe-core/axe.min.js"
FAILING = ("serious", "critical")
RUN = """() => axe.run(document, {resultTypes: ["violations"]}).then(result => result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " — "
                                        + (n.failureSummary || "").split("\\n").slice(1, 2).join(""))
})))"""


def violations(page, server) -> list[dict]:
    page.add_script_tag(url=server(AXE))
    return [v for v in page.evaluate(RUN) if v["impact"] in FAILING]


def check(page, server, paths) -> dict:
    found = {}
    for path in paths:
        response = page.goto(server(path))
        assert response.status == 200, path
        page.wait_for_load_state("load")
        bad = violations(page, server)
        if bad:
            found[path] = [f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in bad]
    return found


# Chinese at both widths for every role; English at desktop width (the same markup, other words).
CASES = [(user, "desktop", "zh-CN") for user in ROLE_PAGES] + [(user, "phone", "zh-CN") for user in ROLE_PAGES] + [
    (user, "desktop", "en-US") for user in ROLE_PAGES]


@pytest.mark.parametrize("username,width,locale", CASES)
def test_main_pages_have_no_serious_accessibility_violation(live_server, open_page, username, width, locale):
    page = open_page(DESKTOP if width == "desktop" else PHONE, locale)
    sign_in(page, live_server, username, PASSWORD)
    found = check(page, live_server, main_pages(live_server.app, username))
    assert found == {}, "axe: " + "\n".join(f"{path}: {v}" for path, vs in found.items() for v in vs)
    screenshot(page, f"a11y-{username}-{width}-{locale[:2]}", full_page=False)


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_public_pages_have_no_serious_accessibility_violation(live_server, open_page, locale):
    page = open_page(PHONE, locale)
    found = check(page, live_server, PUBLIC_PAGES)
    assert found == {}, "axe: " + "\n".join(f"{path}: {v}" for path, vs in found.items() for v in vs)


def test_axe_is_the_vendored_package_and_finds_a_real_violation(live_server, open_page):
    """The check can fail: a form field without a label is reported as critical."""
    page = open_page(DESKTOP)
    page.goto(live_server("/login"))
    page.evaluate("() => { const i = document.createElement('input'); i.type = 'text'; i.id = 'unlabelled';"
                  " document.querySelector('main').appendChild(i); }")
    bad = violations(page, live_server)
    assert page.evaluate("axe.version").startswith("4.")
    assert any(v["id"] == "label" and "#unlabelled" in " ".join(v["nodes"]) for v in bad)
