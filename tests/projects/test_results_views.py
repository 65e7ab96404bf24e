"""Results on the project page (R16) and visits (R18): download, withheld, delivery, shipments, visits."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from agency.audit.services import Actor
from agency.projects.models import Project
from agency.projects.services import dispatch_stage
from agency.results.models import Shipment
from agency.results.services import attach_result_file, choose_delivery
from agency.tasks.services import answer_task, deem_consent
from agency.visits.models import Visit
from agency.extensions import limiter
from tests.pages import login, page_client, post, text
from tests.support import PDF_BYTES
from tests.tasks import app, entrust, hall, hall_template, liaison_of, shared_app, snapshot, start  # noqa: F401


@pytest.fixture
def client(app):  # noqa: F811
    """A signed-out page client; the shared app\'s login rate limit starts afresh (a test signs in often)."""
    limiter.reset()
    return page_client(app)


@pytest.fixture
def licensed(session, hall, clock, now):  # noqa: F811
    """IND_PERMIT stage 1 dispatched, FGW-01 consented with a licence whose PDF the liaison attached: (project, task)."""
    clock.set(now)
    project, tasks = start(session, now, hall)
    task = next(t for t in tasks if t.item.code == "FGW-01")
    answer_task(session, now, Actor.of(hall["fgw_a"]), task, "consent",
                result={"kind": "licence", "number": "备案〔2026〕7号"})
    attach_result_file(session, now, hall["fgw_a"], task, "备案证明.pdf", io.BytesIO(PDF_BYTES))
    session.commit()
    return project, task


def _results(html: str) -> str:
    return re.search(r'<section class="card results" id="results">.*?</section>', html, re.S).group(0)


def test_enterprise_sees_its_results_and_downloads_a_released_licence(client, session, licensed):
    project, task = licensed
    login(client, "ent")
    results = _results(text(client.get(f"/projects/{project.id}")))
    assert "企业投资项目备案" in results and "证照" in results and "备案〔2026〕7号" in results
    assert "2026-11-23" in results and "可送达" in results
    assert f'href="/results/{task.id}/file"' in results
    download = client.get(f"/results/{task.id}/file")
    assert download.status_code == 200 and download.data == PDF_BYTES
    assert "attachment" in download.headers["Content-Disposition"]
    login(client, "director")
    assert client.get(f"/results/{task.id}/file").status_code == 200


@pytest.mark.parametrize("who", ["ent2", "zrgh_a", "fgw_a", "agent2"])
def test_anyone_but_the_parties_gets_404_on_a_result_download(client, licensed, who):
    _, task = licensed
    login(client, who)
    assert client.get(f"/results/{task.id}/file").status_code == 404
    assert client.get(f"/results/{task.id}/notice").status_code == 404


def test_a_result_owing_a_deferred_material_is_withheld_from_the_enterprise(client, session, hall, clock, now):
    clock.set(now)
    project = entrust(session, now, hall, project_type="STARTUP", name="丙公司开办")
    _, (task,) = dispatch_stage(session, now, Actor.of(hall["agent"]), project, ["GA-01"],
                                [{"name": "营业执照", "until": None}])
    answer_task(session, now, Actor.of(liaison_of(hall, task)), task, "consent", result={"kind": "filing"})
    attach_result_file(session, now, liaison_of(hall, task), task, "回执.pdf", io.BytesIO(PDF_BYTES))
    session.commit()
    login(client, "ent")
    results = _results(text(client.get(f"/projects/{project.id}")))
    assert "暂缓送达" in results and "待容缺材料“营业执照”补齐后送达" in results
    assert f'href="/results/{task.id}/file"' not in results
    withheld = client.get(f"/results/{task.id}/file")
    assert withheld.status_code == 409 and "营业执照" in text(withheld)
    login(client, "agent")
    assert client.get(f"/results/{task.id}/file").status_code == 200


