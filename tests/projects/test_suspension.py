"""Suspension at the enterprise's request (R2): clocks stop, nothing is deemed, each task gets back its days."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from agency.calendar.services import get_calendar
from agency.projects.models import Project, ProjectSuspension
from agency.projects.timeline import working_days_elapsed
from agency.supervision import figures
from agency.tasks.models import Task
from agency.tasks.services import answer_task, request_supplement
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

TZ = ZoneInfo("Asia/Shanghai")


def shanghai(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).astimezone(timezone.utc)


SUSPENDED = shanghai("2026-12-02 10:00")  # Wednesday: FGW-03 and ZRGH-01 (10 days, due Mon 7 Dec) have 3 left
RESUMED = shanghai("2026-12-30 10:00")  # Wednesday: then New Year's Day (Fri 1 Jan) and a weekend


@pytest.fixture
def running(session, now, hall, clock):  # noqa: F811
    """ent's IND_PERMIT, stage 1 dispatched Monday 23 Nov 09:00; FGW-01 answered, FGW-03 in supplement."""
    clock.set(now)
    project, tasks = start(session, now, hall)
    tasks = {t.item.code: t for t in tasks}
    answer_task(session, now + timedelta(hours=1), as_actor(liaison_of(hall, tasks["FGW-01"])), tasks["FGW-01"],
                "consent")
    session.commit()
    return project, tasks


def _suspend(api, hall, project, clock, at=SUSPENDED, reason="企业申请修改设计方案"):
    clock.set(at)
    return api(hall["agent"]).post(f"/projects/{project.id}/suspend", json={"reason": reason})


def test_suspending_stops_every_running_clock_with_the_days_it_had_left(api, session, hall, running,
                                                                        clock):  # noqa: F811
    project, tasks = running
    response = _suspend(api, hall, project, clock)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["suspended"] is True
    by_item = {t["item"]: t for t in response.get_json()["tasks"]}
    assert {c: (t["status"], t["suspended"], t["suspended_days_left"], t["working_days_left"])
            for c, t in by_item.items()} == {
        "FGW-01": ("answered", False, None, None),
        "FGW-03": ("pending", True, 3, None), "ZRGH-01": ("pending", True, 3, None),
        "ZRGH-02": ("pending", True, 0, None)}  # 7 days: due today 17:30
    (period,) = session.scalars(select(ProjectSuspension).where(ProjectSuspension.project_id == project.id))
    assert (period.started_at, period.ended_at, period.reason) == (SUSPENDED, None, "企业申请修改设计方案")
    assert "project.suspended" in audit_actions(session, project.id)
    assert f"项目暂停办理：{project.name}" in inbox(session, hall["ent"])


def test_nothing_is_deemed_or_warned_while_suspended(api, session, hall, running, clock):  # noqa: F811
    project, tasks = running
    _suspend(api, hall, project, clock)
    late = shanghai("2026-12-20 10:00")  # long past every old deadline
    counts = run_sweep(session, late)
    assert (counts["deemed_consent"], counts["warned"], counts["escalated"]) == (0, 0, 0)
    clock.set(late)
    body = api(hall["zrgh_a"]).get(f"/tasks/{tasks['ZRGH-01'].id}").get_json()  # a request across the deadline
    assert (body["status"], body["suspended"], body["working_days_left"]) == ("pending", True, None)
    listed = {t["id"]: t for t in api(hall["agent"]).get(f"/tasks?project_id={project.id}").get_json()}
    assert listed[tasks["ZRGH-01"].id] == body  # the list writes it as the schema does
    session.expire_all()
    assert {t.item.code: t.status for t in session.get(Project, project.id).tasks} == {
        "FGW-01": "answered", "FGW-03": "pending", "ZRGH-01": "pending", "ZRGH-02": "pending"}


def test_resuming_gives_each_task_the_working_days_it_had_left(api, session, hall, running, clock):  # noqa: F811
    project, tasks = running
    _suspend(api, hall, project, clock)
    clock.set(RESUMED)
    response = api(hall["agent"]).post(f"/projects/{project.id}/resume")
    assert response.status_code == 200, response.get_json()
    by_item = {t["item"]: t for t in response.get_json()["tasks"]}
    # 3 working days after Wed 30 Dec: Thu 31, (Fri 1 Jan New Year's Day, Sat, Sun), Mon 4, Tue 5 -> Tue 5 Jan 17:30
    assert datetime.fromisoformat(by_item["ZRGH-01"]["deadline"]) == shanghai("2027-01-05 17:30")
    assert datetime.fromisoformat(by_item["FGW-03"]["deadline"]) == shanghai("2027-01-05 17:30")
    assert datetime.fromisoformat(by_item["ZRGH-02"]["deadline"]) == shanghai("2026-12-30 17:30")  # 0 left: today
    assert deadline_from(session, RESUMED, 3) == shanghai("2027-01-05 17:30")  # not the full limit (10)
    assert all(t["suspended"] is False and t["suspended_days_left"] is None for t in by_item.values())
    assert by_item["ZRGH-01"]["working_days_left"] == 3
    session.expire_all()
    task = session.get(Task, tasks["ZRGH-01"].id)
    assert task.warn_at == shanghai("2027-01-04 17:30") and task.started_at == tasks["ZRGH-01"].started_at
    (period,) = session.scalars(select(ProjectSuspension).where(ProjectSuspension.project_id == project.id))
    assert period.ended_at == RESUMED and not session.get(Project, project.id).suspended
    assert f"项目恢复办理：{project.name}" in inbox(session, hall["ent"])
    # the clocks run again: the sweep warns and deems by the new deadlines
    assert run_sweep(session, shanghai("2027-01-04 18:00"))["warned"] == 2
    assert run_sweep(session, shanghai("2027-01-05 17:30"))["deemed_consent"] == 2


