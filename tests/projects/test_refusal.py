"""After a refusal (R2): the project waits for its agent, who ends it or resubmits the refused item."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from agency.audit.models import AuditEvent
from agency.jobs.models import OutboxJob
from agency.projects.decisions import waiting_after_refusal
from agency.projects.models import Project, Stage
from agency.tasks.models import Task
from agency.tasks.services import answer_task
from tests.pages import login, page_client, post, text
from tests.tasks import (  # noqa: F401  (fixtures)
    app,
    as_actor,
    assert_error,
    audit_actions,
    count,
    deadline_from,
    hall,
    hall_template,
    inbox,
    liaison_of,
    shared_app,
    snapshot,
    start,
)
from workers.deadlines import run_sweep

REFUSED_AT = timedelta(hours=5)  # Monday 14:00 in Shanghai


@pytest.fixture
def refused(session, now, hall, clock):  # noqa: F811
    """ent's IND_PERMIT, stage 1 dispatched Monday 09:00 (agent); ZRGH-01 refused at 14:00."""
    clock.set(now + REFUSED_AT)
    project, tasks = start(session, now, hall)
    tasks = {t.item.code: t for t in tasks}
    task = tasks["ZRGH-01"]
    answer_task(session, now + REFUSED_AT, as_actor(liaison_of(hall, task)), task, "refuse", "选址不符合国土空间规划")
    session.commit()
    return project, tasks


def _answer(session, at, hall, task, decision="consent", opinion=""):
    answer_task(session, at, as_actor(liaison_of(hall, task)), task, decision, opinion)
    session.commit()


def test_a_refusal_waits_for_the_agent_and_the_director_sees_how_long(app, api, session, now, hall, refused,
                                                                      clock):  # noqa: F811
    project, tasks = refused
    body = api(hall["agent"]).get(f"/projects/{project.id}").get_json()
    assert body["awaits_decision"] is True and body["status"] == "in_progress" and body["halted"] is True
    wednesday = now + timedelta(days=2)  # Wednesday 09:00: two working days (Tue, Wed), 43 hours
    (row,) = waiting_after_refusal(session, wednesday)
    assert (row["project"].id, row["working_days"], row["hours"]) == (project.id, 2, 43)
    assert [t.id for t in row["refused"]] == [tasks["ZRGH-01"].id]
    clock.set(wednesday)
    browser = page_client(app)
    login(browser, hall["director"].username)
    page = text(browser.get("/director/workload"))
    board = page[page.index('data-testid="awaiting-decision"'):]
    assert f'data-project-id="{project.id}"' in board and f'href="/projects/{project.id}"' in board
    assert "2 个工作日（43 小时）" in board and "建设项目用地预审与选址意见书" in board
    assert any(s.startswith("不予办理") for s in inbox(session, hall["director"]))


