"""Joint meetings through the REST API (API.md): a joint review that closes a stage, scope, and errors."""
import pytest

from tests.meetings.conftest import MONDAY, at
from tests.support import ready_for_dispatch
from agency.projects.models import Project

WED_0900 = "2026-11-25T09:00:00+08:00"
WED_1100 = "2026-11-25T11:00:00+08:00"


@pytest.fixture
def dispatched(hall, api, clock, entrust_body, session):
    """A project entrusted and dispatched through the API on Monday 09:00; returns its detail."""
    clock.set(MONDAY)
    agent = api(hall["agent"])
    created = agent.post("/projects", json={**entrust_body, "enterprise_id": hall["ent"].id})
    assert created.status_code == 201, created.json
    ready_for_dispatch(session, MONDAY, session.get(Project, created.json["id"]))
    assert agent.post(f"/projects/{created.json['id']}/dispatch", json={}).status_code == 200
    return agent.get(f"/projects/{created.json['id']}").json


@pytest.fixture
def entrust_body():
    from tests.meetings.conftest import ENTRUST
    return dict(ENTRUST)


def schedule(agent, project_id, **overrides):
    body = {"kind": "joint_review", "starts_at": WED_0900, "place": "联审室", **overrides}
    return agent.post(f"/projects/{project_id}/meetings", json=body)


def test_a_joint_review_with_an_absent_duly_invited_department_closes_the_stage(hall, api, clock, run_jobs,
                                                                               dispatched):
    agent, fgw, ent = api(hall["agent"]), api(hall["fgw_a"]), api(hall["ent"])
    project_id = dispatched["id"]
    created = schedule(agent, project_id)
    assert created.status_code == 201, created.json
    meeting = created.json
    assert (meeting["kind"], meeting["status"], meeting["starts_at"]) == ("joint_review", "scheduled", WED_0900)
    assert [(i["department"], i["delivered_at"], i["duly_invited"]) for i in meeting["invitations"]] == [
        ("FGW", None, None), ("ZRGH", None, None)]

    clock.set(at(MONDAY, minutes=5))
    run_jobs()
    meeting = agent.get(f"/meetings/{meeting['id']}").json
    assert {i["department"]: (i["delivered_at"], i["duly_invited"]) for i in meeting["invitations"]} == {
        "FGW": ("2026-11-23T09:05:00+08:00", True), "ZRGH": ("2026-11-23T09:05:00+08:00", True)}

    # FGW answers its tasks and confirms; ZRGH stays silent
    for task in [t for t in dispatched["tasks"] if t["department"] == "FGW"]:
        assert fgw.post(f"/tasks/{task['id']}/answer", json={"decision": "consent"}).status_code == 200
    confirmed = fgw.post(f"/meetings/{meeting['id']}/confirm", json={"department_code": "FGW",
                                                                      "representative": "王科长"})
    assert confirmed.status_code == 200 and confirmed.json["representative"] == "王科长"
    written = fgw.post(f"/meetings/{meeting['id']}/opinions", json={"department_code": "FGW", "decision": "consent",
                                                                     "opinion": "同意"})
    assert written.status_code == 200 and written.json["department"] == "FGW"

    clock.set("2026-11-25T11:00:00+08:00")
    recorded = agent.post(f"/meetings/{meeting['id']}/record", json={"attendance": [
        {"department_code": "FGW", "present": True, "decision": "consent", "opinion": "同意"},
        {"department_code": "ZRGH", "present": False}]})
    assert recorded.status_code == 200 and recorded.json["status"] == "held"
    closed = agent.post(f"/meetings/{meeting['id']}/close", json={"conclusion": "同意进入下一阶段"})
    assert closed.status_code == 200, closed.json
    body = closed.json
    assert body["status"] == "closed" and "会议纪要（联审会议）" in body["minutes"]
    assert {i["department"]: (i["attendance"], i["decision"], i["stance_source"]) for i in body["invitations"]} == {
        "FGW": ("present", "consent", "present"), "ZRGH": ("absent", "consent", "deemed")}

    project = agent.get(f"/projects/{project_id}").json
    assert [s["status"] for s in project["stages"]][:2] == ["closed", "open"]
    zrgh = [t for t in project["tasks"] if t["department"] == "ZRGH" and t["stage"] == 1]
    assert {(t["status"], t["outcome_reason"]) for t in zrgh} == {("deemed_consent", "absence")}
    assert {t["status"] for t in project["tasks"] if t["stage"] == 2} == {"pending"}  # next stage dispatched

    actions = [e["action"] for e in agent.get(f"/projects/{project_id}/timeline").json]
    for action in ("meeting.scheduled", "meeting.invitation_delivered", "meeting.attendance_confirmed",
                   "meeting.written_opinion", "meeting.attendance_recorded", "meeting.closed", "stage.closed"):
        assert action in actions
    # the enterprise sees its meeting and downloads the minutes
    assert [m["id"] for m in ent.get(f"/projects/{project_id}/meetings").json] == [meeting["id"]]
    minutes = ent.get(f"/meetings/{meeting['id']}/minutes")
    assert minutes.status_code == 200 and minutes.mimetype == "text/plain"
    assert "自然资源和规划局：视为同意" in minutes.get_data(as_text=True)
    # closing twice is a conflict
    again = agent.post(f"/meetings/{meeting['id']}/close", json={"conclusion": "再次"})
    assert again.status_code == 409 and again.json["error"]["code"] == "conflict"