def test_a_task_in_supplement_keeps_its_stopped_clock(api, session, hall, running, clock):  # noqa: F811
    project, tasks = running
    fgw03 = tasks["FGW-03"]
    request_supplement(session, shanghai("2026-11-25 10:00"), as_actor(liaison_of(hall, fgw03)), fgw03, ["节能报告"])
    session.commit()
    _suspend(api, hall, project, clock)
    clock.set(RESUMED)
    body = {t["item"]: t for t in api(hall["agent"]).post(f"/projects/{project.id}/resume").get_json()["tasks"]}
    assert (body["FGW-03"]["status"], body["FGW-03"]["suspended"]) == ("supplement", False)
    session.expire_all()
    assert session.get(Task, fgw03.id).deadline == fgw03.deadline


def test_working_days_elapsed_leave_out_the_suspension(api, session, now, hall, running, clock):  # noqa: F811
    project, tasks = running
    _suspend(api, hall, project, clock)
    clock.set(RESUMED)
    body = api(hall["agent"]).post(f"/projects/{project.id}/resume").get_json()
    # 27 working days from Tue 24 Nov to Wed 30 Dec, of which 20 suspended (Thu 3 Dec .. Wed 30 Dec)
    assert get_calendar(session).working_days_between(date(2026, 11, 23), date(2026, 12, 30)) == 27
    assert body["working_days_elapsed"] == 7
    session.expire_all()
    assert working_days_elapsed(session, session.get(Project, project.id), RESUMED + timedelta(days=1)) == 8


def test_3550_figures_leave_out_suspended_working_days(api, session, now, hall, clock):  # noqa: F811
    """A REAL_ESTATE project (target 5): suspended Tue 24 Nov -> Tue 1 Dec (5 working days), completed
    Wed 9 Dec: 12 working days from entrustment, 7 without the suspension."""
    clock.set(now)
    project, (task,) = start(session, now, hall, project_type="REAL_ESTATE", name="不动产")
    _suspend(api, hall, project, clock, at=shanghai("2026-11-24 10:00"))
    clock.set(shanghai("2026-12-01 10:00"))
    assert api(hall["agent"]).post(f"/projects/{project.id}/resume").status_code == 200
    # past its resumed deadline (Mon 7 Dec 17:30): the first touch after it deems it, here on Wed 9 Dec
    run_sweep(session, shanghai("2026-12-09 10:00"))
    session.commit()
    session.expire_all()
    project = session.get(Project, project.id)
    assert project.status == "completed"
    assert working_days_elapsed(session, project, shanghai("2026-12-20 10:00")) == 7
    assert_figures(session, hall, project)


def assert_figures(session, hall, project):
    """The 3550 figures of December for ``project`` (used on SQLite here, on PostgreSQL elsewhere)."""
    calendar, period = get_calendar(session), figures.Period(date(2026, 12, 1), date(2026, 12, 31))
    (row,) = [r for r in figures.project_type_figures(session, calendar, period, TZ) if r["project_type"] == "REAL_ESTATE"]
    assert (row["completed"], row["avg_working_days"], row["over_target"]) == (1, 7.0, 1)
    assert [(p["id"], p["working_days"], p["over_by"]) for p in row["over_target_projects"]] == [(project.id, 7, 2)]
    (agent,) = [r for r in figures.agent_figures(session, calendar, period, TZ) if r["agent_id"] == hall["agent"].id]
    assert (agent["completed"], agent["avg_working_days"]) == (1, 7.0)


