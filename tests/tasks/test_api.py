"""The task API: the liaison's queue and answers, with the error shape of API.md."""
from datetime import datetime

import pytest
from sqlalchemy import select

from agency.tasks.models import SupplementRequest, Task
from tests.tasks import (  # noqa: F401  (fixtures)
    app,
    assert_error,
    count,
    hall,
    hall_template,
    shared_app,
    snapshot,
    start,
)

TASK_KEYS = {"id", "project_id", "department", "item", "item_name", "status", "outcome", "outcome_reason",
             "started_at", "deadline", "answered_at", "supplement_count"}


@pytest.fixture
def started(session, now, hall, clock):  # noqa: F811
    """Stage 1 of ent's IND_PERMIT project (agent), and stage 1 of ent2's STARTUP project (agent2)."""
    clock.set(now)
    project, tasks = start(session, now, hall)
    other, other_tasks = start(session, now, hall, by="agent2", enterprise="ent2", project_type="STARTUP",
                               name="乙公司开办")
    return project, {t.item.code: t for t in tasks}, other, other_tasks


def test_pending_tasks_are_scoped_per_role_and_sorted_by_deadline(api, hall, started):  # noqa: F811
    project, tasks, other, other_tasks = started
    mine = [tasks[c].id for c in ("FGW-01", "ZRGH-02", "FGW-03", "ZRGH-01")]  # Nov 24, Dec 2, Dec 7, Dec 7
    # SCJG-01 due Tuesday 24 Nov; GA-01, SW-01, RS-01 are immediate (即办件): due Monday 17:30
    theirs = [t.id for t in sorted(other_tasks, key=lambda t: (t.deadline, t.id))]
    assert [t.item.code for t in other_tasks if t.id == theirs[-1]] == ["SCJG-01"]

    def ids(user, query="?status=pending"):
        response = api(hall[user]).get("/tasks" + query)
        assert response.status_code == 200, response.get_json()
        return [t["id"] for t in response.get_json()]

    assert ids("fgw_a") == [tasks["FGW-01"].id, tasks["FGW-03"].id]
    assert ids("zrgh_b") == [tasks["ZRGH-02"].id, tasks["ZRGH-01"].id]
    assert ids("scjg_a") == [t.id for t in other_tasks if t.item.code == "SCJG-01"]
    assert ids("zj_a") == []
    assert ids("agent") == mine
    assert ids("agent2") == theirs
    assert ids("ent") == mine
    assert ids("ent2") == theirs
    everything = ids("director")
    assert sorted(everything) == sorted(mine + theirs)
    deadlines = [t["deadline"] for t in api(hall["director"]).get("/tasks?status=pending").get_json()]
    assert deadlines == sorted(deadlines, key=datetime.fromisoformat)
    assert ids("agent", "?status=answered") == []


def test_the_task_body_has_the_fields_of_api_md(api, hall, started):  # noqa: F811
    project, tasks, *_ = started
    body = api(hall["fgw_a"]).get(f"/tasks/{tasks['FGW-03'].id}").get_json()
    assert TASK_KEYS <= set(body)
    assert {k: body[k] for k in ("project_id", "department", "item", "status", "outcome", "outcome_reason",
                                 "answered_at", "supplement_count")} == {
        "project_id": project.id, "department": "FGW", "item": "FGW-03", "status": "pending", "outcome": None,
        "outcome_reason": None, "answered_at": None, "supplement_count": 0}
    assert body["started_at"] == "2026-11-23T09:00:00+08:00"
    assert body["deadline"] == "2026-12-07T17:30:00+08:00"


def test_bad_status_filter_is_bad_input(api, hall, started):  # noqa: F811
    assert_error(api(hall["director"]).get("/tasks?status=lost"), 400, "bad_input", "status")


