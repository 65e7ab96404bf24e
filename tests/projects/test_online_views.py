"""The project page's side of the online journey: why a dispatch is refused, deferral, agreement, code, search."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from agency.materials.models import Deferral
from agency.projects.models import Project
from agency.extensions import limiter
from tests.pages import login, page_client, post, text
from tests.support import PROJECT_CODE, ready_for_dispatch
from tests.tasks import app, entrust, hall, hall_template, shared_app, snapshot  # noqa: F401  (fixtures)


@pytest.fixture
def client(app):  # noqa: F811
    """A signed-out page client; the shared app\'s login rate limit starts afresh (a test signs in often)."""
    limiter.reset()
    return page_client(app)


@pytest.fixture
def start(clock, now):
    clock.set(now)
    return now


def test_a_refused_dispatch_says_why_in_words_and_names_the_missing_materials(client, session, hall, start):
    project = entrust(session, start, hall, ready=False)
    login(client, "agent")
    page = f"/projects/{project.id}"
    before = snapshot(session)
    response = post(client, f"{page}/dispatch", {"pick": "1", "items": ["FGW-01", "ZRGH-01"]}, token_from=page)
    assert response.status_code == 422
    assert snapshot(session) == before
    html = text(response)
    refusal = re.search(r'<div class="dispatch-refusal.*?</div>', html, re.S).group(0)
    assert "委托代办协议尚未签署" in refusal and "尚未登记项目代码" in refusal
    for name in ("项目备案申请表", "企业营业执照", "用地预审申请表", "项目建议书或备案证明", "勘测定界图"):
        assert re.search(rf'<a href="/projects/{project.id}/materials#entry-\d+">{name}</a>', refusal), name
    assert "节能报告" not in refusal  # FGW-03 was not chosen
    assert f'href="/projects/{project.id}/materials"' in refusal
    # the choice of items is kept
    assert re.search(r'value="ZRGH-01"[^>]*checked|checked[^>]*value="ZRGH-01"', html)
    assert not re.search(r'value="FGW-03"[^>]*checked|checked[^>]*value="FGW-03"', html)

    ready_for_dispatch(session, start, project)  # only the materials missing now
    response = post(client, f"{page}/dispatch", {"pick": "1", "items": ["FGW-01"]}, token_from=page)
    assert response.status_code == 302


def test_agent_defers_a_deferrable_material_with_a_promised_date(client, session, hall, start):
    project = entrust(session, start, hall, project_type="STARTUP", name="丙公司开办")  # ready: 营业执照 is SCJG-01's
    login(client, "agent")
    page = f"/projects/{project.id}"
    html = text(client.get(page))
    offered = re.findall(r'name="(deferred-\d+)-name"[^>]*value="([^"]+)"', html)
    assert [name for _, name in offered] == ["营业执照"]  # deferrable by GA-01, SW-01, RS-01; not ready
    prefix = offered[0][0]
    refused = post(client, f"{page}/dispatch", {"pick": "1", "items": ["GA-01"], f"{prefix}-name": "营业执照",
                                                f"{prefix}-until": ""}, token_from=page)  # shown, not chosen
    assert refused.status_code == 422 and ">营业执照</a>" in text(refused)
    past = post(client, f"{page}/dispatch", {"pick": "1", "items": ["GA-01"], f"{prefix}-name": "营业执照",
                                             f"{prefix}-chosen": "y", f"{prefix}-until": "2026-11-20"}, token_from=page)
    assert past.status_code == 400 and "承诺补齐日期不能早于今天" in text(past)
    assert session.scalar(select(Deferral.id)) is None
    response = post(client, f"{page}/dispatch", {"pick": "1", "items": ["GA-01"], f"{prefix}-name": "营业执照",
                                                 f"{prefix}-chosen": "y", f"{prefix}-until": "2026-11-27"},
                    token_from=page)
    assert response.status_code == 302
    deferral = session.scalars(select(Deferral)).one()
    assert deferral.name == "营业执照" and deferral.task.item.code == "GA-01"
    assert deferral.until.astimezone().date() >= date(2026, 11, 27)
    checklist = text(client.get(f"{page}/materials"))
    card = re.search(r'<li class="card entry entry-deferred".*?</li>', checklist, re.S).group(0)
    assert "营业执照" in card and "容缺待补" in card and "2026-11-27" in card
    assert "容缺受理：营业执照" in text(client.get(page))  # the timeline says it