def test_ending_terminates_with_reason_refused_and_cancels_open_tasks(api, session, now, hall, refused):  # noqa: F811
    project, tasks = refused
    response = api(hall["agent"]).post(f"/projects/{project.id}/end", json={"reason": "企业决定另行选址"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["termination_cause"], body["awaits_decision"]) == ("terminated", "refused", False)
    assert "企业决定另行选址" in body["termination_reason"] and "建设项目用地预审与选址意见书" in body["termination_reason"]
    session.expire_all()
    states = {t.item.code: t.status for t in session.get(Project, project.id).tasks}
    assert states == {"FGW-01": "cancelled", "FGW-03": "cancelled", "ZRGH-02": "cancelled", "ZRGH-01": "answered"}
    assert {s.status for s in session.get(Project, project.id).stages} == {"cancelled"}
    assert "project.ended" in audit_actions(session, project.id)
    for person in ("ent", "agent", "director", "fgw_a", "zrgh_a"):
        assert f"项目已终止：{project.name}" in inbox(session, hall[person]), person


def test_resubmitting_makes_a_new_task_with_a_fresh_clock_and_the_stage_goes_on(api, session, now, hall, refused,
                                                                                clock):  # noqa: F811
    project, tasks = refused
    old = tasks["ZRGH-01"]
    before = (old.status, old.outcome, old.opinion, old.answered_at, old.deadline, old.started_at)
    at = clock.set(now + timedelta(days=3))  # Thursday 09:00
    response = api(hall["agent"]).post(f"/tasks/{old.id}/resubmit", json={"note": "已调整选址并补充论证"})
    assert response.status_code == 201, response.get_json()
    new = response.get_json()
    assert (new["item"], new["status"], new["stage"], new["supersedes_id"]) == ("ZRGH-01", "pending", 1, old.id)
    assert datetime.fromisoformat(new["started_at"]) == at
    assert datetime.fromisoformat(new["deadline"]) == deadline_from(session, at, 10)  # the item's promised limit
    deliveries = session.execute(select(OutboxJob.queue, OutboxJob.args)
                                 .where(OutboxJob.func == "workers.tasks.deliver_task")).all()
    assert [(q, a) for q, a in deliveries if a == [new["id"]]] == [("dept.ZRGH", [new["id"]])]  # as a dispatch
    session.expire_all()
    old = session.get(Task, old.id)
    assert (old.status, old.outcome, old.opinion, old.answered_at, old.deadline, old.started_at) == before
    project = session.get(Project, project.id)
    assert project.halted_at is None and not project.awaits_decision
    assert "task.resubmitted" in audit_actions(session, project.id)
    # the stage goes on as usual: everything in consent (the refused task superseded) closes it; FGW-01
    # (one working day, due Tuesday) was deemed at its deadline, which the sweep records now
    assert run_sweep(session, at + timedelta(hours=1))["deemed_consent"] == 1
    for code in ("FGW-03", "ZRGH-02"):
        _answer(session, at + timedelta(hours=1), hall, tasks[code])
    assert session.scalar(select(Stage.status).where(Stage.project_id == project.id, Stage.order == 1)) == "open"
    _answer(session, at + timedelta(hours=2), hall, session.get(Task, new["id"]), "consent_with_conditions", "按整改方案")
    session.expire_all()
    stages = {s.order: (s.status, s.dispatched_at) for s in session.get(Project, project.id).stages}
    assert stages[1][0] == "closed" and stages[2] == ("open", at + timedelta(hours=2)) and stages[3][0] == "waiting"
    assert count(session, Task, Task.project_id == project.id, Task.stage.has(order=2)) == 7


def test_other_tasks_keep_running_and_are_deemed_on_timeout_while_waiting(session, now, hall, refused):  # noqa: F811
    project, tasks = refused
    fgw01 = tasks["FGW-01"]  # one working day: due Tuesday 17:30
    counts = run_sweep(session, fgw01.deadline)
    assert counts["deemed_consent"] == 1
    session.expire_all()
    assert session.get(Task, fgw01.id).status == "deemed_consent"
    project = session.get(Project, project.id)
    assert project.awaits_decision and {s.order: s.status for s in project.stages}[1] == "open"


def test_only_the_carrying_agent_decides(api, session, now, hall, refused):  # noqa: F811
    project, tasks = refused
    old = tasks["ZRGH-01"]
    before = snapshot(session)
    for person in ("director", "ent", "zrgh_a"):  # they see it: 403
        assert_error(api(hall[person]).post(f"/tasks/{old.id}/resubmit", json={"note": "整改"}), 403, "forbidden")
    for person in ("director", "ent"):
        assert_error(api(hall[person]).post(f"/projects/{project.id}/end", json={"reason": "不办了"}), 403, "forbidden")
    for person in ("agent2", "ent2", "zj_a"):  # they do not: 404
        assert_error(api(hall[person]).post(f"/tasks/{old.id}/resubmit", json={"note": "整改"}), 404, "not_found")
        assert_error(api(hall[person]).post(f"/projects/{project.id}/end", json={"reason": "不办了"}), 404,
                     "not_found")
    assert_error(api(hall["agent"]).post(f"/tasks/{old.id}/resubmit", json={"note": "  "}), 400, "bad_input", "note")
    assert_error(api(hall["agent"]).post(f"/projects/{project.id}/end", json={}), 400, "bad_input", "reason")
    assert snapshot(session) == before


def test_conflicts_change_nothing(api, session, now, hall, refused):  # noqa: F811
    project, tasks = refused
    agent = api(hall["agent"])
    before = snapshot(session)
    assert_error(agent.post(f"/tasks/{tasks['FGW-03'].id}/resubmit", json={"note": "整改"}), 409, "conflict")
    assert snapshot(session) == before
    assert agent.post(f"/tasks/{tasks['ZRGH-01'].id}/resubmit", json={"note": "整改"}).status_code == 201
    before = snapshot(session)
    assert_error(agent.post(f"/tasks/{tasks['ZRGH-01'].id}/resubmit", json={"note": "再来"}), 409, "conflict")
    assert_error(agent.post(f"/projects/{project.id}/end", json={"reason": "不办了"}), 409, "conflict")  # not waiting
    assert snapshot(session) == before
    other, _ = start(session, now, hall, by="agent", name="未被拒绝的项目")
    before = snapshot(session)
    assert_error(agent.post(f"/projects/{other.id}/end", json={"reason": "不办了"}), 409, "conflict")
    assert snapshot(session) == before


def test_a_second_refusal_of_the_resubmission_waits_again(api, session, now, hall, refused, clock):  # noqa: F811
    project, tasks = refused
    clock.set(now + timedelta(days=1))
    new = api(hall["agent"]).post(f"/tasks/{tasks['ZRGH-01'].id}/resubmit", json={"note": "整改"}).get_json()
    _answer(session, now + timedelta(days=2), hall, session.get(Task, new["id"]), "refuse", "仍不符合")
    session.expire_all()
    project = session.get(Project, project.id)
    assert project.halted_at == now + timedelta(days=2) and [t.id for t in project.refusals_undecided] == [new["id"]]
    clock.set(now + timedelta(days=3))
    assert api(hall["agent"]).post(f"/tasks/{new['id']}/resubmit", json={"note": "再整改"}).status_code == 201


def test_the_project_page_offers_the_decision_to_the_carrying_agent_only(app, session, now, hall, refused,
                                                                         clock):  # noqa: F811
    project, tasks = refused
    agent = page_client(app)
    login(agent, hall["agent"].username)
    page = text(agent.get(f"/projects/{project.id}"))
    assert f'action="/projects/{project.id}/end"' in page
    assert f'action="/projects/{project.id}/tasks/{tasks["ZRGH-01"].id}/resubmit"' in page
    refused_page = post(agent, f"/projects/{project.id}/end", {"text": " "}, token_from=f"/projects/{project.id}")
    assert refused_page.status_code == 400
    done = post(agent, f"/projects/{project.id}/tasks/{tasks['ZRGH-01'].id}/resubmit", {"text": "已整改"},
                token_from=f"/projects/{project.id}")
    assert done.status_code == 302
    session.expire_all()
    assert count(session, Task, Task.supersedes_id == tasks["ZRGH-01"].id) == 1
    enterprise = page_client(app)
    login(enterprise, hall["ent"].username)
    assert f'action="/projects/{project.id}/end"' not in text(enterprise.get(f"/projects/{project.id}"))
    assert count(session, AuditEvent, AuditEvent.action == "task.resubmitted") == 1
