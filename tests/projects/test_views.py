"""Project pages through the test client: entrust, my projects, the project page and its actions."""
import re

import pytest
from sqlalchemy import func, select

from agency.audit.models import AuditEvent
from agency.audit.services import Actor
from agency.notifications.models import Message
from agency.projects.models import Project
from agency.projects.services import dispatch_stage, entrust_project
from tests.support import ready_for_dispatch
from agency.tasks.models import Task
from tests.pages import login, page_client, post, text


@pytest.fixture
def client(app):
    return page_client(app)


@pytest.fixture
def start(hall, clock, now):
    clock.set(now)
    return now


@pytest.fixture
def make_project(session, hall, start, entrust_body):
    """``make_project(by="agent", enterprise="ent", **overrides)`` -> a committed project, ready for dispatch."""
    def make(by="agent", enterprise="ent", **overrides):
        body = dict(entrust_body, **overrides)
        project = entrust_project(session, start, hall[by], enterprise_id=hall[enterprise].id, **body)
        session.commit()
        ready_for_dispatch(session, start, project)
        return project
    return make


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- entrust ---------------------------------------------------------------------------------------

def test_enterprise_entrusts_after_accepting_the_agreement(client, session, hall, start, entrust_body):
    login(client, "ent")
    html = text(client.get("/projects/new"))
    assert "自愿委托、免费代办、全程服务、合法高效、公开透明" in html
    assert 'name="agree"' in html and 'name="enterprise_id"' not in html

    refused = post(client, "/projects/new", entrust_body, token_from="/projects/new")
    assert refused.status_code == 400 and "须同意委托代办协议" in text(refused)
    assert _count(session, Project) == 0

    response = post(client, "/projects/new", dict(entrust_body, agree="y"), token_from="/projects/new")
    assert response.status_code == 302
    project = session.scalars(select(Project)).one()
    assert response.headers["Location"].endswith(f"/projects/{project.id}")
    assert project.enterprise_id == hall["ent"].id and project.agreement_accepted_at is not None
    assert project.agent_id is None and project.status == "entrusted"

    mine = text(client.get("/projects"))
    assert "年产十万台精密机床项目" in mine and project.tracking_code in mine and "已委托" in mine
    assert "待指派" in mine


def test_entrust_form_reports_bad_input_and_keeps_nothing(client, session, hall, start, entrust_body):
    login(client, "ent")
    body = dict(entrust_body, agree="y", contact_phone="call me", investment_wan="-5", name="")
    response = post(client, "/projects/new", body, token_from="/projects/new")
    assert response.status_code == 400
    html = text(response)
    assert "电话号码格式不正确" in html and "总投资不能为负数" in html and "请填写项目名称" in html
    assert _count(session, Project) == 0


@pytest.mark.parametrize("investment, message", [
    ("1e20", "总投资最多 9999999999.99 万元"), ("10000000000", "总投资最多 9999999999.99 万元"),
    ("NaN", "请填写有效的金额（万元）"), ("Infinity", "请填写有效的金额（万元）"), ("-Infinity", "请填写有效的金额（万元）"),
    ("lots", "请填写有效的金额（万元）")])
def test_entrust_form_bounds_the_investment(client, session, hall, start, entrust_body, investment, message):
    login(client, "ent")
    response = post(client, "/projects/new", dict(entrust_body, agree="y", investment_wan=investment),
                    token_from="/projects/new")
    assert response.status_code == 400
    html = text(response)
    field = html[html.index('for="investment_wan"'):]
    field = field[:field.index("</div>")]
    assert f'<p class="error">{message}</p>' in field
    assert _count(session, Project) == 0


