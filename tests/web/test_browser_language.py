"""In Chromium (#13.5, one language at a time): each role switches to English with the header's button and
every one of its main pages (tests/web/role_pages.py) then shows no Chinese outside user data, at desktop
and phone width; back in Chinese the page says so in its <html lang>.  Screenshots under
test-output/screenshots/language-*.png.

The page-by-page check of every GET page in both languages is tests/web/test_one_language.py (test
client); this one looks at what the browser actually shows: visible text only, the same exemptions
(``.user-data``, an element in another ``lang``, code)."""
import re

import pytest

from agency.demo import PASSWORD
from tests.browser_support import DESKTOP, PHONE, screenshot, sign_in
from tests.web.role_pages import ROLE_PAGES, main_pages

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# The visible text nodes of the page, outside user data, other-language records and code.
VISIBLE_TEXT = """() => {
  const exempt = '.user-data, [lang]:not(html):not([lang="en"]), code, kbd, samp, script, style, title';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const out = [];
  while (walker.nextNode()) {
    const node = walker.currentNode, element = node.parentElement;
    const text = node.textContent.trim();
    if (!text || !element || element.closest(exempt)) continue;
    if (!element.getClientRects().length) continue;  // not rendered (a closed menu, a hidden panel)
    out.push(text);
  }
  return out;
}"""


@pytest.mark.parametrize("username", list(ROLE_PAGES))
def test_english_pages_show_no_chinese(username, live_server, open_page):
    pages = main_pages(live_server.app, username)
    for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_page(viewport, "zh-CN")
        sign_in(page, live_server, username, PASSWORD)
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        page.locator("form.lang-switch button").click()  # the header's switch, as a person would
        page.wait_for_function("document.documentElement.lang === 'en'")
        leaks = []
        for path in pages:
            page.goto(live_server(path))
            assert page.locator("html").get_attribute("lang") == "en", path
            leaks += [f"{path}: {text}" for text in page.evaluate(VISIBLE_TEXT) if CJK.search(text)]
        assert leaks == [], "\n".join(leaks)
        screenshot(page, f"language-{username}-{width}-en")
        page.locator("form.lang-switch button").click()  # and back
        page.wait_for_function("document.documentElement.lang === 'zh-CN'")
        screenshot(page, f"language-{username}-{width}-zh")
