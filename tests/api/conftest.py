"""A small hall with a project under way, on SQLite or on PostgreSQL (``backend``), and a bearer token per
role: what the input-bound and OpenAPI tests call the API with."""
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from agency.audit.services import Actor
from agency.extensions import db
from tests.support import ENTRUST, ApiClient, build_hall, make_app, ready_for_dispatch, truncate_all
from tests.tasks import MONDAY

ROLES = ("director", "agent", "liaison", "enterprise")


@dataclass
class World:
    app: object
    tokens: dict  # role -> bearer token
    ids: dict  # name -> id of a row the world holds

    def as_(self, role: str) -> ApiClient:
        return ApiClient(self.app.test_client(), self.tokens[role])


def build_world(app) -> World:
    """The sample hall; ``ent``'s project carried by ``agent``, stage 1 dispatched, one task accepted and one
    answered with consent, a joint meeting scheduled; a token for one user of each role."""
    from agency.meetings.services import schedule_meeting
    from agency.people.services import issue_token
    from agency.projects.services import dispatch_stage, entrust_project
    from agency.tasks.services import accept_task, answer_task
    session, now = db.session, MONDAY
    with app.app_context():
        hall = build_hall(session, now)
        project = entrust_project(session, now, hall["agent"], **{**ENTRUST, "enterprise_id": hall["ent"].id})
        session.commit()
        ready_for_dispatch(session, now, project)
        _, tasks = dispatch_stage(session, now, Actor(project.agent_id, "agent"), project, None)
        liaison = hall[f"{tasks[0].department.code.lower()}_a"]
        accept_task(session, now, Actor.of(liaison), tasks[0])
        answered = next(t for t in tasks if t.department_id != tasks[0].department_id)
        answer_task(session, now, Actor.of(hall[f"{answered.department.code.lower()}_a"]), answered, "consent", "")
        meeting = schedule_meeting(session, now, hall["agent"], project, kind="joint_review",
                                   starts_at=now.replace(day=26), ends_at=None, place="三楼会议室",
                                   department_codes=[tasks[0].department.code])
        session.commit()
        users = {"director": hall["director"], "agent": hall["agent"], "liaison": liaison, "enterprise": hall["ent"]}
        tokens = {role: issue_token(session, now, user, hours=24 * 3650) for role, user in users.items()}
        session.commit()
        ids = {"project": project.id, "task": tasks[0].id, "answered_task": answered.id, "meeting": meeting.id,
               **{f"{role}_user": user.id for role, user in users.items()}}
        session.remove()
    return World(app, tokens, ids)


def openapi_document() -> dict:
    """/api/v1/openapi.json of an application of the test configuration (serving it reads no database)."""
    with tempfile.TemporaryDirectory() as tmp:
        return make_app("sqlite://", Path(tmp)).test_client().get("/api/v1/openapi.json").get_json()


def sqlite_world(sqlite_template, tmp_path_factory) -> World:
    tmp = tmp_path_factory.mktemp("world")
    shutil.copy(sqlite_template, tmp / "agency.db")
    return build_world(make_app(f"sqlite:///{tmp / 'agency.db'}", tmp))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request, sqlite_template, tmp_path_factory):
    """The world on each database (PostgreSQL refuses an INTEGER of 2^31 where SQLite stores it), built once
    for a module: its tests call the API with input it refuses, or read."""
    if request.param == "sqlite":
        yield sqlite_world(sqlite_template, tmp_path_factory)
        return
    tmp = tmp_path_factory.mktemp("world")
    app = make_app(request.getfixturevalue("pg_url"), tmp)
    yield build_world(app)
    with app.app_context():
        db.session.remove()
        truncate_all(db.engine)
        db.engine.dispose()
