"""Deferred materials (R15), results and their delivery (R16), visits (R18), through the API."""
import io
import json
from datetime import datetime, timedelta

from sqlalchemy import select

from agency.calendar.services import get_calendar
from agency.clock import hall_tz
from agency.materials.models import Deferral
from agency.notifications.models import Message
from agency.projects.models import Project
from agency.results.models import Shipment, TaskResult
from tests.materials.conftest import PDF_BYTES, api_path
from tests.pages import login, page_client, text
from tests.support import ready_for_dispatch
from tests.tasks import assert_error, count, snapshot

STARTUP_OWN = ["设立登记申请书", "章程", "住所证明", "身份证明", "法定代表人身份证明", "经办人身份证明", "单位信息表"]


def startup(journey, **overrides):
    """ent's company start-up: agreement signed, its own materials filed and accepted; not dispatched."""
    project = journey.entrust("STARTUP", name="甲公司设立", **overrides)
    journey.sign(project["id"])
    journey.file_and_accept(project["id"], STARTUP_OWN)
    return project


def test_a_licence_a_same_stage_task_issues_is_deferred_by_itself(journey, session):
    """营业执照 (SCJG-01's result) is owed by GA-01, SW-01 and RS-01 until SCJG-01 consents (3-day start-up)."""
    project = startup(journey)
    assert journey.checklist(project["id"])["营业执照"]["status"] == "awaiting_result"
    journey.dispatch(project["id"])
    tasks = journey.tasks_by_item(project["id"])
    licence = tasks["SCJG-01"]
    for code in ("GA-01", "SW-01", "RS-01"):
        (owed,) = tasks[code]["deferred"]
        assert owed["name"] == "营业执照" and owed["supplied_at"] is None and owed["awaiting_task_id"] == licence["id"]
        assert owed["until"] == licence["deadline"]
    assert tasks["SCJG-01"]["deferred"] == []
    entry = journey.checklist(project["id"])["营业执照"]
    assert entry["status"] == "deferred" and entry["deferred_until"] == licence["deadline"]
    # GA-01 answers first: its result exists but is withheld until the licence is there
    ga = journey.answer(tasks["GA-01"], result={"kind": "filing", "number": "YZ-1", "issued_on": "2026-11-23"})
    assert ga["result"] == {"kind": "filing", "number": "YZ-1", "issued_on": "2026-11-23", "sha256": None,
                            "released": False}
    results = {r["item"]: r for r in journey.call("ent", "get", f"/projects/{project['id']}/results")}
    assert results["GA-01"]["released"] is False and results["GA-01"]["owed"] == ["营业执照"]
    journey.clock.advance(hours=2)
    journey.answer(licence, result={"kind": "licence", "number": "91330106MA2X", "issued_on": "2026-11-23"})
    entry = journey.checklist(project["id"])["营业执照"]
    assert (entry["status"], entry["from_task_id"]) == ("from_result", licence["id"])
    tasks = journey.tasks_by_item(project["id"])
    assert all(tasks[c]["deferred"][0]["supplied_at"] for c in ("GA-01", "SW-01", "RS-01"))
    assert tasks["GA-01"]["result"]["released"] is True


def test_the_startup_project_completes_inside_its_three_working_day_target(journey, session):
    journey.clock.set("2026-11-23T09:00:00+08:00")  # Monday
    project = startup(journey)
    journey.dispatch(project["id"])
    tasks = journey.tasks_by_item(project["id"])
    journey.clock.set("2026-11-23T14:00:00+08:00")
    journey.answer(tasks["SCJG-01"], result={"kind": "licence", "number": "91330106MA2X"})
    journey.clock.set("2026-11-23T16:00:00+08:00")  # immediate items (即办件): answered the day they arrive
    for code in ("GA-01", "SW-01", "RS-01"):
        journey.answer(tasks[code])
    detail = journey.project(project["id"])
    assert detail["status"] == "completed"
    assert detail["working_days_elapsed"] <= detail["target_days"] == 3
    results = journey.call("ent", "get", f"/projects/{project['id']}/results")
    assert {r["item"]: r["released"] for r in results} == dict.fromkeys(["SCJG-01", "GA-01", "SW-01", "RS-01"], True)