def test_accept_by_the_department(api, session, hall, started, clock):  # noqa: F811
    project, tasks, *_ = started
    clock.set("2026-11-23T10:00:00+08:00")
    response = api(hall["fgw_b"]).post(f"/tasks/{tasks['FGW-03'].id}/accept")
    assert response.status_code == 200
    assert response.get_json()["status"] == "accepted"
    assert_error(api(hall["fgw_a"]).post(f"/tasks/{tasks['FGW-03'].id}/accept"), 409, "conflict")


def test_a_liaison_touching_another_departments_task_gets_404(api, session, hall, started):  # noqa: F811
    project, tasks, *_ = started
    task = tasks["ZRGH-01"]
    before = snapshot(session)
    client = api(hall["fgw_a"])
    assert_error(client.get(f"/tasks/{task.id}"), 404, "not_found")
    assert_error(client.post(f"/tasks/{task.id}/accept"), 404, "not_found")
    assert_error(client.post(f"/tasks/{task.id}/supplement", json={"materials": ["x"]}), 404, "not_found")
    assert_error(client.post(f"/tasks/{task.id}/answer", json={"decision": "consent"}), 404, "not_found")
    assert_error(api(hall["ent2"]).post(f"/tasks/{task.id}/materials-supplied"), 404, "not_found")
    assert_error(api(hall["agent2"]).get(f"/tasks/{task.id}"), 404, "not_found")
    assert snapshot(session) == before


def test_only_liaisons_answer_and_only_agent_or_enterprise_supply(api, session, hall, started):  # noqa: F811
    project, tasks, *_ = started
    task = tasks["FGW-01"]
    before = snapshot(session)
    for user in ("agent", "ent", "director"):
        assert_error(api(hall[user]).post(f"/tasks/{task.id}/answer", json={"decision": "consent"}), 403, "forbidden")
        assert_error(api(hall[user]).post(f"/tasks/{task.id}/accept"), 403, "forbidden")
    assert_error(api(hall["fgw_a"]).post(f"/tasks/{task.id}/materials-supplied"), 403, "forbidden")
    assert snapshot(session) == before


@pytest.mark.parametrize("body, field", [
    ({"materials": []}, "materials"), ({}, "materials"), ({"materials": [""]}, "materials"),
    ({"materials": "营业执照"}, "materials"), ({"materials": ["  "]}, "materials")])
def test_supplement_needs_a_non_empty_list(api, session, hall, started, body, field):  # noqa: F811
    project, tasks, *_ = started
    before = snapshot(session)
    assert_error(api(hall["fgw_a"]).post(f"/tasks/{tasks['FGW-01'].id}/supplement", json=body), 400, "bad_input",
                 field)
    assert snapshot(session) == before


