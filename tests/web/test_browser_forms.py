"""In Chromium, at desktop and phone width, in Chinese and English (#13.3, #13.4): a comment with a mention
goes from a liaison to the agent and, when public, to the enterprise; the meeting record form keeps its
radios after an error and scrolls to it; an upload over the size limit comes back to its form; a submit
button disables itself while its request is in flight and comes back with the page."""
import re
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from agency.demo import PASSWORD
from tests.browser_support import DESKTOP, PHONE, screenshot, sign_in

pytestmark = pytest.mark.browser

FACTORY = "年产十万台精密机床项目"  # agent1's IND_PERMIT project: ZRGH-01 accepted by zrgh_a, FGW answered
FILING = "二期仓储物流中心竣工验收"  # ent1's completion acceptance: 竣工图纸 returned in pre-review
SETTINGS = [pytest.param(DESKTOP, "zh-CN", id="desktop-zh"), pytest.param(PHONE, "en-US", id="phone-en")]


def _in_app(app, read):
    from agency.extensions import db
    with app.app_context():
        try:
            return read(db.session)
        finally:
            db.session.remove()


def _project_id(app, name):
    from agency.projects.models import Project
    return _in_app(app, lambda s: s.scalar(select(Project.id).where(Project.name == name)))


def _task_id(app, code):
    from agency.catalog.models import ApprovalItem
    from agency.projects.models import Project
    from agency.tasks.models import Task
    return _in_app(app, lambda s: s.scalar(select(Task.id).join(Project).join(ApprovalItem).where(
        Project.name == FACTORY, ApprovalItem.code == code)))


def _lang(locale: str) -> str:
    return locale[:2]


def fits_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def shot(page, name: str, viewport, locale) -> None:
    if viewport == PHONE:
        assert fits_width(page), f"{name} scrolls sideways at phone width"
    screenshot(page, f"forms-{name}-{'phone' if viewport == PHONE else 'desktop'}-{_lang(locale)}")


@pytest.mark.parametrize("viewport, locale", SETTINGS)
def test_a_comment_with_a_mention_reaches_the_agent_and_a_public_one_the_enterprise(live_server, open_page,
                                                                                     viewport, locale):
    app = live_server.app
    task = _task_id(app, "ZRGH-01")
    project = _project_id(app, FACTORY)
    marker = f"{_lang(locale)}-{viewport['width']}"

    liaison = open_page(viewport, locale)
    sign_in(liaison, live_server, "zrgh_a", PASSWORD)
    liaison.goto(live_server(f"/tasks/{task}"))
    form = liaison.locator("form.comment-form")
    form.locator("textarea[name=body]").fill(f"@agent1 规划条件附图缺坐标 {marker}")
    assert form.locator("input[name=visibility][value=internal]").is_checked()  # internal unless chosen
    shot(liaison, "comment-form", viewport, locale)
    form.locator("button[type=submit]").click()
    liaison.wait_for_url(re.compile(rf".*/tasks/{task}#comment-\d+$"))
    internal = liaison.locator("li.comment", has_text=f"规划条件附图缺坐标 {marker}")
    expect(internal).to_have_class(re.compile("comment-internal"))

    agent = open_page(viewport, locale)
    sign_in(agent, live_server, "agent1", PASSWORD)
    agent.goto(live_server("/inbox"))
    agent.locator(f"a[href='/tasks/{task}']").first.click()
    agent.wait_for_url(re.compile(rf".*/tasks/{task}$"))
    expect(agent.locator("li.comment", has_text=f"规划条件附图缺坐标 {marker}")).to_be_visible()
    reply = agent.locator("form.comment-form")
    reply.locator("textarea[name=body]").fill(f"@ent1 请补充带坐标的规划条件附图 {marker}")
    reply.locator("input[name=visibility][value=public]").check()
    reply.locator("button[type=submit]").click()
    agent.wait_for_url(re.compile(rf".*/tasks/{task}#comment-\d+$"))
    shot(agent, "comment-thread", viewport, locale)

    enterprise = open_page(viewport, locale)
    sign_in(enterprise, live_server, "ent1", PASSWORD)
    enterprise.goto(live_server("/inbox"))
    enterprise.locator(f"a[href='/projects/{project}#comments']").first.click()
    comments = enterprise.locator("#comments")
    expect(comments.locator("li.comment", has_text=f"请补充带坐标的规划条件附图 {marker}")).to_be_visible()
    assert comments.locator("li.comment", has_text="规划条件附图缺坐标").count() == 0  # internal: never shown
    assert "规划条件附图缺坐标" not in enterprise.content()
    comments.scroll_into_view_if_needed()
    shot(enterprise, "comment-enterprise", viewport, locale)


def _meeting(app, project_id, hour):
    """A joint review of the factory project in three working days, FGW and ZRGH invited (delivered)."""
    from agency import clock
    from agency.calendar.services import get_calendar
    from agency.meetings.services import schedule_meeting
    from agency.people.models import User
    from agency.projects.models import Project
    from workers.worker import drain

    def make(session):
        today = clock.local(clock.now()).date()
        day = get_calendar(session).add_working_days(today, 3)
        starts = datetime.combine(day, time(hour, 0), tzinfo=clock.hall_tz())
        agent = session.scalar(select(User).where(User.username == "agent1"))
        meeting = schedule_meeting(session, clock.now(), agent, session.get(Project, project_id),
                                   kind="pre_review", starts_at=starts, place="二楼小会议室",
                                   department_codes=["FGW", "ZRGH"])
        session.commit()
        return meeting.id, starts
    found = _in_app(app, make)
    drain(app)
    return found