def test_scope_of_meetings(hall, api, clock, dispatched):
    meeting = schedule(api(hall["agent"]), dispatched["id"]).json
    assert api(hall["ent"]).get(f"/meetings/{meeting['id']}").status_code == 200
    assert api(hall["director"]).get(f"/meetings/{meeting['id']}").status_code == 200
    assert api(hall["zrgh_a"]).get(f"/meetings/{meeting['id']}").status_code == 200
    for outsider in ("ent2", "agent2", "zj_a"):
        response = api(hall[outsider]).get(f"/meetings/{meeting['id']}")
        assert response.status_code == 404, outsider
    assert [m["id"] for m in api(hall["fgw_a"]).get("/meetings").json] == [meeting["id"]]
    assert api(hall["zj_a"]).get("/meetings").json == []
    # minutes exist only once closed
    assert api(hall["ent"]).get(f"/meetings/{meeting['id']}/minutes").status_code == 409


def test_bad_input_gets_a_clear_error_and_changes_nothing(session, hall, api, clock, dispatched, run_jobs):
    agent, project_id = api(hall["agent"]), dispatched["id"]

    def meetings():
        return agent.get(f"/projects/{project_id}/meetings").json

    cases = [
        ({"place": ""}, 400, "place"),
        ({"starts_at": "2026-11-25T09:00:00"}, 400, "starts_at"),  # no offset
        ({"kind": "party"}, 400, "kind"),
        ({"department_codes": []}, 400, "department_codes"),
        ({"department_codes": ["NOPE"]}, 400, "department_codes"),
        ({"starts_at": "2026-11-20T09:00:00+08:00"}, 422, "starts_at"),  # in the past
        ({"starts_at": "2026-11-28T09:00:00+08:00"}, 422, "starts_at"),  # Saturday, a review
    ]
    for overrides, status, field in cases:
        response = schedule(agent, project_id, **overrides)
        assert response.status_code == status, (overrides, response.json)
        assert field in response.json["error"]["fields"], (overrides, response.json)
    hall["rf_a"].on_leave = hall["rf_b"].on_leave = True
    session.commit()
    no_liaison = schedule(agent, project_id, department_codes=["RF"])
    assert no_liaison.status_code == 422 and "RF" in no_liaison.json["error"]["message"]
    assert meetings() == []
    assert schedule(api(hall["agent2"]), project_id).status_code == 404  # another agent's project
    assert schedule(api(hall["fgw_a"]), project_id).status_code == 403  # a liaison does not schedule

    survey = schedule(agent, project_id, kind="site_survey", starts_at="2026-11-28T09:00:00+08:00")
    assert survey.status_code == 201 and any("非工作日" in w for w in survey.json["warnings"])

    meeting = schedule(agent, project_id).json
    url = f"/meetings/{meeting['id']}"
    clock.set(at(MONDAY, minutes=5))
    run_jobs()
    before = agent.get(url).json
    # a liaison writing for another department, or a decision out of the list
    assert api(hall["fgw_a"]).post(url + "/opinions", json={"department_code": "ZRGH", "decision": "consent"}
                                   ).status_code == 404
    assert api(hall["fgw_a"]).post(url + "/opinions", json={"department_code": "FGW", "decision": "refuse",
                                                            "opinion": "x"}).status_code == 400
    assert api(hall["fgw_a"]).post(url + "/opinions", json={"department_code": "FGW", "decision": "objection"}
                                   ).status_code == 400  # an objection needs its reason
    clock.set("2026-11-25T11:00:00+08:00")
    late = api(hall["fgw_a"]).post(url + "/opinions", json={"department_code": "FGW", "decision": "consent"})
    assert late.status_code == 422
    uninvited = agent.post(url + "/record", json={"attendance": [{"department_code": "ZJ", "present": True,
                                                                  "decision": "consent"}]})
    assert uninvited.status_code == 422 and "ZJ" in uninvited.json["error"]["message"]
    assert agent.post(url + "/record", json={"attendance": []}).status_code == 400
    assert agent.get(url).json == before


