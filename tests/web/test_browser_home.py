"""In Chromium, on the demo hall: each role lands on what is due (desktop and phone, Chinese and English),
a filtered list keeps its filters in the URL, the liaison answers its most urgent task in two clicks from
sign-in, and the agent opens a project by its project code from another page.  Screenshots under
test-output/screenshots/home-*.png."""
import re

import pytest
from sqlalchemy import func, select

from agency.demo import PASSWORD
from tests.browser_support import DESKTOP, PHONE, screenshot, sign_in

pytestmark = pytest.mark.browser

LOCALES = {"zh": "zh-CN", "en": "en-US"}
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
# demo user -> the heading of a work card its home must show, in Chinese and English
WORK = {
    "fgw_a": ("今天到期", "Due today"),
    "agent1": ("待预审材料", "Materials to pre-review"),
    "ent1": ("待签署委托代办协议", "Agreement to sign"),
    "director": ("今日红牌", "Today's red cards"),
}


def fits_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.mark.parametrize("username", list(WORK))
def test_each_role_lands_on_its_work(username, live_server, open_page):
    for lang, locale in LOCALES.items():
        for width, viewport in WIDTHS.items():
            page = open_page(viewport, locale)
            errors = console_errors(page)
            sign_in(page, live_server, username, PASSWORD)
            heading = WORK[username][0 if lang == "zh" else 1]
            cards = page.locator(".work-card .work-head")
            assert cards.count() >= 3
            assert page.locator(".work-card .work-head", has_text=heading).first.is_visible()
            # every count is a number that links to the list it counts
            for link in page.locator(".work-count[href]").all():
                assert re.fullmatch(r"\d+( 项)?", link.inner_text().strip()), link.inner_text()
            if lang == "en":
                headings = " ".join(page.locator(".work-head, .empty-note, .urgent-label").all_inner_texts())
                assert not re.search(r"[\u4e00-\u9fff]", headings), headings  # no Chinese outside user data
            assert fits_width(page), f"{username} home scrolls sideways at {width}"
            screenshot(page, f"home-{username}-{width}-{lang}")
            assert errors == []


def test_a_filtered_list_keeps_its_filters_in_the_url(live_server, open_page):
    for lang, locale in LOCALES.items():
        for width, viewport in WIDTHS.items():
            page = open_page(viewport, locale)
            sign_in(page, live_server, "director", PASSWORD)
            page.goto(live_server("/projects/all"))
            page.locator("form.filters select[name=status]").select_option("in_progress")
            page.locator("form.filters input[name=q]").fill("项目")
            page.locator("form.filters button[type=submit]").click()
            page.wait_for_url(re.compile(r".*/projects/all\?.*status=in_progress"))
            assert "q=%E9%A1%B9%E7%9B%AE" in page.url
            rows = page.locator("table.projects-all tbody tr:not(.empty)")
            assert rows.count() >= 1
            assert page.locator("form.filters input[name=q]").input_value() == "项目"
            shared = page.url  # the same list, opened from the link alone
            other = open_page(viewport, locale)
            sign_in(other, live_server, "director", PASSWORD)
            other.goto(shared)
            assert other.locator("table.projects-all tbody tr:not(.empty)").count() == rows.count()
            assert fits_width(page)
            screenshot(page, f"home-filtered-list-{width}-{lang}")


def _open_task_count(app, username) -> int:
    from agency.extensions import db
    from agency.people.models import User
    from agency.tasks.models import OPEN_STATUSES, Task
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        count = len(db.session.scalars(select(Task.id).where(Task.department_id == user.department_id,
                                                             Task.status.in_(OPEN_STATUSES))).all())
        db.session.remove()
    return count


def _dispatch_a_project(app) -> None:
    """A new project of the demo agent with its first stage dispatched: FGW and ZRGH get running tasks."""
    from agency import clock
    from agency.audit.services import Actor
    from agency.extensions import db
    from agency.people.models import User
    from agency.projects.services import dispatch_stage, entrust_project
    from tests.support import ENTRUST, ready_for_dispatch
    with app.app_context():
        agent, enterprise = (db.session.scalar(select(User).where(User.username == name))
                             for name in ("agent1", "ent1"))
        project = entrust_project(db.session, clock.now(), agent, enterprise_id=enterprise.id,
                                  **{**ENTRUST, "name": "两次点击答复项目"})
        db.session.commit()
        ready_for_dispatch(db.session, clock.now(), project)
        dispatch_stage(db.session, clock.now(), Actor.of(agent), project)
        db.session.commit()
        db.session.remove()


def test_liaison_answers_its_most_urgent_task_in_two_clicks(live_server, open_page):
    _dispatch_a_project(live_server.app)
    for (width, viewport), liaison in zip(WIDTHS.items(), ("fgw_a", "zrgh_a")):
        page = open_page(viewport)
        sign_in(page, live_server, liaison, PASSWORD)  # sign-in lands on the home page
        before = _open_task_count(live_server.app, liaison)
        assert before >= 1
        clicks = 0
        urgent = page.locator("#urgent-task")
        task_url = urgent.get_attribute("href")
        screenshot(page, f"home-liaison-journey-1-{width}")
        urgent.click()
        clicks += 1
        page.wait_for_url(re.compile(r".*/tasks/\d+$"))
        assert page.url.endswith(task_url)
        form = page.locator("form.answer-form")
        assert form.is_visible() or form.count() == 1
        form.locator("select[name=decision]").select_option("consent")  # the default: choosing is not a click
        screenshot(page, f"home-liaison-journey-2-{width}")
        form.locator("button[type=submit]").click()
        clicks += 1
        page.wait_for_load_state()
        assert clicks <= 2
        assert _open_task_count(live_server.app, liaison) == before - 1  # answered, for real
        screenshot(page, f"home-liaison-journey-3-{width}")


def _coded_project(app) -> tuple[str, str]:
    from agency.extensions import db
    from agency.people.models import User
    from agency.projects.models import Project
    from agency.web.home import carried_by
    with app.app_context():
        agent = db.session.scalar(select(User).where(User.username == "agent1"))
        unique = select(Project.project_code).group_by(Project.project_code).having(func.count() == 1)
        project = db.session.scalar(select(Project).where(carried_by(agent), Project.project_code.in_(unique))
                                    .order_by(Project.id))
        result = project.project_code, project.name
        db.session.remove()
    return result


def test_agent_finds_a_project_by_its_project_code_from_another_page(live_server, open_page):
    code, name = _coded_project(live_server.app)
    for lang, locale in LOCALES.items():
        for width, viewport in WIDTHS.items():
            page = open_page(viewport, locale)
            sign_in(page, live_server, "agent1", PASSWORD)
            page.goto(live_server("/meetings/"))
            box = page.locator("header .global-search input[name=q]")
            assert box.is_visible()
            box.fill(code)
            box.press("Enter")
            page.wait_for_url(re.compile(r".*/projects/\d+$"))
            assert name in page.locator("main h1").inner_text()
            assert fits_width(page)
            screenshot(page, f"home-agent-found-by-code-{width}-{lang}")