def test_the_deemed_consent_notice_opens_its_printable_page(client, session, hall, clock, now):
    clock.set(now)
    project, tasks = start(session, now, hall)
    task = next(t for t in tasks if t.item.code == "ZRGH-01")
    deem_consent(session, now + timedelta(days=20), [task], "timeout")
    session.commit()
    login(client, "ent")
    results = _results(text(client.get(f"/projects/{project.id}")))
    assert "默认同意告知书" in results and f'href="/results/{task.id}/notice"' in results
    notice = client.get(f"/results/{task.id}/notice")
    assert notice.status_code == 200 and "视为同意" in text(notice) and "MR-%d" % task.id in text(notice)


def test_delivery_by_post_needs_an_address(client, session, licensed):
    project, _ = licensed
    login(client, "ent")
    page = f"/projects/{project.id}"
    before = snapshot(session)
    refused = post(client, f"{page}/delivery", {"method": "post", "address": "  "}, token_from=page)
    assert refused.status_code == 400
    results = _results(text(refused))
    assert "快递送达须填写邮寄地址" in results and re.search(r'value="post"[^>]*checked|checked[^>]*value="post"',
                                                         results)
    assert snapshot(session) == before
    response = post(client, f"{page}/delivery", {"method": "post", "address": "经开区创业路8号 张经理 138-0000-0001"},
                    token_from=page)
    assert response.status_code == 302
    session.expire_all()
    saved = session.get(Project, project.id)
    assert (saved.delivery_method, saved.delivery_address) == ("post", "经开区创业路8号 张经理 138-0000-0001")
    html = text(client.get(page))
    assert "快递送达" in _results(html) and "送达方式：快递送达（经开区创业路8号" in html  # and on the timeline
    login(client, "agent")
    assert post(client, f"{page}/delivery", {"method": "pickup"}, token_from=page).status_code == 403


def test_agent_records_a_shipment_and_its_signature(client, session, hall, now, licensed):
    project, task = licensed
    choose_delivery(session, now, hall["ent"], project, "post", "经开区创业路8号")
    session.commit()
    login(client, "agent")
    page = f"/projects/{project.id}"
    html = _results(text(client.get(page)))
    assert f'value="{task.id}"' in html and 'name="waybill"' in html
    before = snapshot(session)
    no_waybill = post(client, f"{page}/shipments", {"task_ids": [str(task.id)], "waybill": ""}, token_from=page)
    assert no_waybill.status_code == 400 and "请填写运单号" in text(no_waybill) and snapshot(session) == before
    response = post(client, f"{page}/shipments", {"task_ids": [str(task.id)], "waybill": "SF1234567890"},
                    token_from=page)
    assert response.status_code == 302
    shipment = session.scalars(select(Shipment)).one()
    assert shipment.task_ids == [task.id] and shipment.signed_at is None
    assert "未签收" in _results(text(client.get(page)))
    assert post(client, f"/shipments/{shipment.id}/signed", {}, token_from=page).status_code == 302
    session.expire_all()
    assert session.get(Shipment, shipment.id).signed_at is not None
    login(client, "ent")
    html = text(client.get(page))
    assert "SF1234567890" in _results(html) and "已签收 2026-11-23 09:00" in _results(html)
    assert "快递寄出办理结果（企业投资项目备案），运单号SF1234567890" in html and "运单SF1234567890已签收" in html


def test_agent_records_a_visit_and_the_page_counts_them(client, session, licensed):
    project, _ = licensed
    login(client, "agent")
    page = f"/projects/{project.id}"
    assert "企业尚未到厅" in text(client.get(page))
    before = snapshot(session)
    future = post(client, f"{page}/visits", {"on": "2026-12-01", "reason": "领取证照"}, token_from=page)
    assert future.status_code == 400 and "到厅日期须在委托之后、不晚于今天" in text(future)
    assert "领取证照</textarea>" in text(future) and snapshot(session) == before
    response = post(client, f"{page}/visits", {"on": "2026-11-23", "reason": "现场核验原件"}, token_from=page)
    assert response.status_code == 302
    assert session.scalars(select(Visit.reason)).all() == ["现场核验原件"]
    html = text(client.get(page))
    assert "跑动 1 次" in html and "现场核验原件" in html and "企业到厅办事（2026-11-23）：现场核验原件" in html
    login(client, "ent")
    assert "跑动 1 次" in text(client.get(page))
    assert post(client, f"{page}/visits", {"on": "2026-11-23", "reason": "x"}, token_from=page).status_code == 403
