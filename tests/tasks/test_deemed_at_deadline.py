"""Timeout = consent happens AT the deadline, whatever the sweep did (R5, #11).

With the clock past a task's deadline and no sweep run, any request that touches the task
(accept, supplement, answer, reading it or its project) meets it deemed consent: red card,
one audit event, the deemed-consent notice; the late action is refused (409, naming the
deadline), and the sweep that runs afterwards has nothing left to do.  Both databases.
"""
from datetime import timedelta

import pytest
from sqlalchemy import event

from agency.clock import local
from agency.extensions import db
from agency.projects.models import Project
from agency.results.models import TaskResult
from agency.supervision.models import Card, Escalation
from agency.tasks.models import Task
from tests.support import ApiClientFactory
from tests.tasks import (  # noqa: F401  (fixtures)
    MONDAY,
    app,
    assert_error,
    build_hall,
    count,
    events_for,
    hall,
    hall_template,
    liaison_of,
    shared_app,
    start,
)
from workers.deadlines import run_sweep


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request, clock):
    """(session, hall, api) on the SQLite file database or the real PostgreSQL."""
    if request.param == "sqlite":
        people = request.getfixturevalue("hall")  # in the conftest's app context (``session``)
        yield db.session, people, ApiClientFactory(request.getfixturevalue("client"), db.session, MONDAY)
        return
    application = request.getfixturevalue("pg_app")
    with application.app_context():
        people = build_hall(db.session, MONDAY)
        db.session.commit()
        yield db.session, people, ApiClientFactory(application.test_client(), db.session, MONDAY)
        db.session.remove()


def _dispatched(session, hall, clock, items=("FGW-01",), **overrides):
    clock.set(MONDAY)
    project, (task,) = start(session, MONDAY, hall, items=list(items), **overrides)
    return project, task


def _deemed_once(session, task_id, deadline):
    session.expire_all()
    task = session.get(Task, task_id)
    assert (task.status, task.outcome, task.outcome_reason) == ("deemed_consent", "consent", "timeout")
    assert count(session, Card, Card.task_id == task_id, Card.color == "red") == 1
    assert events_for(session, "task.deemed_consent", task_id) == 1
    assert count(session, TaskResult, TaskResult.task_id == task_id, TaskResult.kind == "deemed_consent_notice") == 1
    counts = run_sweep(session, deadline + timedelta(days=1))
    assert (counts["deemed_consent"], counts["escalated"]) == (0, 0)
    session.expire_all()
    assert count(session, Card, Card.task_id == task_id) == 1
    assert events_for(session, "task.deemed_consent", task_id) == 1


LATE = {
    "answer": ("/answer", {"decision": "refuse", "opinion": "不符合规划"}),
    "accept": ("/accept", None),
    "supplement": ("/supplement", {"materials": ["补充说明"]}),
}


@pytest.mark.parametrize("action", sorted(LATE))
def test_a_late_action_meets_the_task_deemed_at_its_deadline(env, clock, action):
    session, hall, api = env
    project, task = _dispatched(session, hall, clock)
    task_id, deadline, project_id = task.id, task.deadline, project.id
    liaison = api(liaison_of(hall, task))
    clock.set(deadline + timedelta(seconds=1))
    path, body = LATE[action]
    response = liaison.post(f"/tasks/{task_id}{path}", json=body) if body else liaison.post(f"/tasks/{task_id}{path}")
    fields = assert_error(response, 409, "conflict", "deadline")
    message = response.get_json()["error"]["message"]
    assert "deemed consent at its deadline" in message
    assert f"{local(deadline):%Y-%m-%d %H:%M}" in message
    assert fields["status"] == "deemed_consent"
    _deemed_once(session, task_id, deadline)
    assert session.get(Project, project_id).halted_at is None  # a late refusal halts nothing


def test_a_late_answer_through_the_service_is_refused_the_same_way(env, clock):
    """Outside a request (a job, the CLI) the service settles the clock itself before it answers."""
    from agency.audit.services import Actor
    from agency.errors import TransitionNotAllowed
    from agency.tasks.services import answer_task
    session, hall, _ = env
    _, task = _dispatched(session, hall, clock)
    with pytest.raises(TransitionNotAllowed, match="deemed consent at its deadline"):
        answer_task(session, task.deadline, Actor.of(liaison_of(hall, task)), task, "consent")
    session.commit()  # the deemed consent the service applied is a fact of its own
    _deemed_once(session, task.id, task.deadline)


def test_reading_the_project_after_the_deadline_shows_it_deemed(env, clock):
    session, hall, api = env
    project, task = _dispatched(session, hall, clock)
    task_id, deadline = task.id, task.deadline
    clock.set(deadline)  # AT the deadline
    body = api(hall["agent"]).get(f"/projects/{project.id}").get_json()
    (shown,) = [t for t in body["tasks"] if t["id"] == task_id]
    assert (shown["status"], shown["outcome_reason"]) == ("deemed_consent", "timeout")
    _deemed_once(session, task_id, deadline)


def test_reading_the_task_after_the_deadline_shows_it_deemed(env, clock):
    session, hall, api = env
    _, task = _dispatched(session, hall, clock)
    task_id, deadline = task.id, task.deadline
    clock.set(deadline + timedelta(minutes=5))
    shown = api(liaison_of(hall, task)).get(f"/tasks/{task_id}").get_json()
    assert (shown["status"], shown["outcome_reason"]) == ("deemed_consent", "timeout")
    _deemed_once(session, task_id, deadline)