@pytest.mark.parametrize("viewport, locale", SETTINGS)
def test_the_record_form_keeps_its_radios_after_an_error_and_scrolls_to_it(live_server, open_page, clock,
                                                                          viewport, locale):
    app = live_server.app
    meeting_id, starts = _meeting(app, _project_id(app, FACTORY), 10 if viewport == DESKTOP else 14)
    clock.set(starts + timedelta(hours=1))
    page = open_page(viewport, locale)
    sign_in(page, live_server, "agent1", PASSWORD)
    page.goto(live_server(f"/meetings/{meeting_id}"))
    form = page.locator("form.record-attendance")
    form.locator("input[name=attendance-FGW][value=present]").check()
    form.locator("input[name=representative-FGW]").fill("王科长")
    form.locator("select[name=decision-FGW]").select_option("objection")  # its reason left out
    form.locator("input[name=attendance-ZRGH][value=absent]").check()
    form.locator("input[name=opinion-ZRGH]").fill("书面请假")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()

    form = page.locator("form.record-attendance")
    assert form.locator("input[name=attendance-FGW][value=present]").is_checked()
    assert form.locator("input[name=attendance-ZRGH][value=absent]").is_checked()
    assert form.locator("input[name=representative-FGW]").input_value() == "王科长"
    assert form.locator("select[name=decision-FGW]").input_value() == "objection"
    assert form.locator("input[name=opinion-ZRGH]").input_value() == "书面请假"
    opinion = form.locator("input[name=opinion-FGW]")
    expect(opinion).to_have_attribute("aria-invalid", "true")
    expect(opinion).to_be_focused()  # the page went to the first error and put the cursor there
    expect(opinion).to_be_in_viewport()
    shot(page, "record-error", viewport, locale)

    opinion.fill("选址与规划条件不符")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/meetings/\d+#record$"))
    assert form.locator("input[name=attendance-FGW][value=present]").is_checked()  # now as recorded


@pytest.mark.parametrize("viewport, locale", SETTINGS)
def test_an_upload_over_the_size_limit_comes_back_to_its_form(live_server, open_page, viewport, locale):
    app = live_server.app
    project = _project_id(app, FILING)
    saved = app.config["MAX_UPLOAD_BYTES"], app.config["MAX_CONTENT_LENGTH"]
    app.config.update(MAX_UPLOAD_BYTES=64 * 1024, MAX_CONTENT_LENGTH=64 * 1024 + 4096)
    try:
        page = open_page(viewport, locale)
        sign_in(page, live_server, "ent1", PASSWORD)
        page.goto(live_server(f"/projects/{project}/materials"))
        card = page.locator("li.entry", has=page.locator("h2.entry-name", has_text=re.compile("^竣工图纸$")))
        anchor = card.get_attribute("id")
        card.locator("input[type=file]").set_input_files(
            {"name": "竣工图纸.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n" + b"0" * 200_000})
        card.locator("button[type=submit]").click()
        page.wait_for_url(re.compile(rf".*/projects/{project}/materials#{anchor}$"))
        error = page.locator(f"#{anchor} .upload-error")
        expect(error).to_be_visible()
        expect(error).to_contain_text("64 KB")
        expect(error).to_be_in_viewport()
        assert page.locator("h1").count() == 1 and "413" not in page.locator("h1").inner_text()
        shot(page, "upload-too-large", viewport, locale)
    finally:
        app.config.update(MAX_UPLOAD_BYTES=saved[0], MAX_CONTENT_LENGTH=saved[1])


@pytest.mark.parametrize("viewport, locale", SETTINGS)
def test_a_submit_button_is_disabled_in_flight_and_back_after_the_back_button(live_server, open_page,
                                                                               viewport, locale):
    app = live_server.app
    task = _task_id(app, "ZRGH-01")
    page = open_page(viewport, locale)
    sign_in(page, live_server, "zrgh_a", PASSWORD)
    page.goto(live_server(f"/tasks/{task}"))
    # The answer goes to a frame of the page, so the page stays to be read while its request is held.
    page.evaluate("""() => { const sink = document.createElement('iframe'); sink.name = 'sink';
                             document.body.append(sink); document.querySelector('form.comment-form').target = 'sink'; }""")
    held = []
    page.route(re.compile(r".*/tasks/\d+/comments.*"), lambda route: held.append(route))
    form = page.locator("form.comment-form")
    form.locator("textarea[name=body]").fill(f"在途提交 {_lang(locale)}-{viewport['width']}")
    button = form.locator("button[type=submit]")
    with page.expect_request(re.compile(r".*/tasks/\d+/comments.*")):
        button.click()
    expect(button).to_be_disabled()  # in flight
    expect(button).to_have_attribute("aria-busy", "true")
    form.evaluate("f => f.requestSubmit()")  # a second submit while the first is in flight
    shot(page, "submit-in-flight", viewport, locale)
    expect(button).to_be_disabled()
    assert len(held) == 1  # not sent
    held[0].continue_()
    page.unroute(re.compile(r".*/tasks/\d+/comments.*"))

    form.evaluate("f => { f.target = ''; f.removeAttribute('data-submitting'); }")  # now as a person would
    form.locator("textarea[name=body]").fill(f"再次提交 {_lang(locale)}-{viewport['width']}")
    form.evaluate("f => f.querySelectorAll('button').forEach(b => { b.disabled = false; })")
    with page.expect_navigation():
        button.click()
    assert re.search(rf"/tasks/{task}#comment-\d+$", page.url)
    page.go_back()
    page.wait_for_load_state()
    expect(page.locator("form.comment-form button[type=submit]")).to_be_enabled()
