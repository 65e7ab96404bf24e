"""Builders and fixtures shared by the task, worker and project tests.

``build_hall`` makes the people of the ``hall`` fixture (tests/projects/conftest.py)
on any session: the PostgreSQL app, or a hypothesis state machine's own app.

Building the hall (catalog and 31 users) costs about half a second, so the
fixtures below build it once per run into a SQLite file (``hall_template``)
that ``app`` copies for each test, as the root conftest copies the migrated
schema.  A test module imports ``app`` and ``hall`` from here to use them;
they behave as the conftest fixtures of the same names.
"""
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from agency.audit.services import Actor
from agency.extensions import db
from tests import support
from tests.support import ENTRUST, build_hall, import_sample_catalog  # noqa: F401  (re-exported)

MONDAY = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


def entrust(session, now, hall, *, by="agent", enterprise="ent", ready=True, **overrides):
    """A project entrusted by the agent on the enterprise's behalf (or by the enterprise), committed.

    ``ready``: its dispatch preconditions met too (support.ready_for_dispatch); False leaves them open.
    """
    from agency.projects.services import entrust_project
    body = {**ENTRUST, **overrides}
    if hall[by].role == "agent":
        body.setdefault("enterprise_id", hall[enterprise].id)
    project = entrust_project(session, now, hall[by], **body)
    session.commit()
    if ready:
        support.ready_for_dispatch(session, now, project)
    return project


def dispatch(session, now, project, items=None, agent=None):
    """Dispatch the next stage as the project's agent (its preconditions met first), committed; the new tasks."""
    from agency.projects.services import dispatch_stage
    support.ready_for_dispatch(session, now, project)
    actor = Actor.of(agent) if agent is not None else Actor(project.agent_id, "agent")
    stage, tasks = dispatch_stage(session, now, actor, project, items)
    session.commit()
    return tasks


def start(session, now, hall, items=None, **overrides):
    """Entrusted and stage 1 dispatched: (project, tasks)."""
    project = entrust(session, now, hall, **overrides)
    return project, dispatch(session, now, project, items)


# -- GET /tasks page by page (tests/tasks/test_list*.py) ---------------------------------------

LIST_NOW = MONDAY + timedelta(days=1, hours=1)  # Tuesday 10:00: some clocks running, some overdue, some stopped


def every_state(app, session, hall) -> dict[str, int]:
    """19 tasks of 5 projects in every state a task can be in, committed; {name: task id}.

    A COMPLETION project dispatched on 3 November and swept on MONDAY (two tasks deemed
    consent, ZJ-05 escalated: not deemable); on MONDAY an IND_PERMIT (answered, supplement,
    accepted, pending) and a STARTUP (four tasks due with A's FGW-01: ties on the deadline);
    on Tuesday another IND_PERMIT (a second supplement, materials supplied) and a STARTUP
    withdrawn (cancelled).  Deadlines repeat across projects, so pages split ties on id.  The clocks due
    by LIST_NOW are settled (B's immediate items, due Monday), as the list settles its page's.
    """
    from agency.projects.services import withdraw_project
    from workers.deadlines import run_sweep
    from agency.tasks.services import accept_task, answer_task, request_supplement, supply_materials
    tuesday = MONDAY + timedelta(days=1)
    _, c = start(session, datetime(2026, 11, 3, 1, 0, tzinfo=UTC), hall, project_type="COMPLETION", enterprise="ent2",
                 name="竣工验收")
    result = app.test_cli_runner().invoke(args=["agency", "sweep", "--now", MONDAY.isoformat()])
    assert result.exit_code == 0, result.output
    session.expire_all()
    _, a = start(session, MONDAY, hall)
    _, b = start(session, MONDAY, hall, by="agent2", enterprise="ent2", project_type="STARTUP", name="乙公司开办")
    _, d = start(session, tuesday, hall, by="agent2", name="二期")
    e_project, e = start(session, tuesday, hall, project_type="STARTUP", name="撤回的开办")
    tasks = {f"{name}:{t.item.code}": t for name, group in (("A", a), ("B", b), ("C", c), ("D", d), ("E", e))
             for t in group}

    def by(task):
        return as_actor(liaison_of(hall, task))

    answer_task(session, MONDAY, by(tasks["A:FGW-01"]), tasks["A:FGW-01"], "consent_with_conditions", "限期补办")
    request_supplement(session, MONDAY, by(tasks["A:FGW-03"]), tasks["A:FGW-03"], ["节能报告", "项目备案证明"])
    accept_task(session, MONDAY, by(tasks["A:ZRGH-01"]), tasks["A:ZRGH-01"])
    for code, materials in (("D:FGW-03", ["可研报告"]), ("D:ZRGH-01", ["勘测定界图"])):
        request_supplement(session, tuesday, by(tasks[code]), tasks[code], materials)
        supply_materials(session, tuesday + timedelta(hours=1), Actor(hall["agent2"].id, "agent"), tasks[code])
    request_supplement(session, tuesday + timedelta(hours=2), by(tasks["D:FGW-03"]), tasks["D:FGW-03"],
                       ["节能报告（修订）", "能评批复"])
    withdraw_project(session, tuesday, hall["ent"], e_project, "不做了")
    session.commit()
    run_sweep(session, LIST_NOW)  # the clocks as of LIST_NOW, as GET /tasks settles those of its page (#11)
    session.expire_all()
    return {name: task.id for name, task in tasks.items()}


def next_url(response) -> str | None:
    """The URL of the Link header (rel="next"), None without one."""
    link = response.headers.get("Link")
    if link is None:
        return None
    assert link.startswith("<http://localhost/api/v1/tasks?") and link.endswith('>; rel="next"'), link
    return link[1:-len('>; rel="next"')]