def test_an_answer_one_second_before_the_deadline_stands(env, clock):
    session, hall, api = env
    _, task = _dispatched(session, hall, clock)
    task_id, deadline = task.id, task.deadline
    clock.set(deadline - timedelta(seconds=1))
    response = api(liaison_of(hall, task)).post(f"/tasks/{task_id}/answer",
                                                json={"decision": "refuse", "opinion": "不符合规划"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "answered"
    counts = run_sweep(session, deadline + timedelta(days=1))
    assert counts["deemed_consent"] == 0
    session.expire_all()
    assert session.get(Task, task_id).outcome == "refuse"
    assert count(session, Card, Card.task_id == task_id, Card.color == "red") == 0


def test_an_item_never_deemed_is_escalated_by_the_request_and_stays_answerable(env, clock):
    session, hall, api = env
    _, task = _dispatched(session, hall, clock, items=("ZJ-05",), project_type="COMPLETION")
    assert not task.item.deemed_consent_allowed
    task_id, deadline = task.id, task.deadline
    liaison = api(liaison_of(hall, task))
    clock.set(deadline + timedelta(hours=1))
    shown = liaison.get(f"/tasks/{task_id}").get_json()
    assert shown["status"] == "pending"
    assert count(session, Escalation, Escalation.task_id == task_id) == 1
    assert events_for(session, "task.escalated", task_id) == 1
    assert run_sweep(session, deadline + timedelta(days=1))["escalated"] == 0
    response = liaison.post(f"/tasks/{task_id}/answer", json={"decision": "consent"})
    assert response.status_code == 200, response.get_json()
    session.expire_all()
    assert session.get(Task, task_id).status == "answered"
    assert count(session, Escalation, Escalation.task_id == task_id) == 1
    assert count(session, Card, Card.task_id == task_id, Card.color == "red") == 1


def test_the_one_day_warning_shows_as_soon_as_a_request_reads_the_task(env, clock):
    session, hall, api = env
    _, task = _dispatched(session, hall, clock)
    task_id, warn_at = task.id, task.warn_at
    clock.set(warn_at + timedelta(seconds=1))
    assert api(hall["agent"]).get(f"/tasks/{task_id}").status_code == 200
    session.expire_all()
    assert session.get(Task, task_id).warned_at is not None
    assert count(session, Card, Card.task_id == task_id, Card.color == "yellow") == 1
    assert events_for(session, "task.warned", task_id) == 1
    assert run_sweep(session, warn_at + timedelta(minutes=1))["warned"] == 0


def test_a_request_with_nothing_due_pays_one_probe_at_most(env, clock):
    """Settling a project with nothing due is one statement; a task's own clocks, none."""
    from agency.projects.clocks import settle_project, settle_task
    session, hall, _ = env
    project, task = _dispatched(session, hall, clock)
    session.refresh(task)  # loaded, as a request has them from get_task, get_project
    session.refresh(project)
    sent = []

    def capture(conn, cursor, statement, *args):
        sent.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        assert settle_task(session, MONDAY, task) is False
        assert sent == []
        assert settle_project(session, MONDAY, project) is False
        assert len(sent) == 1
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def test_the_inbox_after_the_deadline_shows_the_task_deemed(env, clock):
    """GET /tasks reads rows, not tasks: a clock due on the page is settled before the page is shown (#11)."""
    session, hall, api = env
    _, task = _dispatched(session, hall, clock)
    task_id, deadline = task.id, task.deadline
    clock.set(deadline + timedelta(minutes=5))
    response = api(liaison_of(hall, task)).get("/tasks")
    assert response.status_code == 200, response.get_json()
    shown = next(t for t in response.get_json() if t["id"] == task_id)
    assert (shown["status"], shown["outcome_reason"]) == ("deemed_consent", "timeout")
    assert "warn_at" not in shown and "warned_at" not in shown
    _deemed_once(session, task_id, deadline)


def test_the_inbox_warns_a_task_one_working_day_before_its_deadline(env, clock):
    session, hall, api = env
    _, task = _dispatched(session, hall, clock)
    task_id, warn_at = task.id, task.warn_at
    clock.set(warn_at + timedelta(minutes=1))
    assert api(liaison_of(hall, task)).get("/tasks").status_code == 200
    session.expire_all()
    assert session.get(Task, task_id).warned_at is not None
    assert events_for(session, "task.warned", task_id) == 1
    assert run_sweep(session, warn_at + timedelta(minutes=2))["warned"] == 0


def test_the_inbox_with_nothing_due_costs_what_it_did(env, clock):
    """Nothing due: the page's statements are the page read (and what it read before: token, calendar)."""
    session, hall, api = env
    _, task = _dispatched(session, hall, clock)
    liaison = api(liaison_of(hall, task))
    clock.set(MONDAY + timedelta(minutes=5))
    assert liaison.get("/tasks").status_code == 200  # warm (the token's first use)
    sent = []

    def capture(conn, cursor, statement, *args):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        assert liaison.get("/tasks").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    writes = [s for s in sent if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    assert writes == [] and not any("FOR UPDATE" in s for s in sent), sent
    assert sum("FROM tasks JOIN departments" in " ".join(s.split()) for s in sent) == 1, sent  # the page, once