def test_supplement_then_materials_restart_the_clock(api, session, hall, started, clock):  # noqa: F811
    project, tasks, *_ = started
    task = tasks["FGW-03"]
    clock.set("2026-11-24T10:00:00+08:00")
    response = api(hall["fgw_a"]).post(f"/tasks/{task.id}/supplement",
                                       json={"materials": ["节能报告", "项目备案证明"], "note": "一次告知"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["supplement_count"], body["materials_requested"], body["working_days_left"]) == (
        "supplement", 1, ["节能报告", "项目备案证明"], None)
    assert_error(api(hall["fgw_a"]).post(f"/tasks/{task.id}/answer", json={"decision": "consent"}), 409, "conflict")
    clock.set("2026-11-27T15:00:00+08:00")  # Friday
    body = api(hall["ent"]).post(f"/tasks/{task.id}/materials-supplied").get_json()
    assert (body["status"], body["started_at"], body["deadline"]) == (
        "accepted", "2026-11-27T15:00:00+08:00", "2026-12-11T17:30:00+08:00")
    assert body["working_days_left"] == 10
    assert_error(api(hall["agent"]).post(f"/tasks/{task.id}/materials-supplied"), 409, "conflict")
    assert session.scalar(select(SupplementRequest.supplied_at)) is not None


@pytest.mark.parametrize("body, field", [
    ({"decision": "approve"}, "decision"), ({}, "decision"), ({"decision": "refuse"}, "opinion"),
    ({"decision": "refuse", "opinion": "  "}, "opinion"), ({"decision": "consent_with_conditions"}, "opinion")])
def test_bad_answers_are_400_and_change_nothing(api, session, hall, started, body, field):  # noqa: F811
    project, tasks, *_ = started
    before = snapshot(session)
    assert_error(api(hall["fgw_a"]).post(f"/tasks/{tasks['FGW-01'].id}/answer", json=body), 400, "bad_input", field)
    assert snapshot(session) == before


def test_answering_a_closed_task_is_409_and_changes_nothing(api, session, hall, started, clock):  # noqa: F811
    project, tasks, *_ = started
    task = tasks["FGW-01"]
    clock.set("2026-11-23T11:00:00+08:00")
    response = api(hall["fgw_a"]).post(f"/tasks/{task.id}/answer",
                                       json={"decision": "consent_with_conditions", "opinion": "限期补办"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["outcome"], body["opinion"], body["answered_at"]) == (
        "answered", "consent_with_conditions", "限期补办", "2026-11-23T11:00:00+08:00")
    before = snapshot(session)
    for answer in ({"decision": "consent"}, {"decision": "refuse", "opinion": "改主意了"}):
        fields = assert_error(api(hall["fgw_b"]).post(f"/tasks/{task.id}/answer", json=answer), 409, "conflict")
        assert fields == {"status": "answered"}
    assert_error(api(hall["fgw_a"]).post(f"/tasks/{task.id}/accept"), 409, "conflict")
    assert_error(api(hall["fgw_a"]).post(f"/tasks/{task.id}/supplement", json={"materials": ["x"]}), 409, "conflict")
    assert snapshot(session) == before
    task = session.get(Task, task.id)
    assert (task.outcome, task.opinion) == ("consent_with_conditions", "限期补办")


def test_answering_a_deemed_task_is_409(api, session, hall, started, app):  # noqa: F811
    project, tasks, *_ = started
    task = tasks["FGW-01"]
    result = app.test_cli_runner().invoke(args=["agency", "sweep", "--now", "2026-11-24T17:30:00+08:00"])
    assert result.exit_code == 0
    before = snapshot(session)
    assert_error(api(hall["fgw_a"]).post(f"/tasks/{task.id}/answer", json={"decision": "consent"}), 409, "conflict")
    assert snapshot(session) == before
    assert count(session, Task, Task.id == task.id, Task.status == "deemed_consent") == 1


def test_each_change_answers_the_task_as_task_schema_writes_it(api, session, hall, started, clock):  # noqa: F811
    """accept, supplement, materials supplied and answer (with a result) answer the committed task read as one
    row (agency.tasks.api.as_written), field for field what TaskSchema writes of it, and what GET /tasks/{id} says."""
    from agency.tasks.schemas import TaskSchema
    _, tasks, _, _ = started
    task_id = tasks["FGW-01"].id
    liaison, agent = api(hall["fgw_a"]), api(hall["agent"])
    steps = [(liaison, "accept", None), (liaison, "supplement", {"materials": ["环评批复", "用地证明"]}),
             (agent, "materials-supplied", None),
             (liaison, "answer", {"decision": "consent", "result": {"kind": "licence", "number": "许-2026-7"}})]
    for client, action, body in steps:
        response = client.post(f"/tasks/{task_id}/{action}", json=body)
        assert response.status_code == 200, (action, response.get_json())
        session.expire_all()
        expected = TaskSchema().dump(session.get(Task, task_id))
        assert response.get_json() == expected, action
        assert liaison.get(f"/tasks/{task_id}").get_json() == expected
    assert response.get_json()["result"]["number"] == "许-2026-7" and response.get_json()["status"] == "answered"
    assert response.get_json()["materials_requested"] == ["环评批复", "用地证明"]
