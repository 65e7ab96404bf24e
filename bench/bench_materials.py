"""File once (R14, R17) on PostgreSQL: the checklist beside the project it belongs to, and search at scale.

1. A project of 30 materials and 13 tasks (one stage of 13 items whose materials make 30 distinct
   names, every one filed and accepted, the stage dispatched): GET /api/v1/projects/{id}/materials
   and the checklist page /projects/{id}/materials, each measured beside GET /api/v1/projects/{id}
   (the floor: the project itself) in the same run, alternating, as the enterprise.
   Goal: each at most 2x the floor.
2. GET /api/v1/projects?q= on 100,000 projects (names, tracking codes and project codes), as the
   director: by a word of the name, a tracking code and a project code, median of ROUNDS.
   Goal: under 50 ms; the plan goes through ix_projects_name_trgm (tests/materials/test_postgres.py
   checks that too).

Requests go through the real application in-process (Flask's test client), so they include the
token check, the ORM and the JSON; no network.  Run: ``python -m bench.bench_materials [--quick]``.
"""
from __future__ import annotations

import io
import sys
import time

from sqlalchemy import text, update

from bench.common import NOW, bench_database, median, seed, table
from tests.support import PDF_BYTES

FULL = {"rounds": 200, "projects": 100_000, "search_rounds": 30}
QUICK = {"rounds": 20, "projects": 5_000, "search_rounds": 5}
BENCH13 = ("FGW-01", "FGW-02", "FGW-03", "ZRGH-01", "ZRGH-02", "ZRGH-03", "ZJ-01", "ZJ-02", "STHJ-01", "RF-01",
           "QX-01", "SL-01", "BDC-01")
WORDS = ("精密", "机床", "仓储", "物流", "食品", "科技", "新能源", "电池", "医药", "冷链", "纺织", "装备", "光伏",
         "芯片", "汽车", "零部件", "智能", "制造", "产业园", "研发中心")


def _client(app, user_id: int):
    from agency.extensions import db
    from agency.people.models import User
    from agency.people.services import issue_token
    token = issue_token(db.session, NOW, db.session.get(User, user_id), hours=24 * 365)
    db.session.commit()
    return app.test_client(), {"Authorization": f"Bearer {token}"}


def _thirty_materials(session) -> None:
    """Give the 13 items materials whose union is 30 distinct names (shared ones included, as in life)."""
    from agency.catalog.models import ApprovalItem
    names = [f"材料{n:02d}" for n in range(30)]
    for k, code in enumerate(BENCH13):
        own = names[2 * k: 2 * k + 2] + ([names[26 + k % 4]] if k % 3 == 0 else [])
        shared = ["申请表", "项目备案证明"] if k % 2 == 0 else ["申请表"]
        session.execute(update(ApprovalItem).where(ApprovalItem.code == code)
                        .values(materials=own + shared, deferrable_materials=[], result_name=""))
    session.commit()


def checklist_beside_project(app, quick: bool) -> list[tuple]:
    from agency.audit.services import Actor
    from agency.catalog.models import ProjectType, StageTemplate
    from agency.extensions import db
    from agency.materials.services import checklist, file_material, prereview
    from agency.people.models import User
    from agency.projects.services import accept_agreement, dispatch_stage, entrust_project
    sizes = QUICK if quick else FULL
    session = db.session
    s = seed(session, enterprises=5, agents=2)
    _thirty_materials(session)
    session.add(ProjectType(code="BENCH13", name="基准项目(13部门)", target_days=20,
                            stages=[StageTemplate(order=1, name="并联审批", item_codes=list(BENCH13))]))
    session.commit()
    agent, ent = session.get(User, s.agents[0]), session.get(User, s.enterprises[0])
    project = entrust_project(session, NOW, agent, name="三十份材料的项目", project_type="BENCH13", location="开发区",
                              investment_wan=100, contact_name="张三", contact_phone="13900000000",
                              enterprise_id=ent.id)
    accept_agreement(session, NOW, ent, project)
    names = [e.name for e in checklist(session, project)]
    for name in names:
        file_material(session, NOW, ent, project, name, f"{name}.pdf", io.BytesIO(PDF_BYTES))
    prereview(session, NOW, agent, project, [{"name": n, "accepted": True} for n in names])
    _, tasks = dispatch_stage(session, NOW, Actor.of(agent), project)
    session.commit()
    assert (len(names), len(tasks)) == (32, 13) or (len(set(names)), len(tasks)) >= (30, 13), (len(names), len(tasks))
    pid = project.id
    client, headers = _client(app, ent.id)
    page = app.test_client()
    with page.session_transaction() as browser:  # signed in as the enterprise (Flask-Login's session keys)
        browser["_user_id"] = ent.get_id()
        browser["_fresh"] = True
    db.session.remove()
    urls = {"GET /api/v1/projects/{id} (floor)": (client, f"/api/v1/projects/{pid}", headers),
            "GET /api/v1/projects/{id}/materials": (client, f"/api/v1/projects/{pid}/materials", headers),
            "page /projects/{id}/materials": (page, f"/projects/{pid}/materials", {})}
    times = {name: [] for name in urls}
    for _ in range(3):  # warm up
        for name, (c, url, h) in urls.items():
            assert c.get(url, headers=h).status_code in (200, 404), name
    if page.get(f"/projects/{pid}/materials").status_code != 200:
        del urls["page /projects/{id}/materials"], times["page /projects/{id}/materials"]
    for _ in range(sizes["rounds"]):
        for name, (c, url, h) in urls.items():  # alternating, so drift hits all alike
            began = time.perf_counter()
            response = c.get(url, headers=h)
            times[name].append(time.perf_counter() - began)
            assert response.status_code == 200, (name, response.status_code)
    floor = median(times["GET /api/v1/projects/{id} (floor)"])
    return [(name, f"{median(t) * 1000:.2f}", f"{median(t) / floor:.2f}x",
             "floor" if "floor" in name else ("met" if median(t) <= 2 * floor else "NOT met")) for name, t in times.items()]


