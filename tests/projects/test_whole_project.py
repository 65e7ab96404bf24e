"""A construction project (IND_PERMIT, three stages) from entrustment to completion, through the API.

The clock is injected (AGENCY_NOW); the sweep runs as the command with --now.
"""
import json

from sqlalchemy import select

from agency.projects.models import Project
from agency.supervision.models import Card, Escalation
from tests.support import ready_for_dispatch
from tests.tasks import app, hall, hall_template, inbox, shared_app  # noqa: F401  (fixtures)


def test_an_industrial_project_from_entrustment_to_completion(app, api, session, hall, clock, entrust_body,  # noqa: F811
                                                              run_jobs, mail):
    agent, ent, director = api(hall["agent"]), api(hall["ent"]), api(hall["director"])

    def liaison(code, slot="a"):
        return api(hall[f"{code.lower()}_{slot}"])

    def sweep(when):
        result = app.test_cli_runner().invoke(args=["agency", "sweep", "--now", when])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    def tasks_of(project_id, **query):
        response = agent.get(f"/tasks?project_id={project_id}" + "".join(f"&{k}={v}" for k, v in query.items()))
        return {t["item"]: t for t in response.get_json()}

    def ok(response, status=200):
        assert response.status_code == status, response.get_json()
        return response.get_json()

    # Monday 23 Nov: the agent receives the enterprise and entrusts its project on its behalf
    clock.set("2026-11-23T09:00:00+08:00")
    project = ok(agent.post("/projects", json={**entrust_body, "enterprise_id": hall["ent"].id}), 201)
    pid = project["id"]
    assert (project["status"], project["first_contact_agent_id"]) == ("entrusted", hall["agent"].id)
    ok(ent.post(f"/projects/{pid}/agreement"))
    ready_for_dispatch(session, clock.value, session.get(Project, pid))  # the code given, every material filed once
    assert ok(ent.get(f"/projects/{pid}/contact-card"))["agent_name"] == "agent"

    # stage 1 (立项用地规划许可): four departments in parallel
    clock.set("2026-11-23T09:30:00+08:00")
    stage = ok(agent.post(f"/projects/{pid}/dispatch", json={}))
    assert stage["stage"]["order"] == 1
    first = {t["item"]: t for t in stage["tasks"]}
    assert sorted(first) == ["FGW-01", "FGW-03", "ZRGH-01", "ZRGH-02"]
    run_jobs()
    assert "新办件：企业投资项目备案" in inbox(session, hall["fgw_a"])

    clock.set("2026-11-23T14:00:00+08:00")
    ok(liaison("FGW").post(f"/tasks/{first['FGW-01']['id']}/accept"))
    ok(liaison("FGW").post(f"/tasks/{first['FGW-01']['id']}/answer", json={"decision": "consent"}))
    ok(liaison("ZRGH").post(f"/tasks/{first['ZRGH-01']['id']}/supplement", json={"materials": ["勘测定界图"]}))
    clock.set("2026-11-25T10:00:00+08:00")
    ok(ent.post(f"/tasks/{first['ZRGH-01']['id']}/materials-supplied"))
    clock.set("2026-11-26T11:00:00+08:00")
    answered = ok(liaison("FGW").post(f"/tasks/{first['FGW-03']['id']}/answer", json={
        "decision": "consent_with_conditions", "opinion": "投产前完成节能验收"}))
    assert (answered["status"], answered["outcome"]) == ("answered", "consent_with_conditions")
    ok(liaison("ZRGH", "b").post(f"/tasks/{first['ZRGH-01']['id']}/answer", json={"decision": "consent"}))
    # ZRGH-02 is left to run out: 7 working days, Wednesday 2 Dec 17:30
    assert tasks_of(pid)["ZRGH-02"]["deadline"] == "2026-12-02T17:30:00+08:00"
    counts = sweep("2026-12-01T17:31:00+08:00")  # one working day left: a warning
    assert (counts["warned"], counts["deemed_consent"]) == (1, 0)
    counts = sweep("2026-12-02T17:31:00+08:00")
    assert (counts["deemed_consent"], counts["escalated"]) == (1, 0)
    deemed = tasks_of(pid)["ZRGH-02"]
    assert (deemed["status"], deemed["outcome"], deemed["outcome_reason"]) == ("deemed_consent", "consent", "timeout")
    assert session.scalar(select(Card.reason).where(Card.task_id == deemed["id"], Card.color == "red")) == "timeout"

    # stage 2 (工程建设许可) dispatched by itself at that instant
    second = tasks_of(pid, status="pending")
    assert sorted(second) == ["QX-01", "RF-01", "SL-01", "STHJ-01", "ZJ-01", "ZJ-02", "ZRGH-03"]
    assert {t["started_at"] for t in second.values()} == {"2026-12-02T17:31:00+08:00"}
    clock.set("2026-12-03T10:00:00+08:00")
    for code, task in second.items():
        if code != "ZJ-02":
            ok(liaison(code.split("-")[0]).post(f"/tasks/{task['id']}/answer", json={"decision": "consent"}))
    # ZJ-02 (fire-safety design review) may not be deemed: past its deadline it goes to the director
    zj02 = second["ZJ-02"]
    assert zj02["deadline"] == "2026-12-16T17:30:00+08:00"
    counts = sweep("2026-12-17T09:00:00+08:00")
    assert (counts["deemed_consent"], counts["escalated"]) == (0, 1)
    assert ok(ent.get(f"/tasks/{zj02['id']}"))["status"] == "pending"
    assert session.scalar(select(Escalation.task_id)) == zj02["id"]
    assert any(s.startswith("超时督办") for s in inbox(session, hall["director"]))
    clock.set("2026-12-17T10:00:00+08:00")
    ok(liaison("ZJ").post(f"/tasks/{zj02['id']}/answer", json={"decision": "consent"}))

    # stage 3 (施工许可), then completion; ZJ-04 is immediate (即办件): due at closing the same day
    third = tasks_of(pid, status="pending")
    assert sorted(third) == ["ZJ-03", "ZJ-04"]
    assert third["ZJ-04"]["deadline"] == "2026-12-17T17:30:00+08:00"
    clock.set("2026-12-17T16:00:00+08:00")
    for task in third.values():
        ok(liaison("ZJ", "b").post(f"/tasks/{task['id']}/answer", json={"decision": "consent"}))
    detail = ok(ent.get(f"/projects/{pid}"))
    assert detail["status"] == "completed" and detail["completed_at"] == "2026-12-17T16:00:00+08:00"
    assert [s["status"] for s in detail["stages"]] == ["closed", "closed", "closed"]
    assert len(detail["tasks"]) == 13 and all(t["status"] in ("answered", "deemed_consent") for t in detail["tasks"])
    assert detail["working_days_elapsed"] == 18  # completed Thursday 17 Dec (ZJ-04 answered the same day)

    # the enterprise follows every step, oldest first, the deemed consent included
    timeline = ok(ent.get(f"/projects/{pid}/timeline"))
    actions = [e["action"] for e in timeline]
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)
    assert actions[0] == "project.entrusted" and actions[-1] == "project.completed"
    for action, times in [("stage.dispatched", 3), ("stage.closed", 3), ("task.answered", 12),
                          ("task.deemed_consent", 1), ("task.escalated", 1), ("task.supplement_requested", 1),
                          ("task.materials_supplied", 1), ("project.agreement_signed", 1), ("task.accepted", 1),
                          ("contact_card.issued", 1)]:
        assert actions.count(action) == times, (action, actions)
    deemed_entry = next(e for e in timeline if e["action"] == "task.deemed_consent")
    assert "超时默认同意" in deemed_entry["detail"] and deemed_entry["at"] == "2026-12-02T17:31:00+08:00"
    assert any("附条件同意" in e["detail"] and "投产前完成节能验收" in e["detail"] for e in timeline)
    assert next(e for e in timeline if e["action"] == "task.accepted")["actor"] == "fgw_a"

    # the enterprise was told by inbox and e-mail
    run_jobs()
    subjects = {m["Subject"] for m in mail if m["To"] == "ent@corp.test"}
    assert {"超时默认同意：建设用地规划许可证核发", f"项目办结：{entrust_body['name']}"} <= subjects
    assert director.get("/projects?status=completed").get_json()[0]["id"] == pid

    result = app.test_cli_runner().invoke(args=["agency", "verify-audit"])
    assert result.exit_code == 0, result.output
    result = app.test_cli_runner().invoke(args=["agency", "verify-audit", "--project", str(pid)])
    assert result.exit_code == 0, result.output
