"""The director's pages through the test client: board, assignment, leave, liaisons, settings, rankings,
reports and the supervision board."""
import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import event, select

from agency.calendar.models import CalendarOverride, CalendarYear
from agency.catalog.models import ApprovalItem, ProjectType
from agency.extensions import db
from agency.projects.models import ContactCard
from agency.projects.services import entrust_project
from agency.supervision.models import Escalation
from agency.supervision.reports import build_report
from tests.calendar.arrangements import ARRANGEMENT_2027, without
from tests.support import PASSWORD
from tests.supervision.conftest import at
from tests.supervision.fixture_week import build_week

PAGES = ["/director/workload", "/director/liaisons", "/director/settings", "/director/rankings", "/director/reports",
         "/supervision/", "/users"]


def read_csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


class Browser:
    """The test client, each request in its own application context (as in a real server), so nothing
    cached on ``g`` by one request (the CSRF token, the signed-in user) leaks into the next."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def get(self, path, **kw):
        with self.app.app_context():
            return self.client.get(path, **kw)

    def post(self, path, data=None, page="/director/workload", **kw):
        token = read_csrf(self.get(page).get_data(as_text=True))
        with self.app.app_context():
            return self.client.post(path, data={"csrf_token": token, **(data or {})}, **kw)

    def raw_post(self, path, **kw):
        with self.app.app_context():
            return self.client.post(path, **kw)


@pytest.fixture
def signed_in(app, client, hall, clock, now):
    clock.set(now)

    def sign_in(username="director"):
        browser = Browser(app, client)
        token = read_csrf(browser.get("/login").get_data(as_text=True))
        browser.raw_post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD})
        return browser
    return sign_in


@pytest.fixture
def post(app, client):
    return Browser(app, client).post


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_the_directors(signed_in, path):
    client = signed_in("agent")
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_pages_render(signed_in, session, build, hall, path):
    build_week(build, (hall["agent"], hall["agent2"]))
    session.commit()
    response = signed_in().get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_board_suggests_and_assigns_in_one_action(signed_in, post, session, now, hall, entrust_body):
    project = entrust_project(session, now, hall["ent"], **entrust_body)
    session.commit()
    client = signed_in()
    html = client.get("/director/workload").get_data(as_text=True)
    assert project.name in html and "建议指派 agent" in html and "按推荐指派" in html
    response = post(f"/director/projects/{project.id}/assign", {"agent_id": hall["agent"].id,
                                                                 "next": "/director/workload"})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    session.expire_all()
    assert project.agent_id == hall["agent"].id
    assert session.scalar(select(ContactCard).where(ContactCard.project_id == project.id)).agent_id == hall["agent"].id
    page = client.get("/director/workload").get_data(as_text=True)
    assert "已将" in page and "没有待指派的项目" in page


def test_assign_needs_csrf(signed_in, session, now, hall, entrust_body):
    project = entrust_project(session, now, hall["ent"], **entrust_body)
    session.commit()
    response = signed_in().raw_post(f"/director/projects/{project.id}/assign", data={"agent_id": hall["agent"].id})
    assert response.status_code == 400
    session.expire_all()
    assert project.agent_id is None


def test_leave_reassign_and_skills_from_the_pages(signed_in, post, session, now, hall, entrust_body):
    from agency.projects.services import assign_agent
    project = entrust_project(session, now, hall["ent"], **entrust_body)
    assign_agent(session, now, hall["director"], project, hall["agent"].id)
    session.commit()
    client = signed_in()
    assert project.name in client.get(f"/director/agents/{hall['agent'].id}").get_data(as_text=True)
    post(f"/director/agents/{hall['agent'].id}/reassign", {"target": str(hall["agent2"].id)})
    session.expire_all()
    assert hall["agent"].on_leave is True and project.agent_id == hall["agent2"].id
    post(f"/director/agents/{hall['agent'].id}/leave", {"on_leave": "0"})
    session.expire_all()
    assert hall["agent"].on_leave is False
    post(f"/director/agents/{hall['agent'].id}/skills", {"skills": ["STARTUP", "REAL_ESTATE"]})
    session.expire_all()
    assert hall["agent"].skills == ["REAL_ESTATE", "STARTUP"]
    assert "企业开办" in client.get("/director/workload").get_data(as_text=True)


def test_liaison_leave_and_warning(signed_in, post, session, hall):
    client = signed_in()
    post(f"/director/liaisons/{hall['fgw_a'].id}/leave", {"on_leave": "1"}, page="/director/liaisons")
    post(f"/director/liaisons/{hall['fgw_b'].id}/leave", {"on_leave": "1"}, page="/director/liaisons")
    session.expire_all()
    assert hall["fgw_a"].on_leave and hall["fgw_b"].on_leave
    html = client.get("/director/liaisons").get_data(as_text=True)
    assert "没有可联系联络员的部门：" in html and "发展和改革局" in html
    assert "发展和改革局" in client.get("/director/workload").get_data(as_text=True).split("调整联络员")[0]
    post(f"/director/departments/{hall['fgw_a'].department_id}/swap", page="/director/liaisons")
    session.expire_all()
    assert hall["fgw_a"].liaison_slot == "backup"


def test_calendar_banner_override_and_import(signed_in, post, session, clock):
    clock.set(datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc))
    client = signed_in()
    html = client.get("/director/settings").get_data(as_text=True)
    assert "2027 年日历未确认" in html
    assert "2027 年工作日历未确认" in client.get("/home").get_data(as_text=True)
    post("/director/calendar/overrides", {"day": "2026-12-26", "kind": "workday", "note": "调休"},
         page="/director/settings")
    assert session.scalar(select(CalendarOverride).where(CalendarOverride.day == date(2026, 12, 26))).is_workday
    response = post("/director/calendar/import", {"year": "2027", "text": ARRANGEMENT_2027, "note": "国办发明电"},
                    page="/director/settings", follow_redirects=True)
    assert "已导入 2027 年官方放假安排" in response.get_data(as_text=True)
    assert session.get(CalendarYear, 2027) is not None
    assert "日历未确认" not in client.get("/director/settings").get_data(as_text=True)
    bad = post("/director/calendar/import", {"year": "2028", "text": "date,kind\n"}, page="/director/settings",
               follow_redirects=True)
    assert "导入失败" in bad.get_data(as_text=True)
    partial = post("/director/calendar/import", {"year": "2027", "text": without(ARRANGEMENT_2027, "国庆节")},
                   page="/director/settings", follow_redirects=True).get_data(as_text=True)
    assert "导入失败" in partial and "2027: National Day (国庆节) has no holiday date" in partial
    session.expire_all()
    assert not session.scalar(select(CalendarOverride).where(CalendarOverride.day == date(2027, 10, 1))).is_workday
    post("/director/calendar/overrides/remove", {"day": "2026-12-26"}, page="/director/settings")
    assert session.scalar(select(CalendarOverride).where(CalendarOverride.day == date(2026, 12, 26))) is None


def test_catalog_and_project_type_edits(signed_in, post, session):
    signed_in()
    item = session.scalar(select(ApprovalItem).where(ApprovalItem.code == "ZJ-03"))
    ptype = session.scalar(select(ProjectType).where(ProjectType.code == "IND_PERMIT"))
    second = ptype.stages[1]
    page = f"/director/items/{item.id}"
    post(page, {"name": item.name, "statutory_days": "7", "promised_days": "2", "stage_id": str(second.id)},
         page=page)
    session.expire_all()
    assert (item.promised_days, item.deemed_consent_allowed) == (2, False)
    assert "ZJ-03" in second.item_codes and "ZJ-03" not in ptype.stages[2].item_codes
    refused = post(page, {"name": item.name, "statutory_days": "7", "promised_days": "9", "stage_id": "0"},
                   page=page)
    assert refused.status_code == 200 and "承诺时限不能超过法定时限（7 个工作日）" in refused.get_data(as_text=True)
    type_page = f"/director/project-types/{ptype.id}"
    post(type_page, {"type-name": ptype.name, "type-target_days": "45"}, page=type_page)
    post(f"/director/project-types/{ptype.id}/stages", {"new-name": "竣工", "new-item_codes": "ZJ-05|DA-01"},
         page=type_page)
    post(f"/director/stages/{ptype.stages[0].id}", {f"stage{ptype.stages[0].id}-name": "立项",
                                                    f"stage{ptype.stages[0].id}-item_codes": "FGW-01|NOPE"},
         page=type_page)
    session.expire_all()
    assert ptype.target_days == 45 and [s.name for s in ptype.stages][-1] == "竣工"
    assert ptype.stages[0].name == "立项用地规划许可"  # the unknown code refused the change


def test_rankings_carry_chart_data_and_tables(signed_in, session, build, hall):
    build_week(build, (hall["agent"], hall["agent2"]))
    session.commit()
    html = signed_in().get("/director/rankings?from=2026-11-16&to=2026-11-20").get_data(as_text=True)
    assert 'data-chart="trend"' in html and 'data-chart="departments"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/director-charts.js" in html
    assert "50.0%" in html and "16.7%" in html          # FGW on-time and early rates
    assert "食品科技开办" in html                          # the STARTUP project over its target


@pytest.mark.parametrize("query,message", [
    ("from=2026-11-20&to=2026-11-16", "“从”（2026-11-20）晚于“至”（2026-11-16），请重新选择日期。"),
    ("from=2026-12-01", "“从”（2026-12-01）晚于“至”（2026-11-25），请重新选择日期。"),  # "to" is today
    ("from=2026-13-40", "“2026-13-40”不是有效日期"),
])
def test_rankings_refuse_a_reversed_period_with_a_form_message(signed_in, clock, query, message):
    clock.set("2026-11-25T10:00:00+08:00")
    response = signed_in().get(f"/director/rankings?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'<div class="flash flash-error period-error" role="alert">[^<]*' + re.escape(message), html)
    asked = dict(part.split("=") for part in query.split("&"))
    assert f'name="from" value="{asked["from"]}"' in html  # the dates typed are shown again
    assert "2026-10-01 至 2026-10-31" in html  # the figures shown are the default period's (the last full month)
    ok = signed_in().get("/director/rankings?from=2026-11-16&to=2026-11-20")
    assert ok.status_code == 200 and "period-error" not in ok.get_data(as_text=True)


def test_reports_page_lists_and_downloads(app, signed_in, post, session, now, build, hall, run_jobs):
    build_week(build, (hall["agent"], hall["agent2"]))
    report = build_report(session, now, "weekly", date(2026, 11, 16), app.config["REPORT_DIR"])
    session.commit()
    client = signed_in()
    html = client.get("/director/reports").get_data(as_text=True)
    assert "周报" in html and "2026-11-16" in html
    download = client.get(f"/director/reports/{report.id}.xlsx")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    assert client.get(f"/director/reports/{report.id}.pdf").status_code == 404
    post("/director/reports", {"period": "daily"}, page="/director/reports")
    run_jobs()
    assert "日报" in client.get("/director/reports").get_data(as_text=True)


def test_supervision_board_due_today_and_resolving_an_escalation(signed_in, post, session, build, hall, clock):
    clock.set(at("2026-11-18 09:00"))
    project = build.project(agent=hall["agent"])
    due = build.task(project, item="ZJ-02", status="accepted", started=at("2026-11-04 09:00"),
                     deadline=at("2026-11-18 17:30"))
    late = build.task(project, item="STHJ-01", status="accepted", started=at("2026-10-20 09:00"),
                      deadline=at("2026-11-17 17:30"))
    late.escalated_at = at("2026-11-17 17:31")
    escalation = Escalation(task_id=late.id, project_id=project.id, reason="timeout_deemed_consent_forbidden",
                            at=at("2026-11-17 17:31"))
    session.add(escalation)
    build.card("STHJ", "red", "timeout", at("2026-11-17 17:31"), task=late)
    session.commit()
    client = signed_in()
    html = client.get("/supervision/").get_data(as_text=True)
    escalations, rest = html.split("<h2>今日到期")
    assert "建设工程消防设计审查" in rest.split("<h2>按部门")[0]  # ZJ-02 is due today
    assert "已过期限" not in rest.split("<h2>按部门")[0]  # not yet (17:30)
    clock.set(at("2026-11-18 17:45"))
    overdue = client.get("/supervision/").get_data(as_text=True).split("<h2>今日到期")[1].split("<h2>按部门")[0]
    assert re.search(r'class="row-bad".*?<span class="badge bad">已过期限</span> 2026-11-18 17:30', overdue, re.S)
    clock.set(at("2026-11-18 09:00"))  # colour is not the only sign of a passed deadline
    assert "建设项目环境影响报告表审批" in escalations  # STHJ-01 waits for the director
    assert "生态环境局" in html.split("<h2>按部门")[1] and "agent" in html.split("<h2>按代办员")[1]
    post(f"/supervision/escalations/{escalation.id}/resolve", {f"e{escalation.id}-resolution": "已电话督办，部门承诺今日答复"},
         page="/supervision/")
    session.expire_all()
    assert escalation.resolved_at is not None and escalation.resolved_by_id == hall["director"].id
    assert "没有待督办的事项" in client.get("/supervision/").get_data(as_text=True)
    assert due.id


def _year_row(html: str, year: int) -> str:
    return re.search(rf'<tr data-year="{year}">(.*?)</tr>', html, re.S).group(1)


def _counts(row: str) -> dict[str, int]:
    return {source: int(n) for source, n in re.findall(r'<td class="num" data-source="(\w+)">(\d+)</td>', row)}


def _day_source(row: str, day: str) -> str:
    return re.search(rf'<li data-day="{day}" data-source="(\w+)">', row).group(1)


def test_settings_show_each_years_confirmation_and_date_sources(signed_in, post, session, build, hall, clock):
    clock.set(datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc))
    project = build.project(agent=hall["agent"])
    build.task(project, status="pending", deadline=at("2028-02-01 17:30"))
    session.commit()
    client = signed_in()
    post("/director/calendar/import", {"year": "2027", "text": ARRANGEMENT_2027}, page="/director/settings")
    post("/director/calendar/overrides", {"day": "2027-10-08", "kind": "holiday", "note": "窗口检修"},
         page="/director/settings")
    html = client.get("/director/settings").get_data(as_text=True)
    assert re.findall(r'<tr data-year="(\d+)">', html) == ["2026", "2027", "2028"]

    this_year = _year_row(html, 2026)
    assert "已确认" in this_year and "chinesecalendar 内置数据" in this_year
    assert _counts(this_year) == {"package": 25, "rule": 0, "import": 0, "override": 0}
    assert _day_source(this_year, "2026-10-01") == "package" and _day_source(this_year, "2026-02-28") == "package"

    imported = _year_row(html, 2027)
    assert "已确认" in imported and "官方安排，2026-11-23 导入" in imported
    assert _counts(imported) == {"package": 0, "rule": 0, "import": 33, "override": 1}
    assert _day_source(imported, "2027-10-01") == "import"
    assert _day_source(imported, "2027-10-08") == "override" and "窗口检修" in imported

    by_rule = _year_row(html, 2028)  # only a running deadline brings it in
    assert "未确认" in by_rule and "按法定节假日规则推算" in by_rule
    counts = _counts(by_rule)
    assert counts["rule"] > 0 and counts["package"] == counts["import"] == counts["override"] == 0
    assert _day_source(by_rule, "2028-10-02") == "rule"  # National Day by rule, a Monday
    english = client.get("/director/settings", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "By rule (holidays, unconfirmed)" in _year_row(english, 2028) and "Not confirmed" in _year_row(english, 2028)
    assert "Official arrangement, imported 2026-11-23" in _year_row(english, 2027)


def test_banner_covers_every_year_a_running_deadline_falls_in(signed_in, post, session, build, hall, clock):
    clock.set(datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc))
    project = build.project(agent=hall["agent"])
    build.task(project, status="accepted", deadline=at("2029-01-05 17:30"))  # running: 2029, and 2028 on the way
    build.task(project, status="answered", deadline=at("2031-03-03 17:30"))  # closed: its year does not matter
    build.task(project, status="supplement", deadline=at("2032-03-03 17:30"))  # clock stopped
    session.commit()
    client = signed_in()
    post("/director/calendar/import", {"year": "2027", "text": ARRANGEMENT_2027}, page="/director/settings")

    banner = client.get("/director/workload").get_data(as_text=True)
    assert "工作日历未确认" in banner and "2028、2029 年的官方放假安排尚未导入" in banner
    home = client.get("/home").get_data(as_text=True)
    assert "2028 年工作日历未确认" in home and "2029 年工作日历未确认" in home
    assert "2027 年工作日历未确认" not in home and "2031" not in home and "2032" not in home
    settings = client.get("/director/settings").get_data(as_text=True)
    assert "2028、2029 年日历未确认" in settings


def test_the_banner_reads_running_deadlines_in_one_statement(signed_in, session, build, hall, clock, app):
    clock.set(datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc))
    project = build.project(agent=hall["agent"])
    for month in range(1, 13):
        build.task(project, deadline=at(f"2027-{month:02d}-10 17:30"))
    session.commit()
    client = signed_in()
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        html = client.get("/director/settings").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert "2027 年日历未确认" in html
    assert len([s for s in statements if re.search(r"\bFROM tasks\b", s)]) == 1


def test_rankings_show_visits_beside_the_3550_figures_and_the_star_levels(signed_in, session, now, hall):
    from tests.supervision.visits_world import build_visits
    build_visits(session, now, hall)
    html = signed_in().get("/director/rankings?from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    visits = html[html.index('data-testid="visits"'):html.index('data-testid="stars"')]
    row = re.search(r"<tr><td>不动产登记</td>(.*?)</tr>", visits, re.S).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', row) == ["3", "33.3%", "66.7%"]
    assert "不动产登记两次" in row and "2 次：现场核验身份证原件；补签不动产登记申请表" in row
    assert "不动产登记一次" not in visits and "不动产登记三次" not in visits
    stars = html[html.index('data-testid="stars"'):]
    assert "★★★★★</span> 5星" in stars and "★☆☆☆☆</span> 1星" in stars
    assert html.index('data-testid="types"') < html.index('data-testid="visits"')  # next to the 3550 figures


def test_reports_page_offers_and_lists_the_quarterly_report(app, signed_in, post, session, now, hall, run_jobs,
                                                           clock):
    clock.set("2026-10-08T10:00:00+08:00")
    client = signed_in()
    html = client.get("/director/reports").get_data(as_text=True)
    assert '<option value="quarterly">季公示（上季度）</option>' in html
    post("/director/reports", {"period": "quarterly"}, page="/director/reports")
    run_jobs()
    html = client.get("/director/reports").get_data(as_text=True)
    assert re.search(r'data-report-key="quarterly:2026-07-01" data-state="ready">\s*<td[^>]*>季公示</td>\s*'
                     r'<td class="nowrap"[^>]*>2026-07-01 — 2026-09-30</td>', html)


def chart_values(html: str, name: str) -> dict:
    """The JSON a chart canvas carries (``data-values``, HTML-escaped)."""
    import html as markup
    import json
    raw = re.search(rf'data-chart="{name}" data-values="([^"]*)"', html).group(1)
    return json.loads(markup.unescape(raw))


@pytest.mark.parametrize("today,start,end", [
    ("2026-11-25T10:00:00+08:00", "2026-10-01", "2026-10-31"),
    ("2026-12-01T08:00:00+08:00", "2026-11-01", "2026-11-30"),  # the first of a month: the month just ended
    ("2027-01-15T10:00:00+08:00", "2026-12-01", "2026-12-31"),
])
def test_rankings_open_on_the_last_full_month(signed_in, clock, today, start, end):
    client = signed_in()
    clock.set(today)
    response = client.get("/director/rankings")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "period-error" not in html
    assert f"{start} 至 {end}" in html
    assert f'name="from" value="{start}"' in html and f'name="to" value="{end}"' in html


def test_rankings_chart_satisfaction_and_on_time_by_month(signed_in, session, build, hall):
    build_week(build, (hall["agent"], hall["agent2"]))
    session.commit()
    html = signed_in().get("/director/rankings?from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    months = chart_values(html, "months")
    assert len(months["labels"]) == 12 and months["labels"][0] == "2025-12" and months["labels"][-1] == "2026-11"
    # November (tests/supervision/fixture_week.py): 9 tasks closed, 6 on time (T1 T2 T6 T9 T10 Z1);
    # 7 ratings, of a department's task or of a project: (5+2+4+1 + 4+5+3) / 7
    assert months["tasks"][-1] == 9 and months["on_time"][-1] == 66.7
    assert months["ratings"][-1] == 7 and months["satisfaction"][-1] == round(24 / 7, 2)
    assert months["tasks"][0] == 0 and months["on_time"][0] is None and months["satisfaction"][0] is None
    table = html[html.index('data-testid="months"'):]
    assert "<td>2026-11</td><td class=\"num\">9</td><td class=\"num\">66.7%</td><td class=\"num\">3.43</td>" in table


def test_workload_chart_shows_open_work_and_leave(signed_in, session, build, hall):
    build_week(build, (hall["agent"], hall["agent2"]))  # agent: one project in progress with T7 open
    hall["agent2"].on_leave = True
    session.commit()
    html = signed_in().get("/director/workload").get_data(as_text=True)
    chart = chart_values(html, "workload")
    by_name = dict(zip(chart["labels"], zip(chart["open_projects"], chart["open_tasks"], chart["on_leave"])))
    agent, agent2 = hall["agent"].display_name, hall["agent2"].display_name
    assert by_name[agent] == (1, 1, False)
    assert by_name[f"{agent2}（休假）"] == (0, 0, True)  # leave is said in the label, not by colour only
    assert chart["names"] == {"open_projects": "在办项目", "open_tasks": "未办结任务"}
    assert "vendor/chartjs/chart.umd.min.js" in html
    row = re.search(rf'<tr data-agent-id="{hall["agent"].id}">.*?</tr>', html, re.S).group(0)
    assert 'data-label="操作"' in row and "设为休假" in row  # the actions stay reachable as a card on a phone


def test_report_row_is_pending_until_the_job_has_run(app, signed_in, post, session, hall, clock, run_jobs):
    from agency.jobs.models import OutboxJob
    clock.set("2026-11-23T09:00:00+08:00")
    client = signed_in()
    post("/director/reports", {"period": "daily"}, page="/director/reports")
    key = "daily:2026-11-22"
    html = client.get("/director/reports").get_data(as_text=True)
    assert re.search(rf'<tr data-report-key="{key}" data-state="pending"', html) and "生成中" in html
    assert 'data-status-url="/director/reports/status"' in html and "js/report-status.js" in html
    status = client.get(f"/director/reports/status?key={key}&key=weekly:2026-11-16&key=nonsense")
    assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"
    assert status.get_json() == {"reports": {key: {"state": "pending", "attempts": 0}}}

    assert run_jobs() >= 1
    ready = client.get(f"/director/reports/status?key={key}").get_json()["reports"][key]
    session.expire_all()
    assert session.scalar(select(OutboxJob.status).where(OutboxJob.key == f"report:{key}")) == "done"
    assert ready["state"] == "ready"
    assert re.search(r'<tr data-report-key="daily:2026-11-22" data-state="ready">', ready["html"])
    assert re.search(r'href="/director/reports/\d+\.xlsx">XLSX</a>', ready["html"]) and "日报" in ready["html"]
    html = client.get("/director/reports").get_data(as_text=True)
    assert 'data-state="pending"' not in html and ready["html"].split(">")[0] in html
    assert signed_in("agent").get(f"/director/reports/status?key={key}").status_code == 403


def test_a_report_whose_job_gave_up_says_so(signed_in, post, session, hall, clock):
    from agency.jobs.models import OutboxJob
    clock.set("2026-11-23T09:00:00+08:00")
    client = signed_in()
    post("/director/reports", {"period": "weekly"}, page="/director/reports")
    job = session.scalar(select(OutboxJob).where(OutboxJob.key == "report:weekly:2026-11-16"))
    job.status, job.attempts = "failed", 10
    session.commit()
    html = client.get("/director/reports").get_data(as_text=True)
    assert re.search(r'<tr data-report-key="weekly:2026-11-16" data-state="failed"', html)
    assert "生成失败" in html and "已尝试 10 次" in html
    assert client.get("/director/reports/status?key=weekly:2026-11-16").get_json() == {
        "reports": {"weekly:2026-11-16": {"state": "failed", "attempts": 10}}}