def walk(client, url: str) -> list[list[dict]]:
    """Every page from ``url`` on, following the Link header."""
    pages = []
    while url:
        response = client.client.get(url, headers=client.headers)
        assert response.status_code == 200, response.get_json()
        pages.append(response.get_json())
        url = next_url(response)
        assert pages[-1] or not url, "an empty page never links to another"
    return pages


def visible(session, user, *where) -> list:
    """What ``user`` may see (DESIGN.md section 3), worked out here without agency.people.access."""
    from agency.projects.models import Project
    from agency.tasks.models import Task
    session.expire_all()
    everything = session.scalars(select(Task).join(Project).where(*where)).all()
    seen = {
        "director": lambda t: True,
        "liaison": lambda t: t.department_id == user.department_id,
        "agent": lambda t: user.id in (t.project.agent_id, t.project.first_contact_agent_id),
        "enterprise": lambda t: t.project.enterprise_id == user.id,
    }[user.role]
    return sorted((t for t in everything if seen(t)), key=lambda t: (t.deadline, t.id))


def liaison_of(hall, task, slot="a"):
    return hall[f"{task.department.code.lower()}_{slot}"]


def as_actor(user) -> Actor:
    return Actor.of(user)


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def audit_actions(session, project_id) -> list[str]:
    from agency.audit.models import AuditEvent
    return session.scalars(select(AuditEvent.action).where(AuditEvent.project_id == project_id)
                           .order_by(AuditEvent.seq)).all()


def events_for(session, action, task_id) -> int:
    from agency.audit.models import AuditEvent
    return count(session, AuditEvent, AuditEvent.action == action, AuditEvent.object_type == "task",
                 AuditEvent.object_id == task_id)


def inbox(session, user) -> list[str]:
    from agency.notifications.models import Message
    return session.scalars(select(Message.subject).where(Message.user_id == user.id).order_by(Message.id)).all()


def deadline_from(session, start, days):
    """The calendar's deadline for ``days`` working days from ``start`` (R1)."""
    from agency.calendar.services import get_calendar
    from agency.clock import closing_time, hall_tz
    return get_calendar(session).deadline_after(start, days, hall_tz(), closing_time())


def snapshot(session) -> dict:
    """Row counts of every table a workflow call may write: compare before and after a refused call."""
    from agency.audit.models import AuditEvent
    from agency.jobs.models import OutboxJob
    from agency.notifications.models import Delivery, Message
    from agency.projects.models import ContactCard, Project, Stage
    from agency.supervision.models import Card, Escalation
    from agency.materials.models import Deferral, ProjectMaterial
    from agency.results.models import Shipment, TaskResult
    from agency.tasks.models import MaterialFile, SupplementRequest, Task
    from agency.visits.models import Visit
    session.expire_all()
    counts = {model.__tablename__: count(session, model) for model in (
        AuditEvent, OutboxJob, Delivery, Message, ContactCard, Project, Stage, Card, Escalation, SupplementRequest,
        Task, ProjectMaterial, MaterialFile, Deferral, TaskResult, Shipment, Visit)}
    counts["task_states"] = sorted(session.execute(select(Task.id, Task.status, Task.deadline)).all())
    counts["stage_states"] = sorted(session.execute(select(Stage.id, Stage.status)).all())
    counts["project_states"] = sorted(session.execute(select(Project.id, Project.status, Project.agent_id)).all())
    return counts


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    """The error shape of API.md: {"error": {"code", "message", "fields"}}; returns its fields."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    assert body["error"]["code"] == code and body["error"]["message"], body
    if field is not None:
        assert field in body["error"]["fields"], body
    return body["error"]["fields"]


@pytest.fixture(scope="session")
def hall_template(sqlite_template, tmp_path_factory):
    """A migrated SQLite file holding the sample catalog and the hall's people; (path, {name: username})."""
    path = tmp_path_factory.mktemp("hall") / "hall.db"
    shutil.copy(sqlite_template, path)
    application = support.make_app(f"sqlite:///{path}", path.parent)
    with application.app_context():
        people = build_hall(db.session, MONDAY)
        names = {name: user.username for name, user in people.items()}
        db.session.remove()
        db.engine.dispose()
    return path, names


@pytest.fixture(scope="session")
def shared_app(hall_template, tmp_path_factory):
    """One app for the whole run (building one costs about 0.4 s): (app, path of its database file)."""
    folder = tmp_path_factory.mktemp("shared-app")
    path = folder / "agency.db"
    shutil.copy(hall_template[0], path)
    return support.make_app(f"sqlite:///{path}", folder), path


def fresh_database(application, path, template) -> None:
    """Give ``application`` a fresh copy of ``template`` and empty its queues and outbox of e-mail."""
    from workers.queues import reset_embedded
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    shutil.copy(template, path)
    reset_embedded()
    application.extensions["mail_outbox"].clear()


@pytest.fixture
def app(shared_app, hall_template, monkeypatch):
    """The conftest ``app``, on a fresh copy of the hall template (the app object itself is reused)."""
    monkeypatch.delenv("AGENCY_NOW", raising=False)
    application, path = shared_app
    fresh_database(application, path, hall_template[0])
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def hall(session, hall_template):
    """The conftest ``hall``: director, agent, agent2, ent, ent2, ``<code>_a``/``<code>_b`` liaisons."""
    from agency.people.models import User
    users = {u.username: u for u in session.scalars(select(User))}
    return {name: users[username] for name, username in hall_template[1].items()}


__all__ = ["MONDAY", "timedelta"]