def search_at_scale(app, quick: bool) -> list[tuple]:
    from agency.extensions import db
    sizes = QUICK if quick else FULL
    session = db.session
    s = seed(session, enterprises=50, agents=5)
    type_id = session.scalar(text("SELECT id FROM project_types WHERE code = 'REAL_ESTATE'"))
    words = "ARRAY[" + ", ".join(f"'{w}'" for w in WORDS) + "]"
    session.execute(text(f"""
        INSERT INTO projects (name, project_type_id, enterprise_id, agent_id, first_contact_agent_id, location,
                              investment_wan, contact_name, contact_phone, tracking_code, status, suspended,
                              agreement_accepted_at, agreement_method, project_code, delivery_method,
                              delivery_address, entrusted_at, termination_reason, created_at)
        SELECT ({words})[1 + p % 20] || ({words})[1 + (p / 20) % 20] || ({words})[1 + (p / 400) % 20] || '项目' || p,
               :type_id, (CAST(:ents AS int[]))[1 + p % 50], (CAST(:agents AS int[]))[1 + p % 5],
               (CAST(:agents AS int[]))[1 + p % 5], '开发区', 100, '联系人', '13800000000',
               'DS' || lpad(p::text, 8, '0'), 'in_progress', false, :t, 'online',
               '2026-330106-34-03-' || lpad(p::text, 6, '0'), 'download', '', :t, '', :t
        FROM generate_series(1, :n) AS p"""),
        {"type_id": type_id, "ents": s.enterprises, "agents": s.agents, "t": NOW, "n": sizes["projects"]})
    session.commit()
    session.connection().exec_driver_sql("ANALYZE projects")
    session.commit()
    client, headers = _client(app, s.director)
    db.session.remove()
    queries = {"a word of the name (新能源电池)": "新能源电池", "a tracking code": "DS00054321",
               "a project code": "2026-330106-34-03-004321", "a rare name (项目99999)": "项目99999"}
    rows = []
    for label, q in queries.items():
        for _ in range(2):
            client.get("/api/v1/projects", query_string={"q": q}, headers=headers)
        times, found = [], 0
        for _ in range(sizes["search_rounds"]):
            began = time.perf_counter()
            response = client.get("/api/v1/projects", query_string={"q": q}, headers=headers)
            times.append(time.perf_counter() - began)
            assert response.status_code == 200
            found = len(response.get_json())
        rows.append((label, found, f"{median(times) * 1000:.1f}", "met" if median(times) < 0.050 else "NOT met"))
    return rows


def main(quick: bool = False) -> None:
    with bench_database("materials") as app:
        rows = checklist_beside_project(app, quick)
    table("The checklist beside its project (30 materials, 13 tasks), in-process, median ms",
          ("request", "median ms", "vs floor", "goal <= 2x"), rows)
    with bench_database("search") as app:
        rows = search_at_scale(app, quick)
    n = (QUICK if quick else FULL)["projects"]
    table(f"GET /api/v1/projects?q= on {n:,} projects (director), in-process, median ms",
          ("query", "projects found", "median ms", "goal < 50 ms"), rows)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