def test_conflicts_and_bad_input_change_nothing(api, session, now, hall, running, clock):  # noqa: F811
    project, tasks = running
    agent = api(hall["agent"])
    clock.set(SUSPENDED)
    run_sweep(session, SUSPENDED)  # ZRGH-02's one-working-day warning is due: the first touch would give it
    session.commit()
    before = snapshot(session)
    assert_error(agent.post(f"/projects/{project.id}/suspend", json={}), 400, "bad_input", "reason")
    assert_error(agent.post(f"/projects/{project.id}/suspend", json={"reason": "  "}), 400, "bad_input", "reason")
    assert_error(agent.post(f"/projects/{project.id}/resume"), 409, "conflict")  # not suspended
    for person in ("ent", "director", "zrgh_a"):
        assert_error(api(hall[person]).post(f"/projects/{project.id}/suspend", json={"reason": "x"}), 403, "forbidden")
    assert_error(api(hall["agent2"]).post(f"/projects/{project.id}/suspend", json={"reason": "x"}), 404, "not_found")
    assert snapshot(session) == before
    assert agent.post(f"/projects/{project.id}/suspend", json={"reason": "改设计"}).status_code == 200
    before = snapshot(session)
    assert_error(agent.post(f"/projects/{project.id}/suspend", json={"reason": "再来"}), 409, "conflict")
    assert_error(api(hall["ent"]).post(f"/projects/{project.id}/resume"), 403, "forbidden")
    assert snapshot(session) == before
    assert count(session, ProjectSuspension) == 1
    # a closed project cannot be suspended
    assert agent.post(f"/projects/{project.id}/resume").status_code == 200
    assert api(hall["ent"]).post(f"/projects/{project.id}/withdraw", json={"reason": "不做了"}).status_code == 200
    before = snapshot(session)
    assert_error(agent.post(f"/projects/{project.id}/suspend", json={"reason": "改设计"}), 409, "conflict")
    assert snapshot(session) == before


def test_withdrawing_a_suspended_project_closes_the_suspension(api, session, hall, running, clock):  # noqa: F811
    project, tasks = running
    _suspend(api, hall, project, clock)
    clock.set(RESUMED)
    assert api(hall["ent"]).post(f"/projects/{project.id}/withdraw", json={"reason": "不做了"}).status_code == 200
    session.expire_all()
    (period,) = session.scalars(select(ProjectSuspension).where(ProjectSuspension.project_id == project.id))
    assert period.ended_at == RESUMED and not session.get(Project, project.id).suspended


def test_a_stage_closing_while_suspended_waits_for_the_resumption(api, session, hall, running, clock):  # noqa: F811
    project, tasks = running
    _suspend(api, hall, project, clock)
    for code in ("FGW-03", "ZRGH-01", "ZRGH-02"):
        answer_task(session, SUSPENDED + timedelta(hours=1), as_actor(liaison_of(hall, tasks[code])), tasks[code],
                    "consent")
    session.commit()
    session.expire_all()
    stages = {s.order: s.status for s in session.get(Project, project.id).stages}
    assert stages == {1: "closed", 2: "waiting", 3: "waiting"}
    clock.set(RESUMED)
    body = api(hall["agent"]).post(f"/projects/{project.id}/resume").get_json()
    assert {s["order"]: s["status"] for s in body["stages"]} == {1: "closed", 2: "open", 3: "waiting"}
    second = [t for t in body["tasks"] if t["stage"] == 2]
    assert len(second) == 7 and all(datetime.fromisoformat(t["started_at"]) == RESUMED for t in second)


def test_the_project_page_shows_the_suspension_and_its_actions(app, session, hall, running, clock):  # noqa: F811
    from tests.pages import login, page_client, post, text
    project, tasks = running
    clock.set(SUSPENDED)
    agent = page_client(app)
    login(agent, hall["agent"].username)
    page = text(agent.get(f"/projects/{project.id}"))
    assert f'action="/projects/{project.id}/suspend"' in page
    assert post(agent, f"/projects/{project.id}/suspend", {"text": ""}, token_from=f"/projects/{project.id}"
                ).status_code == 400
    assert post(agent, f"/projects/{project.id}/suspend", {"text": "企业申请修改设计"},
                token_from=f"/projects/{project.id}").status_code == 302
    page = text(agent.get(f"/projects/{project.id}"))
    assert "企业申请修改设计" in page and f'action="/projects/{project.id}/resume"' in page
    enterprise = page_client(app)
    login(enterprise, hall["ent"].username)
    seen = text(enterprise.get(f"/projects/{project.id}"))
    assert "企业申请修改设计" in seen and f'action="/projects/{project.id}/resume"' not in seen
    assert post(agent, f"/projects/{project.id}/resume", token_from=f"/projects/{project.id}").status_code == 302
    session.expire_all()
    assert not session.get(Project, project.id).suspended


def test_materials_supplied_while_suspended_hold_the_full_limit_until_resumption(api, session, hall, running,
                                                                                 clock):  # noqa: F811
    from agency.tasks.services import supply_materials
    project, tasks = running
    fgw03 = tasks["FGW-03"]
    request_supplement(session, shanghai("2026-11-25 10:00"), as_actor(liaison_of(hall, fgw03)), fgw03, ["节能报告"])
    session.commit()
    _suspend(api, hall, project, clock)
    supply_materials(session, shanghai("2026-12-10 10:00"), as_actor(hall["ent"]), fgw03)
    session.commit()
    assert (fgw03.status, fgw03.suspended_days_left) == ("accepted", 10)  # R4's full limit, clock still stopped
    assert run_sweep(session, shanghai("2026-12-29 10:00"))["deemed_consent"] == 0
    clock.set(RESUMED)
    body = {t["item"]: t for t in api(hall["agent"]).post(f"/projects/{project.id}/resume").get_json()["tasks"]}
    assert datetime.fromisoformat(body["FGW-03"]["deadline"]) == deadline_from(session, RESUMED, 10)
