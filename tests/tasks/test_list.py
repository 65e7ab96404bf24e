"""GET /tasks, a page at a time: keyset pagination on (deadline, id), the Link header, and the
answer written from rows exactly as TaskSchema writes a task."""
import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from agency.tasks.models import OPEN_STATUSES, TASK_STATUSES, Task
from agency.tasks.schemas import TaskSchema
from tests.tasks import (  # noqa: F401  (fixtures)
    LIST_NOW,
    MONDAY,
    app,
    assert_error,
    every_state,
    hall,
    hall_template,
    next_url,
    shared_app,
    snapshot,
    visible,
    walk,
)


@pytest.fixture
def tasks(app, session, hall, clock):  # noqa: F811
    ids = every_state(app, session, hall)
    clock.set(LIST_NOW)
    return ids


@pytest.mark.parametrize("limit", [1, 2, 3, 50])
def test_pages_walk_every_task_once_in_deadline_order(api, session, hall, tasks, limit):  # noqa: F811
    for user in ("fgw_a", "zrgh_b", "agent", "agent2", "ent2", "director"):
        pages = walk(api(hall[user]), f"/api/v1/tasks?limit={limit}")
        expected = visible(session, hall[user])
        assert expected, "the data gives every user something to see"
        assert [t["id"] for page in pages for t in page] == [t.id for t in expected], user
        assert all(len(page) == limit for page in pages[:-1]) and 0 < len(pages[-1]) <= limit
        assert len(pages) == -(-len(expected) // limit)  # no empty last page when the count is a multiple of limit


def test_the_link_header_keeps_the_filters_and_limit(api, session, hall, tasks):  # noqa: F811
    project_id = session.get(Task, tasks["A:FGW-01"]).project_id
    client = api(hall["agent"])
    url = urlsplit(next_url(client.get(f"/tasks?status=open&project_id={project_id}&limit=1")))
    query = parse_qs(url.query)
    assert (url.path, set(query)) == ("/api/v1/tasks", {"status", "project_id", "limit", "after"})
    assert (query["status"], query["project_id"], query["limit"]) == (["open"], [str(project_id)], ["1"])
    pages = walk(client, f"/api/v1/tasks?status=open&project_id={project_id}&limit=1")
    expected = visible(session, hall["agent"], Task.status.in_(OPEN_STATUSES), Task.project_id == project_id)
    assert [t["id"] for page in pages for t in page] == [t.id for t in expected]
    assert len(expected) == 3


def test_each_status_filter_pages_through_its_tasks(api, session, hall, tasks):  # noqa: F811
    for status in (*TASK_STATUSES, "open"):
        wanted = Task.status.in_(OPEN_STATUSES) if status == "open" else Task.status == status
        for user in ("director", "zrgh_a", "agent"):
            pages = walk(api(hall[user]), f"/api/v1/tasks?status={status}&limit=2")
            assert [t["id"] for page in pages for t in page] == [
                t.id for t in visible(session, hall[user], wanted)], (status, user)


def test_link_only_when_there_are_more(api, hall, tasks):  # noqa: F811
    client = api(hall["director"])
    assert len(tasks) == 19
    assert "Link" in client.get("/tasks?limit=18").headers
    for limit in (19, 20, 200):
        response = client.get(f"/tasks?limit={limit}")
        assert len(response.get_json()) == 19 and "Link" not in response.headers
    assert "Link" not in client.get("/tasks?status=pending&project_id=999999").headers


def test_a_thousand_by_default_as_before_pages(api, session, hall, clock):  # noqa: F811
    from agency.tasks.schemas import TaskQuery
    from tests.tasks import start
    assert TaskQuery().load({})["limit"] == 1000  # what the list held before it had pages
    clock.set(MONDAY)
    for n in range(13):  # 52 tasks
        start(session, MONDAY, hall, name=f"项目{n}")
    response = api(hall["director"]).get("/tasks")
    assert len(response.get_json()) == 52 and "Link" not in response.headers
    response = api(hall["director"]).get("/tasks?limit=50")
    assert len(response.get_json()) == 50 and "limit=50" in response.headers["Link"]


def test_a_task_leaving_the_list_between_pages_shifts_nothing(api, session, hall, tasks):  # noqa: F811
    from agency.tasks.services import answer_task
    from tests.tasks import as_actor
    client = api(hall["director"])
    before = [t.id for t in visible(session, hall["director"], Task.status.in_(OPEN_STATUSES))]
    first = client.get("/tasks?status=open&limit=6")  # ZJ-05, B's three immediate items, then SCJG-01's tie
    gone = session.get(Task, tasks["B:SCJG-01"])  # on the first page; its stage stays open (no new tasks)
    assert gone.id in [t["id"] for t in first.get_json()]
    answer_task(session, LIST_NOW, as_actor(hall[f"{gone.department.code.lower()}_a"]), gone, "consent")
    session.commit()
    rest = walk(client, next_url(first))
    assert [t["id"] for t in first.get_json()] + [t["id"] for page in rest for t in page] == before


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "x", "1.5", ""])
def test_limit_out_of_bounds_is_bad_input(api, session, hall, limit):  # noqa: F811
    before = snapshot(session)
    fields = assert_error(api(hall["fgw_a"]).get(f"/tasks?status=open&limit={limit}"), 400, "bad_input",
                          "limit")
    assert set(fields) == {"limit"}
    assert snapshot(session) == before


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("after", ["nonsense", "", "!!", _b64("1.2.3"), _b64("-5.1"), _b64("1.x"), _b64("1"),
                                   _b64("99999999999999999999.1"), _b64("1.99999999999999999999"), "%C3%A9"])