def test_agent_entrusts_for_an_enterprise_which_signs_later(client, session, hall, start, entrust_body):
    login(client, "agent")
    html = text(client.get("/projects/new"))
    assert 'name="enterprise_id"' in html and "甲公司" in html and 'name="agree"' not in html

    missing = post(client, "/projects/new", entrust_body, token_from="/projects/new")
    assert missing.status_code == 400 and "请选择委托企业" in text(missing)

    response = post(client, "/projects/new", dict(entrust_body, enterprise_id=hall["ent"].id),
                    token_from="/projects/new")
    assert response.status_code == 302
    project = session.scalars(select(Project)).one()
    assert project.first_contact_agent_id == hall["agent"].id and project.agreement_accepted_at is None

    login(client, "ent")
    page = text(client.get(f"/projects/{project.id}"))
    assert "未签署" in page and f"/projects/{project.id}/agreement" in page
    signed = post(client, f"/projects/{project.id}/agreement", token_from=f"/projects/{project.id}")
    assert signed.status_code == 302
    session.expire_all()
    assert project.agreement_accepted_at is not None
    page = text(client.get(f"/projects/{project.id}"))
    assert "已签署" in page and f"/projects/{project.id}/agreement" not in page


# --- the project page ------------------------------------------------------------------------------

def test_project_page_shows_header_stages_tasks_and_timeline(client, session, hall, start, make_project, run_jobs):
    project = make_project()
    dispatch_stage(session, start, Actor.of(hall["agent"]), project)
    session.commit()
    login(client, "agent")
    response = client.get(f"/projects/{project.id}")
    assert response.status_code == 200
    html = text(response)
    assert project.tracking_code in html and "工业生产建设项目(至施工许可)" in html
    assert "甲公司" in html and "张经理" in html and "138-0000-0001" in html
    assert "0 / 目标 50 个工作日" in html and "已签署" in html
    assert html.index("第1阶段 立项用地规划许可") < html.index("第2阶段 工程建设许可") < html.index("第3阶段 施工许可")
    assert "发展和改革局" in html and "企业投资项目备案" in html and "待受理" in html
    # FGW-01 is promised in 1 working day: due Tuesday 17:30, one day left -> warn
    row = re.search(r'<tr class="task" id="task-\d+">(?:(?!</tr>).)*企业投资项目备案(?:(?!</tr>).)*</tr>', html, re.S)
    assert "2026-11-24 17:30" in row.group(0) and 'class="badge warn">1<' in row.group(0)
    assert '<ol class="timeline">' in html and "派发第1阶段" in html and "委托代办：年产十万台精密机床项目" in html
    assert "2026-11-23 09:00" in html
    assert f"/projects/{project.id}/handover" in html  # the carrying agent may ask for a hand-over


def test_overdue_and_consented_tasks_are_coloured(client, session, hall, start, clock, make_project):
    from agency.tasks.services import answer_task
    project = make_project()
    _, tasks = dispatch_stage(session, start, Actor.of(hall["agent"]), project, ["FGW-01", "FGW-03"])
    answer_task(session, start, Actor.of(hall["fgw_a"]), tasks[1], "consent")
    session.commit()
    clock.set("2026-11-26T02:00:00+00:00")  # Thursday: FGW-01 is past its deadline, the sweep has not run
    login(client, "agent")
    html = text(client.get(f"/projects/{project.id}"))
    # Reading the project settles its clocks: FGW-01 shows as deemed consent, never as overdue (R5).
    assert "已超时" not in html and '<span class="badge ok">默认同意</span>' in html
    assert '<span class="badge ok">已答复</span>' in html and "<strong>同意</strong>" in html


def test_agent_dispatches_the_next_stage_from_the_page(client, session, hall, start, make_project, run_jobs):
    project = make_project()
    login(client, "agent")
    page = text(client.get(f"/projects/{project.id}"))
    assert "派发第1阶段" in page and 'value="FGW-01"' in page and 'value="ZRGH-02"' in page

    none_chosen = post(client, f"/projects/{project.id}/dispatch", {"pick": "1"}, token_from=f"/projects/{project.id}")
    assert none_chosen.status_code == 400 and "请至少选择一项" in text(none_chosen)
    assert _count(session, Task) == 0

    response = post(client, f"/projects/{project.id}/dispatch", {"pick": "1", "items": ["FGW-01", "ZRGH-01"]},
                    token_from=f"/projects/{project.id}")
    assert response.status_code == 302
    session.expire_all()
    assert sorted(t.item.code for t in project.tasks) == ["FGW-01", "ZRGH-01"]
    assert project.status == "in_progress" and project.stages[0].status == "open"
    html = text(client.get(f"/projects/{project.id}"))
    assert "企业投资项目备案" in html and "建设项目用地预审与选址意见书" in html and "办理中" in html
    assert "派发第2阶段" not in html  # the first stage is still running

    again = post(client, f"/projects/{project.id}/dispatch", {}, token_from=f"/projects/{project.id}")
    assert again.status_code == 409 and "当前不能派发" in text(again)
    assert _count(session, Task) == 2
    assert run_jobs() >= 2  # the tasks went onto the departments' queues