def test_a_deferral_is_asked_for_with_a_date_and_only_where_the_item_allows_it(journey, session):
    project = startup(journey)
    before = snapshot(session)
    fields = assert_error(journey.as_("agent").post(f"/projects/{project['id']}/dispatch", json={
        "items": ["GA-01"], "deferred": [{"name": "章程", "until": "2026-11-30"}]}), 422, "rule_violated", "deferred")
    assert fields["deferred"] == ["章程"]
    fields = assert_error(journey.as_("agent").post(f"/projects/{project['id']}/dispatch", json={"items": ["GA-01"]}),
                          422, "rule_violated", "missing")
    assert fields["missing"] == ["营业执照"]  # SCJG-01 is not in this dispatch: nothing issues it
    assert_error(journey.as_("agent").post(f"/projects/{project['id']}/dispatch", json={
        "items": ["GA-01"], "deferred": [{"name": "营业执照", "until": "2026-11-01"}]}), 400, "bad_input", "deferred")
    assert snapshot(session) == before
    answer = journey.dispatch(project["id"], items=["GA-01"], deferred=[{"name": "营业执照", "until": "2026-11-30"}])
    (owed,) = answer["tasks"][0]["deferred"]
    assert owed["until"] == "2026-11-30T17:30:00+08:00" and owed["awaiting_task_id"] is None


def test_an_overdue_deferral_warns_the_agent_and_the_enterprise_once(journey, session, app):
    project = startup(journey)
    journey.dispatch(project["id"], items=["GA-01"], deferred=[{"name": "营业执照", "until": "2026-11-24"}])

    def sweep(when):
        result = app.test_cli_runner().invoke(args=["agency", "sweep", "--now", when])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    assert sweep("2026-11-24T17:00:00+08:00")["deferrals_overdue"] == 0
    assert sweep("2026-11-24T17:31:00+08:00")["deferrals_overdue"] == 1
    assert sweep("2026-11-24T18:00:00+08:00")["deferrals_overdue"] == 0
    for who in ("agent", "ent"):
        subjects = session.scalars(select(Message.subject).where(Message.user_id == journey.people[who].id)).all()
        assert subjects.count("容缺材料逾期未补齐：营业执照") == 1
    # the supervision board shows it, with the promised date, until it is supplied
    journey.clock.set("2026-11-25T09:00:00+08:00")
    director = page_client(app)
    login(director, "director")
    board = text(director.get("/supervision/"))
    start = board.index('id="deferrals"')
    section = board[start:board.index("</table>", start)]
    assert "甲公司设立" in section and "营业执照" in section and "2026-11-24 17:30" in section
    # the file arrives and is accepted: the deferral is settled and the result may go out
    journey.file_and_accept(project["id"], ["营业执照"])
    session.expire_all()
    assert session.scalar(select(Deferral.supplied_at)) is not None
    board = text(director.get("/supervision/"))
    start = board.index('id="deferrals"')
    assert "甲公司设立" not in board[start:board.index("</table>", start)]


