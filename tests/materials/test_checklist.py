"""File once (R14): the checklist, filing, pre-review and what a dispatch needs (R2, R17)."""
import io
from pathlib import Path

from sqlalchemy import select

from agency.materials.models import ProjectMaterial
from agency.notifications.models import Message
from agency.tasks.models import MaterialFile
from tests.materials.conftest import PDF_BYTES, PNG, api_path
from tests.tasks import assert_error, audit_actions, count, snapshot

STAGE_ONE = ["FGW-01", "FGW-03", "ZRGH-01", "ZRGH-02"]


def test_the_checklist_is_one_entry_per_distinct_name(journey):
    project = journey.entrust()
    entries = journey.call("ent", "get", f"/projects/{project['id']}/materials")
    names = [e["name"] for e in entries]
    assert len(names) == len(set(names))
    by_name = {e["name"]: e for e in entries}
    # 申请表 is asked for by five items of three departments: one entry, filed once
    assert by_name["申请表"]["items"] == ["ZRGH-02", "ZRGH-03", "ZJ-02", "RF-01", "ZJ-03"]
    assert by_name["申请表"]["status"] == "missing" and by_name["申请表"]["optional"] is False
    assert not any(e["optional"] for e in entries)  # IND_PERMIT has no item with a (如需) material
    # what a result of the project will supply is awaited, not asked for
    assert by_name["项目备案证明"] | {} == {**by_name["项目备案证明"], "status": "awaiting_result",
                                        "issued_by": ["FGW-01"], "items": ["FGW-03"]}
    assert by_name["建设工程规划许可证"]["status"] == "awaiting_result"
    assert set(entries[0]) == {"name", "items", "optional", "status", "sha256", "uploaded_at", "filename",
                               "download_url", "reason", "deferred_until", "from_task_id", "issued_by"}


def test_a_shared_material_is_filed_once_and_serves_every_task(journey, session, now):
    project = journey.entrust()
    journey.sign(project["id"])
    entry = journey.file(project["id"], "申请表", filename="申请表.pdf")
    assert entry["status"] == "uploaded" and len(entry["sha256"]) == 64
    journey.file_and_accept(project["id"], [n for n in journey.required_names(project["id"], STAGE_ONE)
                                           if n != "申请表"])
    journey.prereview(project["id"], [{"name": "申请表", "accepted": True}])
    journey.call("ent", "patch", f"/projects/{project['id']}", json={"project_code": "2026-330106-34-03-000001"})
    journey.dispatch(project["id"])
    tasks = journey.tasks_by_item(project["id"])
    # ZRGH-02 (stage 1) uses the one file; so does the liaison of ZRGH, through its task's materials
    answer = journey.call("zrgh_a", "get", f"/tasks/{tasks['ZRGH-02']['id']}/materials")
    shared = next(m for m in answer["checklist"] if m["name"] == "申请表")
    assert shared["sha256"] == entry["sha256"] and shared["download_url"] == entry["download_url"]
    download = journey.as_("zrgh_a").get(api_path(shared["download_url"]))
    assert download.status_code == 200 and download.data == PDF_BYTES
    # a department whose tasks do not need it does not see it
    assert journey.as_("fgw_a").get(api_path(shared["download_url"])).status_code == 404
    assert journey.as_("ent2").get(api_path(shared["download_url"])).status_code == 404
    assert count(session, MaterialFile, MaterialFile.material == "申请表") == 1


def _stored(app) -> set:
    return {p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()}


def test_a_name_not_on_the_checklist_is_422_and_nothing_is_written(journey, session, app):
    project = journey.entrust()
    before, files = snapshot(session), _stored(app)
    fields = assert_error(journey.as_("ent").post(
        f"/projects/{project['id']}/materials", data={"name": "不存在的材料", "file": (io.BytesIO(PDF_BYTES), "x.pdf")},
        content_type="multipart/form-data"), 422, "rule_violated", "name")
    assert fields == {"name": "not on the checklist"}
    assert snapshot(session) == before and _stored(app) == files
    # nor by anyone else: another enterprise, a liaison
    assert journey.as_("ent2").post(f"/projects/{project['id']}/materials", data={
        "name": "申请表", "file": (io.BytesIO(PDF_BYTES), "a.pdf")}, content_type="multipart/form-data").status_code == 404
    assert snapshot(session) == before and _stored(app) == files


