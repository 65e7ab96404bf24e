"""The director's API: shapes of API.md and role checks."""
from datetime import date

import pytest
from sqlalchemy import select

from agency.projects.models import ContactCard
from agency.projects.services import assign_agent, entrust_project
from agency.supervision.reports import build_report
from tests.supervision.fixture_week import build_week


@pytest.fixture
def unassigned(session, now, hall, entrust_body):
    project = entrust_project(session, now, hall["ent"], **entrust_body)
    session.commit()
    return project


def test_workload_shape(api, hall, unassigned):
    response = api(hall["director"]).get("/workload")
    assert response.status_code == 200
    rows = response.get_json()
    assert {r["agent_id"] for r in rows} == {hall["agent"].id, hall["agent2"].id}
    assert set(rows[0]) >= {"agent_id", "name", "open_projects", "open_tasks", "on_leave", "skills", "projects_by_stage"}


@pytest.mark.parametrize("role", ["agent", "ent", "fgw_a"])
def test_director_calls_refuse_other_roles(api, hall, unassigned, role):
    client = api(hall[role])
    for path in ("/workload", f"/projects/{unassigned.id}/assignment-suggestion", "/reports/departments",
                 "/reports/agents", "/reports", "/reports/visits", "/reports/stars"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/agents/{hall['agent'].id}/leave", json={"on_leave": True}).status_code == 403


def test_suggestion_then_assign(api, session, hall, unassigned):
    client = api(hall["director"])
    suggestion = client.get(f"/projects/{unassigned.id}/assignment-suggestion").get_json()
    assert suggestion["agent_id"] == hall["agent"].id  # both idle: the lowest id
    assert "建议指派" in suggestion["reason"]
    assert client.post(f"/projects/{unassigned.id}/assign", json={"agent_id": suggestion["agent_id"]}).status_code == 200


def test_suggestion_without_candidate_is_422(api, session, hall, unassigned):
    hall["agent"].on_leave = True
    hall["agent2"].skills = ["STARTUP"]
    session.commit()
    response = api(hall["director"]).get(f"/projects/{unassigned.id}/assignment-suggestion")
    assert response.status_code == 422
    assert "没有可指派的代办员" in response.get_json()["error"]["message"]
    assert api(hall["director"]).get("/projects/99999/assignment-suggestion").status_code == 404


def test_leave_with_bulk_reassignment(api, session, now, hall, unassigned):
    assign_agent(session, now, hall["director"], unassigned, hall["agent"].id)
    session.commit()
    response = api(hall["director"]).post(f"/agents/{hall['agent'].id}/leave",
                                          json={"on_leave": True, "reassign_to": hall["agent2"].id})
    assert response.status_code == 200
    assert response.get_json() == {"agent_id": hall["agent"].id, "on_leave": True,
                                   "reassigned": [{"project_id": unassigned.id, "agent_id": hall["agent2"].id}]}
    session.expire_all()
    cards = session.scalars(select(ContactCard).where(ContactCard.project_id == unassigned.id)
                            .order_by(ContactCard.id)).all()
    assert [c.void for c in cards] == [True, False] and cards[-1].agent_id == hall["agent2"].id
    bad = api(hall["director"]).post(f"/agents/{hall['agent2'].id}/leave", json={"on_leave": True, "reassign_to": 0})
    assert bad.status_code == 400
    assert api(hall["director"]).post(f"/agents/{hall['fgw_a'].id}/leave", json={"on_leave": True}).status_code == 404
    assert api(hall["director"]).post(f"/agents/{hall['agent'].id}/leave", json={}).status_code == 400


def test_skills(api, session, hall):
    client = api(hall["director"])
    response = client.put(f"/agents/{hall['agent'].id}/skills", json={"skills": ["STARTUP", "IND_PERMIT"]})
    assert response.get_json() == {"agent_id": hall["agent"].id, "skills": ["IND_PERMIT", "STARTUP"]}
    assert client.put(f"/agents/{hall['agent'].id}/skills", json={"skills": ["NOPE"]}).status_code == 400


def test_department_and_agent_reports(api, session, build, hall):
    build_week(build, (hall["agent"], hall["agent2"]))
    session.commit()
    client = api(hall["director"])
    rows = client.get("/reports/departments?from=2026-11-16&to=2026-11-20").get_json()
    fgw = next(r for r in rows if r["department"] == "FGW")
    assert fgw == {"department": "FGW", "department_name": "发展和改革局", "tasks": 6, "on_time": 3,
                   "on_time_rate": 0.5, "early": 1, "early_rate": 0.1667, "deemed_timeout": 1, "red": 1, "yellow": 2,
                   "second_supplements": 1, "avg_working_days": 1.83, "avg_promised_days": 2.33,
                   "satisfaction": 3.67, "ratings": 3}
    agents = client.get("/reports/agents?from=2026-11-16&to=2026-11-20").get_json()
    first = next(r for r in agents if r["agent_id"] == hall["agent"].id)
    assert first == {"agent_id": hall["agent"].id, "name": hall["agent"].display_name, "open": 1, "completed": 2,
                     "avg_working_days": 8.5, "satisfaction": 4.5, "ratings": 2}
    types = client.get("/reports/project-types?from=2026-11-16&to=2026-11-20").get_json()
    assert next(t for t in types if t["project_type"] == "STARTUP")["over_target"] == 1
    assert client.get("/reports/departments?from=nope").status_code == 400


@pytest.mark.parametrize("path", ["/reports/departments", "/reports/agents", "/reports/project-types",
                                  "/reports/visits"])
def test_a_reversed_period_is_400_never_one_day(api, hall, clock, path):
    clock.set("2026-11-25T10:00:00+08:00")
    client = api(hall["director"])
    reversed_ = client.get(f"{path}?from=2026-11-20&to=2026-11-16")
    assert reversed_.status_code == 400
    error = reversed_.get_json()["error"]
    assert error["code"] == "bad_input" and "from" in error["fields"]
    assert error["message"] == '"from" (2026-11-20) is after "to" (2026-11-16)'
    # "to" left to its default (today): a "from" in the future is reversed as well
    future = client.get(f"{path}?from=2026-11-26")
    assert future.status_code == 400
    assert future.get_json()["error"]["message"].startswith('"from" (2026-11-26) is after "to" (2026-11-25)')
    assert client.get(f"{path}?from=2026-11-25").status_code == 200  # one day, asked for
    assert client.get(f"{path}?to=2026-11-16").status_code == 200     # from the first of that month
    assert client.get(f"{path}?from=2020-01-01&to=2026-11-16").status_code == 400  # over three years


def test_kept_reports_list_and_download(app, api, session, now, build, hall):
    build_week(build, (hall["agent"], hall["agent2"]))
    report = build_report(session, now, "weekly", date(2026, 11, 16), app.config["REPORT_DIR"])
    session.commit()
    client = api(hall["director"])
    listed = client.get("/reports").get_json()
    assert listed == [{"id": report.id, "period": "weekly", "start": "2026-11-16", "end": "2026-11-22",
                       "generated_at": "2026-11-23T09:00:00+08:00", "csv_url": f"/api/v1/reports/{report.id}.csv",
                       "xlsx_url": f"/api/v1/reports/{report.id}.xlsx"}]
    csv_response = client.get(f"/reports/{report.id}.csv")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    assert "发展和改革局" in csv_response.data.decode("utf-8-sig")
    xlsx = client.get(f"/reports/{report.id}.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get("/reports/999.csv").status_code == 404
    assert client.get("/reports?period=daily").get_json() == []


def test_visits_report(api, session, now, hall):
    from tests.supervision.visits_world import build_visits
    projects = build_visits(session, now, hall)
    client = api(hall["director"])
    rows = client.get("/reports/visits?from=2026-11-01&to=2026-11-30").get_json()
    assert [r["project_type"] for r in rows] == ["COMPLETION", "IND_PERMIT", "REAL_ESTATE", "STARTUP"]
    real_estate = rows[2]
    assert {k: real_estate[k] for k in ("completed", "zero_visit_rate", "at_most_one_rate", "over_one")} == {
        "completed": 3, "zero_visit_rate": 0.3333, "at_most_one_rate": 0.6667,
        "over_one": [{"project_id": projects["两次"].id, "name": "不动产登记两次", "project_code": "", "visits": 2,
                      "reasons": ["现场核验身份证原件", "补签不动产登记申请表"]}]}
    assert rows[3]["completed"] == 0 and rows[3]["zero_visit_rate"] is None and rows[3]["over_one"] == []
    earlier = client.get("/reports/visits?from=2026-10-01&to=2026-10-31").get_json()
    assert all(r["completed"] == 0 for r in earlier)


def test_stars_report(api, session, hall):
    from sqlalchemy import func

    from agency.catalog.models import ApprovalItem
    rows = api(hall["director"]).get("/reports/stars").get_json()
    assert [r["star"] for r in rows] == [1, 2, 3, 4, 5] and set(rows[0]) == {"star", "items", "share"}
    total = session.scalar(select(func.count()).select_from(ApprovalItem))
    for row in rows:
        count = session.scalar(select(func.count()).select_from(ApprovalItem).where(ApprovalItem.star == row["star"]))
        assert row["items"] == count and row["share"] == round(count / total, 4)
    assert sum(r["share"] for r in rows) == pytest.approx(1, abs=5e-4)


def test_kept_quarterly_reports_are_listed(app, api, session, now, build, hall):
    report = build_report(session, now, "quarterly", date(2026, 7, 1), app.config["REPORT_DIR"])
    session.commit()
    client = api(hall["director"])
    listed = client.get("/reports?period=quarterly").get_json()
    assert [(r["id"], r["start"], r["end"]) for r in listed] == [(report.id, "2026-07-01", "2026-09-30")]
    assert client.get(f"/reports/{report.id}.xlsx").data[:2] == b"PK"


def test_cards_scoped_by_role(api, session, build, hall):
    build_week(build, (hall["agent"], hall["agent2"]))
    session.commit()
    director = api(hall["director"])
    everything = director.get("/supervision/cards").get_json()
    assert len(everything) == 5
    assert set(everything[0]) >= {"id", "color", "department", "task_id", "reason", "at"}
    assert everything[0]["at"] >= everything[-1]["at"]  # newest first
    reds = director.get("/supervision/cards?color=red&department=FGW").get_json()
    assert [c["reason"] for c in reds] == ["timeout", "timeout"] and {c["department"] for c in reds} == {"FGW"}
    week = director.get("/supervision/cards?from=2026-11-16&to=2026-11-20").get_json()
    assert len(week) == 3
    assert director.get("/supervision/cards?color=green").status_code == 400
    assert director.get("/supervision/cards?department=NOPE").status_code == 404

    fgw = api(hall["fgw_a"])
    assert len(fgw.get("/supervision/cards").get_json()) == 5
    assert fgw.get("/supervision/cards?department=FGW").status_code == 200
    assert fgw.get("/supervision/cards?department=ZRGH").status_code == 404
    assert api(hall["zrgh_a"]).get("/supervision/cards").get_json() == []
    assert api(hall["agent"]).get("/supervision/cards").status_code == 403
    assert api(hall["ent"]).get("/supervision/cards").status_code == 403


def test_openapi_documents_the_calls(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/workload", "/api/v1/projects/{project_id}/assignment-suggestion",
                 "/api/v1/supervision/cards", "/api/v1/reports/departments", "/api/v1/reports/agents",
                 "/api/v1/agents/{agent_id}/leave", "/api/v1/reports"):
        assert path in paths, path