def test_results_fill_a_later_stage_and_a_deemed_task_gives_its_notice(journey, session, app, now):
    """COMPLETION: ZRGH-04 and ZJ-05 issue what ZJ-06 (stage 2) needs; ZJ-05 is deemed? no — not deemable;
    ZRGH-04 is deemed on timeout and its notice fills 规划核实意见; stage 2 then goes out by itself."""
    project = journey.entrust("COMPLETION", name="二期竣工验收")
    ready_for_dispatch(session, now, session.get(Project, project["id"]))
    assert journey.checklist(project["id"])["规划核实意见"]["status"] == "awaiting_result"
    journey.dispatch(project["id"])
    tasks = journey.tasks_by_item(project["id"])
    journey.answer(tasks["ZJ-05"], result={"kind": "opinion", "number": "XF-9"})
    journey.answer(tasks["DA-01"])
    result = app.test_cli_runner().invoke(args=["agency", "sweep", "--now", "2026-12-31T09:00:00+08:00"])
    assert json.loads(result.output)["deemed_consent"] == 1
    journey.clock.set("2026-12-31T09:00:00+08:00")
    checklist = journey.checklist(project["id"])
    assert (checklist["规划核实意见"]["status"], checklist["规划核实意见"]["from_task_id"]) == ("from_result",
                                                                                          tasks["ZRGH-04"]["id"])
    assert checklist["消防验收意见"]["status"] == "from_result"
    detail = journey.project(project["id"], "agent")
    assert [s["status"] for s in detail["stages"]] == ["closed", "open"]
    zj06 = next(t for t in detail["tasks"] if t["item"] == "ZJ-06")
    assert zj06["status"] == "pending" and zj06["deferred"] == []
    deemed = next(t for t in detail["tasks"] if t["item"] == "ZRGH-04")
    assert deemed["result"]["kind"] == "deemed_consent_notice" and deemed["result"]["released"] is True
    results = {r["item"]: r for r in journey.call("ent", "get", f"/projects/{project['id']}/results")}
    notice = journey.as_("ent").get(api_path(results["ZRGH-04"]["download_url"]))
    html = notice.get_data(as_text=True)
    assert notice.status_code == 200 and notice.mimetype == "text/html"
    assert "默认同意告知书" in html and "规划条件核实" in html and "2026-" in html and "超时默认" in html
    assert count(session, TaskResult, TaskResult.kind == "deemed_consent_notice") == 1


def test_the_next_stage_waits_for_its_materials_and_the_agent_is_told(journey, session):
    """Only stage 1's materials filed: stage 1 all in consent does not dispatch stage 2 by itself."""
    project = journey.entrust()
    journey.sign(project["id"])
    journey.call("ent", "patch", f"/projects/{project['id']}", json={"project_code": "2026-330106-34-03-000001"})
    stage_one = journey.required_names(project["id"], ["FGW-01", "FGW-03", "ZRGH-01", "ZRGH-02"])
    journey.file_and_accept(project["id"], stage_one)
    journey.dispatch(project["id"])
    for task in journey.tasks_by_item(project["id"]).values():
        journey.answer(task)
    detail = journey.project(project["id"], "agent")
    assert [s["status"] for s in detail["stages"]] == ["closed", "waiting", "waiting"]
    assert detail["status"] == "in_progress"
    (told,) = session.scalars(select(Message).where(Message.user_id == journey.people["agent"].id,
                                                    Message.subject.like("下一阶段待派发%"))).all()
    assert "建设工程设计方案" in told.body and "申请表" not in told.body.split("：", 1)[0]
    # filed and accepted, the agent dispatches stage 2 by hand
    journey.file_and_accept(project["id"], journey.required_names(project["id"], [
        "ZRGH-03", "ZJ-01", "ZJ-02", "STHJ-01", "RF-01", "QX-01", "SL-01"]))
    assert journey.dispatch(project["id"])["stage"]["order"] == 2