def test_a_newer_upload_replaces_the_file_and_the_old_one_stays_in_the_history(journey, session):
    project = journey.entrust()
    first = journey.file(project["id"], "申请表")
    journey.prereview(project["id"], [{"name": "申请表", "accepted": True}])
    second = journey.file(project["id"], "申请表", data=PNG, filename="申请表.png")
    assert second["sha256"] != first["sha256"] and second["status"] == "uploaded"  # to be reviewed again
    history = journey.call("ent", "get", f"/projects/{project['id']}/materials/history")
    assert [h["sha256"] for h in history] == [first["sha256"], second["sha256"]]
    assert journey.as_("ent").get(api_path(first["download_url"])).data == PDF_BYTES  # the old file is kept
    assert audit_actions(session, project["id"]).count("material.filed") == 2


def test_pre_review_returns_reach_the_enterprise_in_one_message(journey, session):
    project = journey.entrust()
    for name in ("申请表", "土地出让合同", "规划条件"):
        journey.file(project["id"], name)
    before = count(session, Message, Message.user_id == journey.people["ent"].id)
    entries = journey.prereview(project["id"], [
        {"name": "申请表", "accepted": True},
        {"name": "土地出让合同", "accepted": False, "reason": "缺少盖章页"},
        {"name": "规划条件", "accepted": False, "reason": "版本过期"}])
    by_name = {e["name"]: e for e in entries}
    assert (by_name["申请表"]["status"], by_name["土地出让合同"]["status"], by_name["土地出让合同"]["reason"]) == (
        "accepted", "returned", "缺少盖章页")
    messages = session.scalars(select(Message).where(Message.user_id == journey.people["ent"].id)
                               .order_by(Message.id)).all()[before:]
    assert len(messages) == 1 and "缺少盖章页" in messages[0].body and "版本过期" in messages[0].body


def test_a_return_without_a_reason_is_400_and_nothing_changes(journey, session):
    project = journey.entrust()
    journey.file(project["id"], "申请表")
    journey.file(project["id"], "规划条件")
    before = snapshot(session)
    stored = session.scalars(select(ProjectMaterial.status)).all()
    fields = assert_error(journey.as_("agent").post(f"/projects/{project['id']}/prereview", json={"decisions": [
        {"name": "申请表", "accepted": True}, {"name": "规划条件", "accepted": False, "reason": " "}]}),
        400, "bad_input", "规划条件")
    assert fields == {"规划条件": "a returned material needs a reason"}
    session.expire_all()
    assert session.scalars(select(ProjectMaterial.status)).all() == stored == ["uploaded", "uploaded"]
    assert snapshot(session) == before
    # nor by the enterprise, nor another agent
    assert journey.as_("ent").post(f"/projects/{project['id']}/prereview", json={"decisions": [
        {"name": "申请表", "accepted": True}]}).status_code == 403
    assert journey.as_("agent2").post(f"/projects/{project['id']}/prereview", json={"decisions": [
        {"name": "申请表", "accepted": True}]}).status_code == 404
    assert_error(journey.as_("agent").post(f"/projects/{project['id']}/prereview", json={"decisions": [
        {"name": "施工合同", "accepted": True}]}), 422, "rule_violated", "name")  # nothing filed for it yet


