"""GET /tasks on PostgreSQL: the same walk and the same answer as on SQLite, and each page one
range of an index (no sort of a department's history) whatever the cursor."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text

from agency.extensions import db
from agency.tasks.models import Task
from agency.tasks.schemas import TaskSchema
from tests.support import ApiClientFactory
from tests.tasks import LIST_NOW, MONDAY, build_hall, every_state, next_url, visible, walk

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_app, clock):
    """(session, hall, task ids, api) on PostgreSQL, with the tasks of ``every_state``."""
    with pg_app.app_context():
        session = db.session
        hall = build_hall(session, MONDAY)
        ids = every_state(pg_app, session, hall)
        clock.set(LIST_NOW)
        yield session, hall, ids, ApiClientFactory(pg_app.test_client(), session, MONDAY)
        session.remove()


def test_pages_walk_every_task_once_in_deadline_order(pg):
    session, hall, ids, api = pg
    for user in ("fgw_a", "zrgh_b", "agent", "agent2", "ent", "director"):
        for limit in (1, 3, 50):
            pages = walk(api(hall[user]), f"/api/v1/tasks?limit={limit}")
            assert [t["id"] for page in pages for t in page] == [t.id for t in visible(session, hall[user])], user
        open_pages = walk(api(hall[user]), "/api/v1/tasks?status=open&limit=2")
        assert [t["id"] for page in open_pages for t in page] == [
            t.id for t in visible(session, hall[user], text("tasks.status IN ('pending', 'accepted', 'supplement')"))]


def test_the_list_writes_each_task_as_task_schema_does(pg):
    session, hall, ids, api = pg
    answer = api(hall["director"]).get("/tasks?limit=200").get_json()
    session.expire_all()
    by_id = {t.id: t for t in session.scalars(select(Task))}
    assert len(answer) == len(by_id) == 19
    for written in answer:
        assert written == json.loads(json.dumps(TaskSchema().dump(by_id[written["id"]]))), written["id"]


def _history(session, task, n: int) -> None:
    """``n`` tasks in ``task``'s department: four in five closed in the two years before MONDAY, one open
    (its clock running, warned, not due by LIST_NOW: the list has nothing of them to settle)."""
    rows = [{"project_id": task.project_id, "stage_id": task.stage_id, "department_id": task.department_id,
             "item_id": task.item_id, "status": ("pending", "answered", "deemed_consent", "cancelled", "answered")[i % 5],
             "opinion": "", "promised_days": 5, "supplement_count": 0, "cancel_reason": "", "started_at": MONDAY,
             "deadline": LIST_NOW + timedelta(minutes=i) if i % 5 == 0 else MONDAY - timedelta(hours=3 + i * 4),
             "warn_at": MONDAY, "warned_at": MONDAY, "created_at": MONDAY} for i in range(n)]
    session.execute(Task.__table__.insert(), rows)


def test_every_page_is_one_index_range(pg):
    session, hall, ids, api = pg
    _history(session, session.get(Task, ids["A:FGW-01"]), 5000)
    _history(session, session.get(Task, ids["B:SCJG-01"]), 5000)
    session.commit()
    session.execute(text("ANALYZE"))
    session.commit()
    cases = {("fgw_a", ""): "ix_tasks_by_department", ("fgw_a", "status=open&"): "ix_tasks_open_by_department",
             ("fgw_a", "status=pending&"): "ix_tasks_open_by_department",
             ("director", "status=open&"): "ix_tasks_open_by_deadline"}
    for (user, query), index in cases.items():
        client = api(hall[user])
        first = client.get(f"/tasks?{query}limit=20")
        for url in (f"/api/v1/tasks?{query}limit=20", next_url(first)):
            plan = _plan_of_the_list(client, url).split("SubPlan")[0]  # subplans: one task's project, stage...
            assert f"Index Scan using {index} on tasks" in plan and "Sort" not in plan, (user, query, url, plan)


def _plan_of_the_list(client, url: str) -> str:
    """EXPLAIN of the statement that read the page at ``url``."""
    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM tasks JOIN departments" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        assert client.client.get(url, headers=client.headers).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    (statement, parameters), = seen
    with db.engine.connect() as conn:
        return "\n".join(conn.exec_driver_sql("EXPLAIN " + statement, parameters).scalars())
