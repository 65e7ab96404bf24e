"""The public pages of R19 through the test client: the service guide, an item of it and the quarterly
disclosure, without signing in, in Chinese and English, readable at phone width, naming nobody."""
import re

import pytest
from lxml import html as lxml_html

from tests.support import ROOT
from tests.supervision.conftest import build  # noqa: F401  (fixture)
from tests.supervision.fixture_week import build_week

EN = {"Accept-Language": "en"}
PHONE_PX = 390
CONTAINER_PADDING_PX = 2 * 0.8 * 16  # .container at phone width
PUBLIC = ["/guide", "/guide?department=ZRGH", "/guide/FGW-03", "/guide/ZJ-04", "/disclosure",
          "/disclosure?quarter=2026Q3"]
NAMES = ("甲代办员", "乙代办员", "王经理", "杭州秘密精工有限公司", "造数公司", "精密机床", "食品科技开办", "联系人")


def text(response) -> str:
    return response.get_data(as_text=True)


def visible_text(page: str) -> str:
    return " ".join(lxml_html.fromstring(page).text_content().split())


@pytest.fixture
def world(session, build, make_user, clock):
    """The hand-computed week of tests/supervision (fourth quarter of 2026), people with names; 5 January 2027."""
    agents = (make_user("agent", "fa", name="甲代办员"), make_user("agent", "fb", name="乙代办员"))
    make_user("enterprise", "corp", name="王经理", organization="杭州秘密精工有限公司")
    build_week(build, agents)
    session.commit()
    clock.set("2027-01-05T10:00:00+08:00")


@pytest.mark.parametrize("path", PUBLIC)
@pytest.mark.parametrize("headers", [{}, EN], ids=["zh", "en"])
def test_public_pages_render_without_sign_in_and_name_nobody(client, catalog, world, path, headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 200, text(response)[:1000]
    page = text(response)
    assert ('<html lang="en">' in page) == bool(headers)
    found = [name for name in NAMES if name in page]
    assert found == [], f"{path} names {found}"


def test_guide_lists_departments_and_items_with_stars(client, catalog):
    page = text(client.get("/guide"))
    shown = visible_text(page)
    assert "发展和改革局" in shown and "自然资源和规划局" in shown
    assert "企业投资项目备案" in shown and "★★★★★ 5星" in shown and "★★★★☆ 4星" in shown
    assert "共 23 项" in shown
    assert '<a class="guide-item-name" href="/guide/FGW-03">固定资产投资项目节能审查</a>' in page
    assert 'href="/disclosure"' in page
    english = visible_text(text(client.get("/guide", headers=EN)))
    assert "Service guide" in english and "★★★★☆ 4-star" in english and "办事指南" not in english


def test_guide_filters_by_department(client, catalog):
    page = text(client.get("/guide?department=FGW"))
    assert re.findall(r'href="/guide/([A-Z]+-\d+)"', page) == ["FGW-01", "FGW-02", "FGW-03"]
    assert '<option value="FGW" selected>' in page
    unknown = client.get("/guide?department=NOPE")
    assert unknown.status_code == 400
    assert "没有编码为“NOPE”的部门" in text(unknown)
    assert len(re.findall(r'href="/guide/[A-Z]+-\d+"', text(unknown))) == 23  # every item, said so


def test_item_page_gives_everything_of_the_guide(client, catalog):
    shown = visible_text(text(client.get("/guide/FGW-03")))
    for fact in ("固定资产投资项目节能审查", "发展和改革局", "《固定资产投资项目节能审查办法》第三条", "节能报告",
                 "项目备案证明 可容缺", "20 个工作日", "10 个工作日", "免费", "★★★★☆ 4星",
                 "适用：部门逾期未答复视为同意。", "可容缺的材料：项目备案证明", "节能审查意见"):
        assert fact in shown, fact
    english = visible_text(text(client.get("/guide/FGW-03", headers=EN)))
    for fact in ("Legal basis", "20 working days", "★★★★☆ 4-star", "May be deferred", "Deemed consent on timeout"):
        assert fact in english, fact
    assert client.get("/guide/NOPE-99").status_code == 404


def test_disclosure_page_defaults_to_the_last_closed_quarter(client, catalog, world, clock):
    page = text(client.get("/disclosure"))
    shown = visible_text(page)
    assert "季度公示 · 2026年第4季度" in shown
    assert '<option value="2026Q4" selected>2026年第4季度</option>' in page
    assert '<option value="2026Q3">' in page and "2027Q1" not in page  # closed quarters only
    fgw = re.search(r'<tr><td class="title" data-label="部门">发展和改革局</td>(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'<td class="num" data-label="[^"]+">([^<]*)</td>', fgw) == ["8", "62.5%", "1", "2", "3.0"]
    assert "Q4 2026" in visible_text(text(client.get("/disclosure", headers=EN)))
    bad = client.get("/disclosure?quarter=2027Q1")
    assert bad.status_code == 400
    assert "“2027Q1”不是已结束的季度" in text(bad) and "2026年第4季度" in text(bad)
    clock.set("2026-11-23T09:00:00+08:00")
    assert "2026年第3季度" in visible_text(text(client.get("/disclosure")))


def test_sign_in_page_and_footer_link_the_public_pages(client, catalog):
    login = text(client.get("/login"))
    assert 'href="/guide"' in login and 'href="/disclosure"' in login
    footer = text(client.get("/guide/FGW-01")).split('<footer class="footer">')[1]
    assert 'href="/guide"' in footer and 'href="/disclosure"' in footer


# -- phone width (390 px), checked on the markup and the style sheet --------------------------------------


def _css_rules() -> list[tuple[str, str]]:
    """(selector, declarations) of the screen rules of app.css (the print block, last, left out)."""
    css = re.sub(r"/\*.*?\*/", "", (ROOT / "static" / "css" / "app.css").read_text(encoding="utf-8"), flags=re.S)
    css = css[:css.index("@media print")]
    return [(selector.strip(), body) for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)]