def test_a_dispatch_needs_the_agreement_the_project_code_and_the_materials(journey, session):
    project = journey.entrust()
    before = snapshot(session)
    assert_error(journey.as_("agent").post(f"/projects/{project['id']}/dispatch", json={}), 422, "rule_violated",
                 "agreement")
    journey.sign(project["id"])
    assert_error(journey.as_("agent").post(f"/projects/{project['id']}/dispatch", json={}), 422, "rule_violated",
                 "project_code")
    for bad in ("2026-33010-34-03-000001", "2026330106340300000１", "1890-330106-34-03-000001", "x" * 30):
        assert_error(journey.as_("ent").patch(f"/projects/{project['id']}", json={"project_code": bad}), 400,
                     "bad_input", "project_code")
    body = journey.call("ent", "patch", f"/projects/{project['id']}", json={"project_code": "2026-330106-34-03-000001"})
    assert body["project_code"] == "2026-330106-34-03-000001"
    fields = assert_error(journey.as_("agent").post(f"/projects/{project['id']}/dispatch", json={}), 422,
                          "rule_violated", "missing")
    assert fields["missing"] == ["项目备案申请表", "企业营业执照", "节能报告", "用地预审申请表", "项目建议书或备案证明",
                                 "勘测定界图", "申请表", "土地出让合同", "规划条件"]
    journey.file_and_accept(project["id"], fields["missing"][:-1])
    fields = assert_error(journey.as_("agent").post(f"/projects/{project['id']}/dispatch", json={}), 422,
                          "rule_violated", "missing")
    assert fields["missing"] == ["规划条件"]
    journey.file(project["id"], "规划条件")  # filed but not yet pre-reviewed: still not ready
    assert_error(journey.as_("agent").post(f"/projects/{project['id']}/dispatch", json={}), 422, "rule_violated")
    session.expire_all()
    assert snapshot(session)["tasks"] == before["tasks"] == 0
    journey.prereview(project["id"], [{"name": "规划条件", "accepted": True}])
    answer = journey.dispatch(project["id"])
    assert sorted(t["item"] for t in answer["tasks"]) == sorted(STAGE_ONE)


def test_the_agent_records_a_paper_agreement(journey, session):
    project = journey.entrust("REAL_ESTATE")
    body = journey.call("agent", "post", f"/projects/{project['id']}/agreement", json={"paper_signed_on": "2026-11-20"})
    assert body["agreement_method"] == "paper" and body["agreement_signed_at"].startswith("2026-11-20")
    assert_error(journey.as_("agent").post(f"/projects/{project['id']}/agreement", json={"paper_signed_on": "2027-01-01"}),
                 400, "bad_input", "paper_signed_on")


def test_search_finds_a_project_by_name_tracking_code_or_project_code(journey):
    one = journey.entrust(name="年产十万台精密机床项目")
    two = journey.entrust("REAL_ESTATE", name="冷链仓库不动产转移")
    journey.call("ent", "patch", f"/projects/{two['id']}", json={"project_code": "2026-330106-34-03-000777"})
    def ids(who, q):
        return [p["id"] for p in journey.call(who, "get", "/projects", query_string={"q": q})]
    assert ids("agent", "精密机床") == [one["id"]]
    assert ids("agent", one["tracking_code"].lower()) == [one["id"]]
    assert ids("director", "2026-330106-34-03-000777") == [two["id"]]
    assert ids("agent", "100%_") == []
    assert ids("agent2", "精密机床") == []  # scoped to the caller, as the list is
    assert_error(journey.as_("agent").get("/projects", query_string={"q": "x" * 101}), 400, "bad_input", "q")


def test_a_search_answers_a_page_at_a_time(journey):
    made = [journey.entrust("REAL_ESTATE", name=f"冷链仓库{n}号")["id"] for n in range(3)]
    first = journey.as_("agent").get("/projects", query_string={"q": "冷链仓库", "limit": 2})
    assert [p["id"] for p in first.get_json()] == made[::-1][:2]
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"') and "after=" in link and "q=" in link
    second = journey.as_("agent").get(link[link.index("/api/v1") + len("/api/v1"):link.index(">")])
    assert [p["id"] for p in second.get_json()] == made[:1] and "Link" not in second.headers
    # a plain list keeps its old default (up to 1,000): no Link for a few projects
    plain = journey.as_("agent").get("/projects")
    assert len(plain.get_json()) == 3 and "Link" not in plain.headers
    assert_error(journey.as_("agent").get("/projects", query_string={"limit": 0}), 400, "bad_input", "limit")
