"""The list pages search on PostgreSQL too: through GET /projects?q='s search function, so through its
trigram and b-tree indexes, never a LIKE scan of a table."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, text as sql

from agency.meetings.services import schedule_meeting
from agency.projects.models import Project
from agency.projects.services import search, set_project_code
from agency.tasks.models import Task
from tests.pages import login, page_client, text
from tests.tasks import MONDAY, entrust, start

pytestmark = pytest.mark.postgres
CODE = "2026-330106-34-03-000777"


@pytest.fixture
def pg(pg_app, pg_hall):
    return pg_app, *pg_hall


def signed_in(app, user):
    client = page_client(app)
    login(client, user.username)
    return client


def test_lists_search_by_name_tracking_code_and_project_code_on_postgres(pg):
    app, session, hall = pg
    coded = entrust(session, MONDAY, hall, ready=False, name="精密机床一期")
    set_project_code(session, MONDAY, hall["ent"], coded, CODE)
    session.commit()
    running, tasks = start(session, MONDAY, hall, name="港口冷链仓储")
    schedule_meeting(session, MONDAY, hall["agent"], running, kind="joint_review",
                     starts_at=datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc), place="三楼",
                     department_codes=["FGW"])
    session.commit()
    agent = signed_in(app, hall["agent"])
    html = text(agent.get(f"/projects?q={CODE}"))
    assert f'/projects/{coded.id}"' in html and f'/projects/{running.id}"' not in html
    html = text(agent.get("/projects?q=冷链"))
    assert f'/projects/{running.id}"' in html and f'/projects/{coded.id}"' not in html
    assert agent.get(f"/projects/find?q={CODE}").location.endswith(f"/projects/{coded.id}")
    assert "三楼" in text(agent.get("/meetings/?q=冷链")) and "三楼" not in text(agent.get("/meetings/?q=机床"))
    liaison = signed_in(app, hall["fgw_a"])
    html = text(liaison.get(f"/tasks/inbox?q={running.tracking_code.lower()}"))
    assert html.count('<tr class="task" id="task-') == len([t for t in tasks if t.department.code == "FGW"])
    assert '<tr class="task" id="task-' not in text(liaison.get("/tasks/inbox?q=机床"))


def test_the_inbox_search_goes_through_the_project_indexes(pg):
    """The condition the inbox (and meetings, notices, complaints) adds: project ids from ``search``."""
    app, session, hall = pg
    for n in range(3):
        start(session, MONDAY, hall, name=f"港口冷链仓储{n}")
    session.execute(sql("ANALYZE projects"))
    session.execute(sql("ANALYZE tasks"))
    session.execute(sql("SET LOCAL enable_seqscan = off"))  # tiny tables: ask for the plans they have at scale
    def plan(statement) -> str:
        compiled = statement.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
        return "\n".join(session.execute(sql(f"EXPLAIN {compiled}")).scalars())
    alone = plan(search(select(Project.id), "冷链仓储"))
    assert "ix_projects_name_trgm" in alone and "Seq Scan" not in alone, alone
    matching = Task.project_id.in_(search(select(Project.id), "冷链仓储"))
    for statement in (select(Task.id).where(matching),  # the director's lists
                      select(Task.id).where(Task.department_id == 1, matching)):  # a liaison's inbox
        found = plan(statement)  # the planner may drive from the tasks, each project then read by its key
        assert "Seq Scan on projects" not in found, found