def _px(amount: str, unit: str) -> float:
    return float(amount) * {"px": 1, "rem": 16, "em": 16}[unit]


def _rules_of(rules, classes: set[str]):
    for selector, body in rules:
        if any(re.search(rf"\.{re.escape(c)}(?![\w-])", selector) for c in classes):
            yield selector, body


@pytest.mark.parametrize("path", ["/guide", "/guide/FGW-02", "/guide/ZRGH-01", "/disclosure"])
def test_public_pages_fit_a_phone(client, catalog, path):
    """Nothing is wider than 390 px: no fixed width beyond it in the rules of the classes the page uses,
    every table scrolls inside its own box (or turns into cards), text that may not wrap stays short, and
    the viewport is the device's."""
    page = text(client.get(path))
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    tree = lxml_html.fromstring(page)
    classes = {c for element in tree.iter() if isinstance(element.tag, str)
               for c in (element.get("class") or "").split()}
    rules = _css_rules()
    too_wide = [(selector, f"{prop}: {amount}{unit}") for selector, body in _rules_of(rules, classes)
                for prop, amount, unit in re.findall(r"(?<![\w-])(min-width|width|flex-basis)\s*:\s*([\d.]+)(px|rem|em)",
                                                     body)
                if _px(amount, unit) > PHONE_PX - CONTAINER_PADDING_PX]
    assert too_wide == []
    for table in tree.iter("table"):
        assert any("table-wrap" in (a.get("class") or "").split() for a in table.iterancestors()), \
            "a table outside .table-wrap widens the page"
    nowrap = {c for selector, body in _rules_of(rules, classes) if re.search(r"white-space\s*:\s*nowrap", body)
              for c in re.findall(r"\.([\w-]+)", selector.split(",")[0].split()[-1])} & classes
    long_ = [element.text_content().strip() for element in tree.iter() if isinstance(element.tag, str)
             and set((element.get("class") or "").split()) & nowrap and len(element.text_content().strip()) > 22]
    assert long_ == [], "text that may not wrap is too long for a phone"
    details = next(body for selector, body in rules if selector == "dl.details dd")
    assert "overflow-wrap: anywhere" in details  # long legal bases and names break inside the line


@pytest.fixture(scope="module")
def guide_server(sqlite_template, tmp_path_factory):
    """A live server holding the sample catalog only: the public pages need nothing else."""
    import shutil

    from agency import clock
    from agency.extensions import db
    from tests.browser_support import LiveServer
    from tests.support import import_sample_catalog, make_app
    folder = tmp_path_factory.mktemp("guide-live")
    shutil.copy(sqlite_template, folder / "agency.db")
    app = make_app(f"sqlite:///{folder / 'agency.db'}", folder)
    with app.app_context():
        import_sample_catalog(db.session, clock.now())
        db.session.remove()
    server = LiveServer(app).start()
    yield server
    server.stop()
    with app.app_context():
        db.engine.dispose()


@pytest.mark.browser
def test_public_pages_fit_a_phone_in_chromium(guide_server, open_page):
    from tests.browser_support import PHONE
    page = open_page(PHONE)
    for path in ("/guide", "/guide/FGW-02", "/guide/ZRGH-01", "/disclosure"):
        page.goto(guide_server(path))
        assert page.locator("main h1").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
