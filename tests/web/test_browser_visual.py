"""In Chromium, pictures and phones (issue #13, points 6 and 7): the workload chart, the navigation
collapsed behind a menu on a phone, no page scrolling sideways at 390 px, the report row that turns
into a download link by itself, and the contact card's print button.  Screenshots at 1280 and 390 px,
in Chinese and English, under test-output/screenshots/."""
import re
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from agency.demo import PASSWORD
from tests.browser_support import DESKTOP, PHONE, screenshot, sign_in
from tests.web.role_pages import ROLE_PAGES, main_pages

pytestmark = pytest.mark.browser
LOCALES = {"zh": "zh-CN", "en": "en-US"}


def watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_workload_chart_and_reachable_actions(live_server, open_page, width, lang):
    viewport = DESKTOP if width == "desktop" else PHONE
    page = open_page(viewport, LOCALES[lang])
    errors = watch_console(page)
    sign_in(page, live_server, "director", PASSWORD)
    page.goto(live_server("/director/workload"))
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
    chart = page.locator("canvas[data-chart=workload][data-drawn=true]")
    chart.wait_for()
    assert chart.bounding_box()["width"] > 200 and chart.get_attribute("aria-label")
    for row in page.locator("table[data-testid=workload] tbody tr[data-agent-id]").all():
        for action in row.locator("td.actions-cell button, td.actions-cell a.button").all():
            action.scroll_into_view_if_needed()
            box = action.bounding_box()
            assert action.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.locator("section.workload-chart").scroll_into_view_if_needed()
    screenshot(page, f"director-workload-chart-{width}-{lang}")
    assert errors == []


def test_rankings_open_on_the_last_full_month_with_the_monthly_chart(live_server, open_page):
    page = open_page(DESKTOP)
    errors = watch_console(page)
    sign_in(page, live_server, "director", PASSWORD)
    page.goto(live_server("/director/rankings"))
    page.locator("canvas[data-chart=months][data-drawn=true]").wait_for()
    start, end = page.locator("input#from").input_value(), page.locator("input#to").input_value()
    assert start.endswith("-01") and start[:7] == end[:7] and start[:7] < page.evaluate(
        "new Date().toISOString().slice(0, 7)")  # a whole month before this one
    page.locator("input#from").fill(end)
    page.locator("input#to").fill(start)
    page.locator("form.filters button[type=submit]").click()
    assert "晚于" in page.locator(".period-error").inner_text()  # refused, not swapped
    screenshot(page, "director-rankings-reversed-desktop-zh")
    assert [e for e in errors if "status of 400" not in e] == []  # the refused range answers 400, nothing else


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_navigation_collapses_on_a_phone(live_server, open_page, lang):
    page = open_page(PHONE, LOCALES[lang])
    sign_in(page, live_server, "director", PASSWORD)
    page.goto(live_server("/director/workload"))
    menu = page.locator("nav.nav details.nav-menu")
    links = menu.locator(".nav-inner a")
    assert menu.get_attribute("open") is None and not links.first.is_visible()
    heading = page.locator("main h1")
    assert heading.bounding_box()["y"] + heading.bounding_box()["height"] < PHONE["height"] / 2  # the first screen
    assert page.locator("main").bounding_box()["y"] < 160
    screenshot(page, f"nav-collapsed-phone-{lang}", full_page=False)
    summary = menu.locator("summary")
    assert summary.inner_text().startswith("菜单" if lang == "zh" else "Menu")
    summary.click()
    assert menu.get_attribute("open") is not None and links.first.is_visible()
    assert page.evaluate("document.querySelector('details.nav-menu summary').getAttribute('role')") is None
    screenshot(page, f"nav-open-phone-{lang}", full_page=False)
    links.filter(has_text=re.compile("排名|Rankings")).first.click()
    page.wait_for_url(re.compile(r".*/director/rankings$"))

    desktop = open_page(DESKTOP, LOCALES[lang])
    sign_in(desktop, live_server, "director", PASSWORD)
    assert not desktop.locator("details.nav-menu summary").is_visible()
    assert desktop.locator("details.nav-menu .nav-inner a").first.is_visible()  # no click needed on a desktop


@pytest.mark.parametrize("username", list(ROLE_PAGES))
def test_no_page_scrolls_sideways_at_phone_width(live_server, open_page, username):
    page = open_page(PHONE)
    sign_in(page, live_server, username, PASSWORD)
    wide = {}
    for path in main_pages(live_server.app, username):
        response = page.goto(live_server(path))
        assert response.status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[path] = width
    assert wide == {}, f"pages wider than {PHONE['width']} px: {wide}"
    screenshot(page, f"phone-last-page-{username}", full_page=False)