def test_a_bad_cursor_is_bad_input(api, session, hall, after):  # noqa: F811
    before = snapshot(session)
    fields = assert_error(api(hall["fgw_a"]).get(f"/tasks?limit=5&after={after}"), 400, "bad_input", "after")
    assert set(fields) == {"after"}
    assert snapshot(session) == before


def test_no_cursor_shows_a_liaison_another_departments_task(api, session, hall, tasks):  # noqa: F811
    """Cursors after each of the director's 19 tasks (every department's), replayed by FGW's liaison."""
    cursors = [None]
    director = api(hall["director"])
    url = "/api/v1/tasks?limit=1"
    while url:
        url = next_url(director.client.get(url, headers=director.headers))
        cursors.append(parse_qs(urlsplit(url).query)["after"][0] if url else None)
    assert len(cursors) == 20
    fgw = visible(session, hall["fgw_a"])
    everything = visible(session, hall["director"])
    client = api(hall["fgw_a"])
    for position, cursor in enumerate(cursors[1:-1]):
        for status in ("", "&status=open"):
            shown = client.get(f"/tasks?limit=200&after={cursor}{status}").get_json()
            assert {t["department"] for t in shown} <= {"FGW"}
            key = (everything[position].deadline, everything[position].id)
            assert [t["id"] for t in shown] == [
                t.id for t in fgw if (t.deadline, t.id) > key and (not status or t.status in OPEN_STATUSES)]


def test_the_list_writes_each_task_as_task_schema_does(api, session, hall, tasks):  # noqa: F811
    """The list is built from rows (agency.tasks.schemas.dump_task_rows); TaskSchema documents it."""
    answer = api(hall["director"]).get("/tasks?limit=200").get_json()
    session.expire_all()
    by_id = {t.id: t for t in session.scalars(select(Task))}
    assert len(answer) == len(by_id) == 19
    for written in answer:
        assert set(written) == set(TaskSchema().fields)
        assert written == json.loads(json.dumps(TaskSchema().dump(by_id[written["id"]]))), written["id"]
    # The data holds what the comparison must cover:
    states = {(t["status"], t["escalated"], bool(t["materials_requested"]), t["working_days_left"] is None)
              for t in answer}
    assert {s for s, *_ in states} == set(TASK_STATUSES)
    assert ("pending", True, False, False) in states  # escalated, overdue: days left < 0
    assert ("supplement", False, True, True) in states and ("accepted", False, True, False) in states
    assert any(t["working_days_left"] < 0 for t in answer if t["working_days_left"] is not None)
    second = next(t for t in answer if t["id"] == tasks["D:FGW-03"])
    assert (second["supplement_count"], second["materials_requested"]) == (2, ["节能报告（修订）", "能评批复"])
    deemed = next(t for t in answer if t["status"] == "deemed_consent")
    assert (deemed["outcome"], deemed["outcome_reason"]) == ("consent", "timeout")
