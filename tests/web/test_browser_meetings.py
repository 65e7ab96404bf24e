"""In Chromium: the agent schedules a joint review for the demo's construction project, the invitations
are delivered, a liaison confirms, and at the meeting the agent records attendance and closes it; the
absent, duly invited department is deemed to consent and the minutes show it."""
import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from agency.demo import PASSWORD
from tests.browser_support import DESKTOP, screenshot, sign_in

pytestmark = pytest.mark.browser

PROJECT = "年产十万台精密机床项目"  # the demo's IND_PERMIT project of agent1: ZRGH has open tasks


def _meeting_day(app):
    """10:00 on the third working day from today (hall time), so the invitations arrive in time."""
    from agency import clock
    from agency.calendar.services import get_calendar
    from agency.extensions import db
    with app.app_context():
        today = clock.local(clock.now()).date()
        day = get_calendar(db.session).add_working_days(today, 3)
        starts = datetime.combine(day, time(10, 0), tzinfo=clock.hall_tz())
        db.session.remove()
    return starts


def _project(app):
    from agency.extensions import db
    from agency.projects.models import Project
    with app.app_context():
        project = db.session.scalar(select(Project).where(Project.name == PROJECT))
        result = (project.id, [s.status for s in project.stages])
        db.session.remove()
    return result


def _zrgh_tasks(app, project_id):
    from agency.extensions import db
    from agency.tasks.models import Task
    with app.app_context():
        rows = [(t.stage.order, t.department.code, t.status, t.outcome_reason)
                for t in db.session.scalars(select(Task).where(Task.project_id == project_id))]
        db.session.remove()
    return rows


def test_agent_schedules_and_closes_a_joint_review(live_server, open_page, clock):
    from workers.worker import drain
    app = live_server.app
    project_id, stages = _project(app)
    assert stages[0] == "open"
    starts = _meeting_day(app)

    page = open_page(DESKTOP)
    sign_in(page, live_server, "agent1", PASSWORD)
    page.goto(live_server("/meetings/"))
    page.locator(f"a[href='/meetings/new?project={project_id}']").click()
    page.wait_for_url(re.compile(r".*/meetings/new\?project=\d+$"))
    assert page.locator("input[name=departments][value=ZRGH]").is_checked()  # open tasks: invited by default
    page.locator("select[name=kind]").select_option("joint_review")
    page.locator("input[name=starts_at]").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.locator("input[name=place]").fill("行政服务中心三楼联审室")
    page.locator("input[name=departments][value=FGW]").check()
    screenshot(page, "meetings-schedule")
    page.locator("form.schedule-meeting button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/meetings/\d+$"))
    meeting_url = page.url
    assert page.locator(".flash-success").count() == 1
    assert page.locator("#invitation-ZRGH").inner_text().count("待送达") == 1

    assert drain(app) >= 2  # the department queues deliver the invitations (now: in time)
    page.reload()
    assert "按时送达" in page.locator("#invitation-ZRGH").inner_text()
    assert "按时送达" in page.locator("#invitation-FGW").inner_text()

    liaison = open_page(DESKTOP)
    sign_in(liaison, live_server, "fgw_a", PASSWORD)
    liaison.goto(live_server("/meetings/invitations"))
    liaison.locator(f"a[href='{meeting_url.removeprefix(live_server.url)}']").first.click()
    liaison.locator("form.confirm-attendance input[name=representative]").fill("王科长")
    liaison.locator("form.confirm-attendance button[type=submit]").click()
    liaison.wait_for_url(re.compile(r".*/meetings/\d+$"))
    assert "确认出席：王科长" in liaison.locator("#invitation-FGW").inner_text()

    clock.set(starts + timedelta(hours=2))  # the meeting is over: the agent records and closes
    page.reload()
    page.locator("input[name=attendance-FGW][value=present]").check()
    page.locator("select[name=decision-FGW]").select_option("consent")
    page.locator("input[name=representative-FGW]").fill("王科长")
    page.locator("input[name=attendance-ZRGH][value=absent]").check()
    page.locator("form.record-attendance button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/meetings/\d+#record$"))
    assert "缺席" in page.locator("#invitation-ZRGH").inner_text()
    page.locator("form.close-meeting textarea[name=conclusion]").fill("原则同意，进入工程建设许可阶段")
    page.locator("form.close-meeting button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/meetings/\d+/minutes$"))
    minutes = page.locator("article.minutes").inner_text()
    assert "出席，代表：王科长" in minutes
    assert "视为同意（缺席默认" in minutes and "原则同意，进入工程建设许可阶段" in minutes
    screenshot(page, "meetings-minutes")

    _, stages = _project(app)
    assert stages[:2] == ["closed", "open"]  # ZRGH's open tasks closed by absence: the stage closed
    stage1_zrgh = [(s, st, r) for s, code, st, r in _zrgh_tasks(app, project_id) if code == "ZRGH" and s == 1]
    assert stage1_zrgh and {(st, r) for _, st, r in stage1_zrgh} == {("deemed_consent", "absence")}