def test_agent_records_a_paper_agreement_with_its_date(client, session, hall, start):
    project = entrust(session, start, hall, ready=False)
    login(client, "agent")
    page = f"/projects/{project.id}"
    html = text(client.get(page))
    assert "未签署" in html and f'action="{page}/agreement/paper"' in html
    before = snapshot(session)
    future = post(client, f"{page}/agreement/paper", {"signed_on": "2026-12-01"}, token_from=page)
    assert future.status_code == 400 and "签署日期不能晚于今天" in text(future)
    assert snapshot(session) == before
    response = post(client, f"{page}/agreement/paper", {"signed_on": "2026-11-20"}, token_from=page)
    assert response.status_code == 302
    session.expire_all()
    project = session.get(Project, project.id)
    assert project.agreement_method == "paper"
    html = text(client.get(page))
    assert "纸质协议，2026-11-20 签署" in html and "代办员登记纸质委托代办协议（2026-11-20签署）" in html
    assert f'action="{page}/agreement/paper"' not in html


@pytest.mark.parametrize("who", ["ent", "agent"])
def test_project_code_is_set_on_the_page_and_a_bad_one_is_refused(client, session, hall, start, who):
    project = entrust(session, start, hall, ready=False)
    login(client, who)
    page = f"/projects/{project.id}"
    assert "未登记（派发前须登记）" in text(client.get(page))
    before = snapshot(session)
    bad = post(client, f"{page}/code", {"project_code": "2026-33-01"}, token_from=page)
    assert bad.status_code == 400
    html = text(bad)
    assert "项目代码格式不正确" in html and 'value="2026-33-01"' in html
    assert snapshot(session) == before
    response = post(client, f"{page}/code", {"project_code": PROJECT_CODE}, token_from=page)
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Project, project.id).project_code == PROJECT_CODE
    assert f"登记项目代码：{PROJECT_CODE}" in text(client.get(page))


def test_others_cannot_set_the_code(client, session, hall, start):
    project = entrust(session, start, hall, ready=False)
    login(client, "agent2")
    assert post(client, f"/projects/{project.id}/code", {"project_code": PROJECT_CODE}).status_code == 404
    login(client, "director")
    assert post(client, f"/projects/{project.id}/code", {"project_code": PROJECT_CODE}).status_code == 403
    session.expire_all()
    assert session.get(Project, project.id).project_code is None


def test_search_boxes_filter_my_projects_and_all_projects(client, session, hall, start):
    machine = entrust(session, start, hall, ready=False, name="年产十万台精密机床项目")
    entrust(session, start, hall, ready=False, name="冷链物流中心")
    entrust(session, start, hall, by="agent2", enterprise="ent2", ready=False, name="精密轴承扩产")
    login(client, "agent")
    html = text(client.get("/projects?q=精密"))
    assert "年产十万台精密机床项目" in html and "冷链物流中心" not in html and "精密轴承扩产" not in html
    assert 'name="q"' in html and 'value="精密"' in html
    by_code = text(client.get(f"/projects?q={machine.tracking_code.lower()}"))
    assert "年产十万台精密机床项目" in by_code and "冷链物流中心" not in by_code
    login(client, "director")
    html = text(client.get("/projects/all?q=精密&status=entrusted"))
    assert "年产十万台精密机床项目" in html and "精密轴承扩产" in html and "冷链物流中心" not in html
    assert 'value="精密"' in html and "共 2 个" in html
