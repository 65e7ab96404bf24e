"""Every list page filters, searches and pages by its query string (a filtered list is a link to share),
and the header's search box takes the agent and the director to a project by its project code."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from agency.audit.services import Actor
from agency.projects.services import set_project_code
from agency.tasks.services import accept_task
from agency.web import listing
from tests.pages import login, page_client, text
from tests.tasks import MONDAY, app, entrust, hall, hall_template, shared_app, start  # noqa: F401

UTC = timezone.utc
CODE = "2026-330106-34-03-000777"


def signed_in(app, user):
    client = page_client(app)
    login(client, user.username)
    return client


def links(html: str, rel: str) -> str | None:
    match = re.search(rf'rel="{rel}" href="([^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def task_of(tasks, code):
    return next(t for t in tasks if t.item.code == code)


@pytest.fixture
def projects(session, hall):
    """Five projects of ``agent`` (one with its own project code, one in progress) and one of ``agent2``."""
    made = [entrust(session, MONDAY, hall, ready=False, name=f"机床项目{n}") for n in range(4)]
    set_project_code(session, MONDAY, hall["ent"], made[0], CODE)
    session.commit()
    running, tasks = start(session, MONDAY, hall, name="港口物流园")
    other = entrust(session, MONDAY, hall, by="agent2", enterprise="ent2", ready=False, name="机床项目乙")
    return {"made": made, "running": running, "tasks": tasks, "other": other}


def test_my_projects_filter_search_and_page_keeping_the_filters(app, hall, projects, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    client = signed_in(app, hall["agent"])
    found = text(client.get(f"/projects?q={CODE}"))
    assert f"/projects/{projects['made'][0].id}\"" in found and "共 1 个" in found
    assert f"/projects/{projects['made'][1].id}\"" not in found
    assert f'value="{CODE}"' in found  # the search box keeps what was typed

    first = text(client.get("/projects?q=机床&status=entrusted"))
    assert "共 4 个" in first and "第 1 / 2 页" in first and "机床项目乙" not in first
    following = links(first, "next")
    assert following == "/projects?q=%E6%9C%BA%E5%BA%8A&status=entrusted&page=2"
    second = text(client.get(following))
    assert "第 2 / 2 页" in second and "港口物流园" not in second
    assert links(second, "prev") == "/projects?q=%E6%9C%BA%E5%BA%8A&status=entrusted&page=1"
    shown = re.findall(r'href="/projects/(\d+)"', first + second)
    assert sorted(map(int, shown)) == sorted(p.id for p in projects["made"])  # each once, over both pages

    running = text(client.get("/projects?status=in_progress"))
    assert "港口物流园" in running and "机床项目0" not in running
    by_department = text(client.get("/projects?department=%d" % projects["tasks"][0].department_id))
    assert "港口物流园" in by_department and "机床项目0" not in by_department
    assert client.get("/projects?status=bogus&page=x&department=abc").status_code == 200  # ignored, not a 500


def test_all_projects_filter_by_agent_department_and_deadline(app, session, hall, projects):
    client = signed_in(app, hall["director"])
    by_agent = text(client.get(f"/projects/all?agent={hall['agent2'].id}"))
    assert "机床项目乙" in by_agent and "港口物流园" not in by_agent
    entrust(session, MONDAY, hall, by="ent", ready=False, name="无人承办的项目")
    unassigned = text(client.get("/projects/all?agent=none"))
    assert "无人承办的项目" in unassigned and "机床项目0" not in unassigned
    deadline = projects["running"].tasks[0].deadline
    day = (deadline + timedelta(hours=8)).date().isoformat()
    due = text(client.get(f"/projects/all?due_from={day}&due_to={day}"))
    assert "港口物流园" in due and "机床项目0" not in due
    assert "港口物流园" not in text(client.get("/projects/all?due_from=2030-01-01"))
    assert f'value="{day}"' in due


def test_the_liaison_inbox_searches_through_the_project_and_filters(app, session, hall, projects, clock,
                                                                    monkeypatch):
    other, other_tasks = start(session, MONDAY, hall, name="海港冷链仓储")
    accept_task(session, MONDAY, Actor.of(hall["fgw_a"]), task_of(other_tasks, "FGW-03"))
    session.commit()
    clock.set(MONDAY)
    client = signed_in(app, hall["fgw_a"])
    html = text(client.get("/tasks/inbox?q=冷链"))
    assert f'id="task-{task_of(other_tasks, "FGW-01").id}"' in html
    assert f'id="task-{task_of(projects["tasks"], "FGW-01").id}"' not in html
    accepted = text(client.get("/tasks/inbox?status=accepted"))
    assert accepted.count('<tr class="task" id="task-') == 1
    tracking = text(client.get(f"/tasks/inbox?q={projects['running'].tracking_code}"))
    assert tracking.count('<tr class="task" id="task-') == 2  # FGW-01 and FGW-03 of that project
    nothing = text(client.get("/tasks/inbox?due_from=2030-01-01"))
    assert '<tr class="task" id="task-' not in nothing and "没有符合条件的办件" in nothing
    monkeypatch.setattr(listing, "PAGE_SIZE", 1)
    paged = text(client.get("/tasks/inbox?q=项目&due=next"))  # no project of that name: empty, no pager
    assert "分页" not in paged
    paged = text(client.get("/tasks/inbox?agent=%d" % hall["agent"].id))
    assert links(paged, "next") == f"/tasks/inbox?agent={hall['agent'].id}&page=2"


def test_meeting_lists_filter_and_the_calendar_keeps_its_filters(app, session, hall, projects, clock):
    from agency.meetings.services import schedule_meeting
    running = projects["running"]
    other, _ = start(session, MONDAY, hall, name="海港冷链仓储")
    wednesday = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    a = schedule_meeting(session, MONDAY, hall["agent"], running, kind="joint_review", starts_at=wednesday,
                         place="三楼", department_codes=["FGW"])
    b = schedule_meeting(session, MONDAY, hall["agent"], other, kind="site_survey", starts_at=wednesday,
                         place="现场", department_codes=["FGW", "ZRGH"])
    session.commit()
    clock.set(MONDAY)
    agent = signed_in(app, hall["agent"])
    html = text(agent.get("/meetings/?q=冷链"))
    assert f"/meetings/{b.id}\"" in html and f"/meetings/{a.id}\"" not in html
    html = text(agent.get("/meetings/?kind=joint_review"))
    assert f"/meetings/{a.id}\"" in html and f"/meetings/{b.id}\"" not in html
    html = text(agent.get("/meetings/?department=%d" % b.invitations[1].department_id))
    assert f"/meetings/{b.id}\"" in html and f"/meetings/{a.id}\"" not in html

    liaison = signed_in(app, hall["fgw_a"])
    html = text(liaison.get("/meetings/invitations?kind=site_survey"))
    assert html.count('class="invitation"') == 1 and f"/meetings/{b.id}\"" in html
    html = text(liaison.get("/meetings/invitations?start=2026-11-26"))
    assert 'class="invitation"' not in html

    director = signed_in(app, hall["director"])
    html = text(director.get("/meetings/calendar?month=2026-11&kind=site_survey"))
    assert f"/meetings/{b.id}\"" in html and f"/meetings/{a.id}\"" not in html
    assert 'href="/meetings/calendar?month=2026-12&amp;kind=site_survey"' in html


def test_notices_and_complaints_filter_and_search(app, session, hall, projects, clock):
    from agency.enterprise.services import file_complaint
    running = projects["running"]
    first = file_complaint(session, MONDAY, hall["ent"], running, "代办员未及时回复")
    second = file_complaint(session, MONDAY, hall["ent"], projects["made"][1], "材料清单不清楚")
    session.commit()
    clock.set(MONDAY)
    director = signed_in(app, hall["director"])
    html = text(director.get("/complaints?q=港口"))
    assert f'id="complaint-{first.id}"' in html and f'id="complaint-{second.id}"' not in html
    html = text(director.get("/complaints?status=answered"))
    assert "complaint-row" not in html
    enterprise = signed_in(app, hall["ent"])
    html = text(enterprise.get(f"/complaints?q={projects['made'][1].tracking_code}"))
    assert f'id="complaint-{second.id}"' in html and f'id="complaint-{first.id}"' not in html
    assert signed_in(app, hall["ent2"]).get("/complaints?q=港口").status_code == 200
    assert "complaint-row" not in text(signed_in(app, hall["ent2"]).get("/complaints?q=港口"))
    html = text(director.get("/notices?q=港口&status=open&due_from=2026-01-01"))
    assert 'value="港口"' in html and "暂无不满意件函告" in html


def test_notices_list_a_dissatisfaction_by_project_and_department(app, session, hall, clock):
    from agency.enterprise.services import rate
    from agency.tasks.services import answer_task
    project, tasks = start(session, MONDAY, hall, name="港口物流园")
    fgw = [t for t in tasks if t.department.code == "FGW"]
    for task in fgw:
        answer_task(session, MONDAY, Actor.of(hall["fgw_a"]), task, "consent")
    session.commit()
    rate(session, MONDAY, hall["ent"], project, 1, "太慢", department_code="FGW")
    session.commit()
    clock.set(MONDAY + timedelta(hours=1))
    director = signed_in(app, hall["director"])
    html = text(director.get("/notices?q=港口"))
    assert html.count('class="notice-row"') == 1
    assert 'class="notice-row"' not in text(director.get("/notices?q=冷链"))
    other_department = next(t.department_id for t in tasks if t.department.code != "FGW")
    assert 'class="notice-row"' not in text(director.get(f"/notices?department={other_department}"))
    assert 'class="notice-row"' in text(director.get(f"/notices?department={fgw[0].department_id}&status=open"))
    assert 'class="notice-row"' in text(signed_in(app, hall["fgw_a"]).get("/notices?q=港口"))


# -- the header's search -----------------------------------------------------------------------------------

def test_the_header_search_opens_a_project_by_its_project_code(app, hall, projects):
    agent = signed_in(app, hall["agent"])
    page = text(agent.get("/meetings/"))
    assert 'action="/projects/find"' in page
    response = agent.get(f"/projects/find?q={CODE}")
    assert response.status_code == 302 and response.location.endswith(f"/projects/{projects['made'][0].id}")
    many = agent.get("/projects/find?q=机床")
    assert many.status_code == 302 and many.location.endswith("/projects?q=%E6%9C%BA%E5%BA%8A")
    not_its = agent.get("/projects/find?q=机床项目乙")  # agent2's project: not found, the (empty) list
    assert not_its.location.endswith("/projects?q=%E6%9C%BA%E5%BA%8A%E9%A1%B9%E7%9B%AE%E4%B9%99")
    director = signed_in(app, hall["director"])
    assert director.get(f"/projects/find?q={projects['other'].tracking_code}").location.endswith(
        f"/projects/{projects['other'].id}")
    for role in ("fgw_a", "ent"):
        client = signed_in(app, hall[role])
        assert 'action="/projects/find"' not in text(client.get("/home"))
        assert client.get(f"/projects/find?q={CODE}").status_code == 403