def test_only_the_carrying_agent_dispatches(client, session, hall, start, make_project):
    project = make_project()
    session.get(Project, project.id).agent_id = hall["agent2"].id
    session.commit()
    login(client, "agent")  # first contact, but the project is now carried by agent2
    html = text(client.get(f"/projects/{project.id}"))
    assert "派发第1阶段" not in html
    assert post(client, f"/projects/{project.id}/dispatch", {}, token_from=f"/projects/{project.id}").status_code == 403
    assert _count(session, Task) == 0


def test_another_partys_project_is_404(client, session, hall, start, make_project):
    project = make_project()
    for username in ("ent2", "agent2", "fgw_a"):
        login(client, username)
        assert client.get(f"/projects/{project.id}").status_code == 404, username
    login(client, "ent2")
    assert post(client, f"/projects/{project.id}/withdraw", {"reason": "x", "confirm": "yes"}).status_code == 404
    session.expire_all()
    assert project.status == "entrusted"


def test_liaison_with_a_task_reads_the_project(client, session, hall, start, make_project):
    project = make_project()
    dispatch_stage(session, start, Actor.of(hall["agent"]), project, ["FGW-01"])
    session.commit()
    login(client, "fgw_a")
    response = client.get(f"/projects/{project.id}")
    assert response.status_code == 200
    html = text(response)
    assert "企业投资项目备案" in html and "/dispatch" not in html and "/handover" not in html
    assert "/assign" not in html and "/withdraw" not in html
    login(client, "zrgh_a")
    assert client.get(f"/projects/{project.id}").status_code == 404


def test_agent_marks_materials_supplied(client, session, hall, start, make_project):
    from agency.tasks.services import request_supplement
    project = make_project()
    _, (task,) = dispatch_stage(session, start, Actor.of(hall["agent"]), project, ["ZRGH-01"])
    request_supplement(session, start, Actor.of(hall["zrgh_a"]), task, ["勘测定界图", "项目建议书"])
    session.commit()
    login(client, "agent")
    html = text(client.get(f"/projects/{project.id}"))
    assert "勘测定界图；项目建议书" in html and "暂停计时" in html
    url = f"/projects/{project.id}/tasks/{task.id}/materials-supplied"
    assert url in html
    assert post(client, url, token_from=f"/projects/{project.id}").status_code == 302
    session.expire_all()
    assert task.status == "accepted" and task.supplements[0].supplied_at is not None
    again = post(client, url, token_from=f"/projects/{project.id}")
    assert again.status_code == 409 and "没有待补正的材料" in text(again)


def test_hand_over_request_reaches_the_directors(client, session, hall, start, make_project):
    project = make_project()
    login(client, "agent")
    empty = post(client, f"/projects/{project.id}/handover", {"note": " "}, token_from=f"/projects/{project.id}")
    assert empty.status_code == 400 and "请说明移交原因" in text(empty)
    response = post(client, f"/projects/{project.id}/handover", {"note": "本人下月外出学习"},
                    token_from=f"/projects/{project.id}")
    assert response.status_code == 302
    message = session.scalars(select(Message).where(Message.user_id == hall["director"].id)).one()
    assert project.name in message.subject and "本人下月外出学习" in message.body
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "project.handover_requested")).one()
    assert event.project_id == project.id and event.actor_id == hall["agent"].id


# --- director --------------------------------------------------------------------------------------