def test_delivery_shipments_and_who_may_download_a_result(journey, session):
    project = journey.entrust("REAL_ESTATE", name="冷链仓库不动产转移")
    ready_for_dispatch(session, journey.clock.value, session.get(Project, project["id"]))
    (task,) = journey.dispatch(project["id"])["tasks"]
    journey.answer(task, result={"kind": "licence", "number": "浙(2026)杭州市不动产权第0001号"})
    # the liaison attaches the electronic licence (a PDF; anything else is refused)
    assert_error(journey.as_("bdc_a").post(f"/tasks/{task['id']}/result-file", data={
        "file": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 64), "x.png")}, content_type="multipart/form-data"),
        415, "unsupported_media_type")
    assert journey.as_("fgw_a").post(f"/tasks/{task['id']}/result-file", data={
        "file": (io.BytesIO(PDF_BYTES), "licence.pdf")}, content_type="multipart/form-data").status_code == 404
    body = journey.call("bdc_a", "post", f"/tasks/{task['id']}/result-file",
                        data={"file": (io.BytesIO(PDF_BYTES), "不动产权证书.pdf")}, content_type="multipart/form-data")
    assert len(body["result"]["sha256"]) == 64
    (result,) = journey.call("ent", "get", f"/projects/{project['id']}/results")
    url = api_path(result["download_url"])
    for party in ("ent", "agent", "director"):
        download = journey.as_(party).get(url)
        assert download.status_code == 200 and download.data == PDF_BYTES
        assert download.headers["X-Checksum-SHA256"] == body["result"]["sha256"]
    for other in ("ent2", "agent2", "bdc_a", "fgw_a"):
        assert_error(journey.as_(other).get(url), 404, "not_found")
    (seen,) = journey.call("bdc_a", "get", f"/projects/{project['id']}/results")
    assert seen["download_url"] is None and seen["number"]  # the liaison sees the result was issued, not the file
    # delivery by post needs an address; nothing changes when refused
    before = snapshot(session)
    assert_error(journey.as_("ent").put(f"/projects/{project['id']}/delivery", json={"method": "post"}), 400,
                 "bad_input", "address")
    assert_error(journey.as_("ent").put(f"/projects/{project['id']}/delivery", json={"method": "drone"}), 400,
                 "bad_input", "method")
    assert_error(journey.as_("ent2").put(f"/projects/{project['id']}/delivery", json={"method": "pickup"}), 404,
                 "not_found")
    assert snapshot(session) == before
    assert journey.call("ent", "put", f"/projects/{project['id']}/delivery",
                        json={"method": "post", "address": "杭州市临港路66号"}) == {"method": "post",
                                                                                  "address": "杭州市临港路66号"}
    shipment = journey.call("agent", "post", f"/projects/{project['id']}/shipments", 201,
                            json={"task_ids": [task["id"]], "waybill": "SF1234567890"})
    assert (shipment["waybill"], shipment["address"], shipment["signed_at"]) == ("SF1234567890", "杭州市临港路66号", None)
    journey.clock.advance(days=1)
    signed = journey.call("agent", "post", f"/shipments/{shipment['id']}/signed", json={})
    assert signed["signed_at"] is not None
    assert_error(journey.as_("agent").post(f"/shipments/{shipment['id']}/signed", json={}), 409, "conflict")
    assert_error(journey.as_("agent2").post(f"/shipments/{shipment['id']}/signed", json={}), 404, "not_found")
    timeline = [e["detail"] for e in journey.call("ent", "get", f"/projects/{project['id']}/timeline")]
    assert any("运单号SF1234567890" in d for d in timeline) and any("已签收" in d for d in timeline)
    assert any("送达方式：快递送达" in d for d in timeline)
    assert count(session, Shipment) == 1


def test_a_shipment_needs_postal_delivery_and_released_results(journey, session):
    project = startup(journey)
    journey.dispatch(project["id"])
    tasks = journey.tasks_by_item(project["id"])
    journey.answer(tasks["GA-01"])
    assert_error(journey.as_("agent").post(f"/projects/{project['id']}/shipments",
                                           json={"task_ids": [tasks["GA-01"]["id"]], "waybill": "SF1"}),
                 422, "rule_violated", "method")
    journey.call("ent", "put", f"/projects/{project['id']}/delivery", json={"method": "post", "address": "某地"})
    fields = assert_error(journey.as_("agent").post(f"/projects/{project['id']}/shipments",
                                                    json={"task_ids": [tasks["GA-01"]["id"]], "waybill": "SF1"}),
                          422, "rule_violated", "task_ids")
    assert fields["task_ids"] == [tasks["GA-01"]["id"]]  # withheld: 营业执照 is still owed
    assert count(session, Shipment) == 0


def test_visits_are_counted(journey, session):
    project = journey.entrust("REAL_ESTATE")
    visit = journey.call("agent", "post", f"/projects/{project['id']}/visits", 201,
                         json={"on": "2026-11-23", "reason": "核验原件"})
    assert visit["reason"] == "核验原件"
    assert journey.project(project["id"])["visits"] == 1
    assert_error(journey.as_("agent").post(f"/projects/{project['id']}/visits", json={"on": "2026-12-25",
                                                                                    "reason": "x"}), 400, "bad_input", "on")
    assert_error(journey.as_("agent").post(f"/projects/{project['id']}/visits", json={"on": "2026-11-23"}), 400,
                 "bad_input", "reason")
    assert journey.as_("ent").post(f"/projects/{project['id']}/visits",
                                   json={"on": "2026-11-23", "reason": "x"}).status_code == 403
    assert journey.project(project["id"])["visits"] == 1