def test_public_pages_fit_a_phone(live_server, open_page):
    from tests.web.role_pages import PUBLIC_PAGES
    page = open_page(PHONE, "en-US")
    for path in PUBLIC_PAGES:
        page.goto(live_server(path))
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_report_row_turns_into_a_download_link(live_server, open_page, clock, width):
    """The director asks for a report; its row says it is being generated, the reports queue runs it (inline,
    as the report tests do), and the row becomes the download links without a reload."""
    from agency.supervision.reports import last_complete
    from workers.worker import drain

    now = clock.set(datetime(2026, 12, 8, 2, 0, tzinfo=timezone.utc) if width == "desktop"
                    else datetime(2026, 12, 15, 2, 0, tzinfo=timezone.utc))  # Tuesdays, 10:00 in Shanghai
    key = f"weekly:{last_complete('weekly', now.date()).start.isoformat()}"
    page = open_page(DESKTOP if width == "desktop" else PHONE)
    sign_in(page, live_server, "director", PASSWORD)
    page.goto(live_server("/director/reports"))
    page.locator("select#period").select_option("weekly")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/director/reports$"))
    row = page.locator(f"tr[data-report-key='{key}']")
    assert row.get_attribute("data-state") == "pending" and "生成中" in row.inner_text()
    assert row.locator("a").count() == 0
    screenshot(page, f"director-report-pending-{width}")
    assert drain(live_server.app) >= 1  # the reports queue builds it
    link = page.locator(f"tr[data-report-key='{key}'][data-state=ready] a[href$='.xlsx']")
    link.wait_for()  # the page asks the status endpoint by itself
    assert page.url.endswith("/director/reports")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".xlsx")
    screenshot(page, f"director-report-ready-{width}")


def test_contact_card_prints_from_its_button(live_server, open_page):
    page = open_page(DESKTOP)
    page.add_init_script("window.__printed = 0; window.print = function () { window.__printed += 1; };")
    sign_in(page, live_server, "ent1", PASSWORD)
    page.goto(live_server(main_pages(live_server.app, "ent1")[3]))
    button = page.locator("button[data-print]")
    assert button.inner_text() == "打印联系卡"
    button.click()
    assert page.evaluate("window.__printed") == 1
    page.emulate_media(media="print")
    assert not button.is_visible() and page.locator("article.contact-card").is_visible()
    screenshot(page, "contact-card-print")


OPINION = "同意选址，请在施工图阶段补充排水接驳说明"


def _closed_meeting(app) -> int:
    """A joint review of the demo's construction project, invited, held and closed (services, as the agent)."""
    from agency import clock
    from agency.calendar.services import get_calendar
    from agency.extensions import db
    from agency.meetings import services
    from agency.meetings.models import Meeting
    from agency.people.models import User
    from agency.projects.models import Project
    from workers.worker import drain

    def agent():
        return db.session.scalar(select(User).where(User.username == "agent1"))
    with app.app_context():
        now = clock.now()
        project = db.session.scalar(select(Project).where(Project.name == "年产十万台精密机床项目"))
        day = get_calendar(db.session).add_working_days(clock.local(now).date(), 3)
        starts = datetime.combine(day, time(10, 0), tzinfo=clock.hall_tz())
        meeting_id = services.schedule_meeting(db.session, now, agent(), project, kind="joint_review",
                                               starts_at=starts, place="三楼联审室", department_codes=["ZRGH"]).id
        db.session.commit()
        db.session.remove()
    drain(app)  # the department's queue delivers the invitation
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        services.record_attendance(db.session, starts + timedelta(hours=1), agent(), meeting, [
            {"department_code": "ZRGH", "present": True, "representative": "李科长", "decision": "consent",
             "opinion": OPINION}])
        services.close_meeting(db.session, starts + timedelta(hours=2), agent(), meeting, "同意进入下一阶段")
        db.session.commit()
        db.session.remove()
    return meeting_id


@pytest.fixture(scope="module")
def closed_meeting(live_server):
    return _closed_meeting(live_server.app)


@pytest.mark.parametrize("width,lang", [("desktop", "zh"), ("phone", "en")])
def test_minutes_print_once_from_their_button(live_server, open_page, closed_meeting, width, lang):
    page = open_page(DESKTOP if width == "desktop" else PHONE, LOCALES[lang])
    page.add_init_script("window.__printed = 0; window.print = function () { window.__printed += 1; };")
    sign_in(page, live_server, "agent1", PASSWORD)
    page.goto(live_server(f"/meetings/{closed_meeting}/minutes"))
    assert page.locator("main").inner_text().count(OPINION) == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= (DESKTOP if width == "desktop" else PHONE)["width"]
    page.locator("button[data-print]").click()
    assert page.evaluate("window.__printed") == 1
    page.emulate_media(media="print")
    assert page.locator("main").inner_text().count(OPINION) == 1
    assert not page.locator("button[data-print]").is_visible() and not page.locator("nav.nav").is_visible()
    screenshot(page, f"minutes-print-{width}-{lang}")