def test_director_sees_unassigned_first_and_assigns_from_the_list(client, session, hall, start, make_project):
    carried = make_project(name="已有代办员的项目")
    carried.agent_id = hall["agent"].id
    session.commit()
    waiting = make_project(by="ent", name="等待指派的项目")
    login(client, "director")
    html = text(client.get("/projects/all"))
    assert html.index("等待指派的项目") < html.index("已有代办员的项目")
    assert f'action="/projects/{waiting.id}/assign"' in html

    filtered = text(client.get("/projects/all?status=terminated"))
    assert "等待指派的项目" not in filtered and "没有符合条件的项目" in filtered

    bad = post(client, f"/projects/{waiting.id}/assign", {"agent_id": hall["ent"].id, "next": "/projects/all"},
               token_from="/projects/all")
    assert bad.status_code == 400 and "请选择一名在岗代办员" in text(bad)
    session.expire_all()
    assert waiting.agent_id is None

    response = post(client, f"/projects/{waiting.id}/assign",
                    {"agent_id": hall["agent2"].id, "next": "/projects/all"}, token_from="/projects/all")
    assert response.status_code == 302 and response.headers["Location"].endswith("/projects/all")
    session.expire_all()
    assert waiting.agent_id == hall["agent2"].id
    assert session.scalar(select(Message).where(Message.user_id == hall["agent2"].id)) is not None


def test_director_reassigns_on_the_project_page(client, session, hall, start, make_project):
    project = make_project()
    login(client, "director")
    html = text(client.get(f"/projects/{project.id}"))
    assert f'action="/projects/{project.id}/assign"' in html and "agent2" in html
    response = post(client, f"/projects/{project.id}/assign", {"agent_id": hall["agent2"].id},
                    token_from=f"/projects/{project.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/projects/{project.id}")
    session.expire_all()
    assert project.agent_id == hall["agent2"].id
    login(client, "agent")
    assert post(client, f"/projects/{project.id}/assign", {"agent_id": hall["agent"].id},
                token_from=f"/projects/{project.id}").status_code == 403


def test_agent_my_projects_shows_stage_and_next_deadline(client, session, hall, start, make_project):
    project = make_project()
    dispatch_stage(session, start, Actor.of(hall["agent"]), project, ["FGW-01", "FGW-03"])
    make_project(by="agent2", name="别人的项目")
    session.commit()
    login(client, "agent")
    html = text(client.get("/projects"))
    assert "年产十万台精密机床项目" in html and "别人的项目" not in html
    assert "立项用地规划许可" in html and "2026-11-24 17:30" in html and "办理中" in html


# --- withdraw --------------------------------------------------------------------------------------

def test_withdraw_needs_the_confirmation_step(client, session, hall, start, make_project):
    project = make_project()
    dispatch_stage(session, start, Actor.of(hall["agent"]), project, ["FGW-01"])
    session.commit()
    login(client, "ent")
    page = f"/projects/{project.id}/withdraw"
    assert "撤回原因" in text(client.get(page))

    blank = post(client, page, {"reason": ""}, token_from=page)
    assert blank.status_code == 400 and "请填写撤回原因" in text(blank)

    first = post(client, page, {"reason": "企业调整投资计划"}, token_from=page)
    assert first.status_code == 200
    html = text(first)
    assert "确认撤回" in html and "企业调整投资计划" in html and 'name="confirm" value="yes"' in html
    session.expire_all()
    assert project.status == "in_progress"

    done = post(client, page, {"reason": "企业调整投资计划", "confirm": "yes"}, token_from=page)
    assert done.status_code == 302
    session.expire_all()
    assert project.status == "terminated" and "企业调整投资计划" in project.termination_reason
    assert [t.status for t in project.tasks] == ["cancelled"]
    assert "已终止" in text(client.get(f"/projects/{project.id}"))


# --- CSRF ------------------------------------------------------------------------------------------

def test_a_form_without_csrf_token_is_rejected(client, session, hall, start, make_project):
    project = make_project()
    login(client, "agent")
    response = client.post(f"/projects/{project.id}/dispatch", data={"items": ["FGW-01"], "pick": "1"})
    assert response.status_code == 400
    assert _count(session, Task) == 0
    login(client, "ent")
    response = client.post(f"/projects/{project.id}/withdraw", data={"reason": "x", "confirm": "yes"})
    assert response.status_code == 400
    session.expire_all()
    assert project.status == "entrusted"