def test_reschedule_and_cancel(hall, api, clock, dispatched, run_jobs):
    agent = api(hall["agent"])
    meeting = schedule(agent, dispatched["id"]).json
    moved = agent.post(f"/meetings/{meeting['id']}/reschedule", json={"starts_at": "2026-11-26T14:30:00+08:00",
                                                                       "place": "二楼"})
    assert moved.status_code == 200
    assert (moved.json["starts_at"], moved.json["place"], moved.json["sequence"]) == (
        "2026-11-26T14:30:00+08:00", "二楼", 1)
    past = agent.post(f"/meetings/{meeting['id']}/reschedule", json={"starts_at": "2026-11-01T14:30:00+08:00"})
    assert past.status_code == 422
    cancelled = agent.post(f"/meetings/{meeting['id']}/cancel", json={"reason": "企业调整方案"})
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert cancelled.json["sequence"] == 2
    assert agent.post(f"/meetings/{meeting['id']}/cancel", json={"reason": "再次"}).status_code == 409
    assert agent.post(f"/meetings/{meeting['id']}/cancel", json={}).status_code == 400


def test_closing_with_unrecorded_attendance_is_422_naming_them_and_changes_nothing(session, hall, api, clock,
                                                                                    dispatched, run_jobs):
    from sqlalchemy import func, select

    from agency.audit.models import AuditEvent
    from agency.jobs.models import OutboxJob
    from agency.meetings.models import Invitation, Meeting
    from agency.notifications.models import Message
    from agency.tasks.models import Task

    agent, zj = api(hall["agent"]), api(hall["zj_a"])
    meeting = schedule(agent, dispatched["id"], department_codes=["FGW", "ZRGH", "ZJ", "RF"]).json
    url = f"/meetings/{meeting['id']}"
    clock.set(at(MONDAY, minutes=5))
    run_jobs()
    assert zj.post(url + "/confirm", json={"department_code": "ZJ", "representative": "李工"}).status_code == 200
    clock.set(WED_1100)
    assert agent.post(url + "/record", json={"attendance": [
        {"department_code": "FGW", "present": True, "decision": "consent"},
        {"department_code": "ZRGH", "present": False}]}).status_code == 200

    def rows():
        session.expire_all()
        return (session.execute(select(Meeting.status, Meeting.closed_at, Meeting.minutes)).all(),
                session.execute(select(Invitation.id, Invitation.attendance, Invitation.stance_source,
                                       Invitation.decision).order_by(Invitation.id)).all(),
                session.execute(select(Task.id, Task.status, Task.outcome_reason).order_by(Task.id)).all(),
                session.scalar(select(func.count()).select_from(AuditEvent)),
                session.scalar(select(func.count()).select_from(OutboxJob)),
                session.scalar(select(func.count()).select_from(Message)))

    before = rows()
    refused = agent.post(url + "/close", json={"conclusion": "原则同意"})
    assert refused.status_code == 422, refused.json
    error = refused.json["error"]
    assert error["code"] == "rule_violated" and error["fields"] == {"unrecorded": ["ZJ", "RF"]}
    assert "ZJ" in error["message"] and "RF" in error["message"] and "ZRGH" not in error["message"]
    assert rows() == before
    assert before[0] == [("held", None, "")]
    assert agent.get(url).json["status"] == "held"

    # recorded absent (ZJ had confirmed, then stayed away): now the rule applies to what was recorded
    assert agent.post(url + "/record", json={"attendance": [
        {"department_code": "ZJ", "present": False}, {"department_code": "RF", "present": False}]}
    ).status_code == 200
    closed = agent.post(url + "/close", json={"conclusion": "原则同意"})
    assert closed.status_code == 200, closed.json
    assert {i["department"]: i["stance_source"] for i in closed.json["invitations"]} == {
        "FGW": "present", "ZRGH": "deemed", "ZJ": "deemed", "RF": "deemed"}
