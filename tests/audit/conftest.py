"""The audit fixtures: two project chains (and the hall chain of the catalog and users)."""
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from agency.audit.services import SYSTEM, Actor, record
from agency.catalog.models import ProjectType
from agency.extensions import db
from agency.projects.models import Project
from tests.support import UserFactory, import_sample_catalog

APPEND_ONLY = ("audit_events", "audit_checkpoints")


def _project(session, now, enterprise, tracking_code: str) -> Project:
    ptype = session.scalar(select(ProjectType).where(ProjectType.code == "STARTUP"))
    project = Project(name=f"项目 {tracking_code}", project_type=ptype, enterprise_id=enterprise.id,
                      tracking_code=tracking_code, entrusted_at=now, created_at=now)
    session.add(project)
    session.flush()
    return project


@pytest.fixture
def chains(session, now, catalog, make_user):
    """Two projects: three events on the first, one on the second."""
    return make_chains(session, now, make_user)


def make_chains(session, now, make_user):
    enterprise, agent = make_user("enterprise"), make_user("agent")
    first, second = _project(session, now, enterprise, "T0001"), _project(session, now, enterprise, "T0002")
    actor = Actor.of(agent)
    events = [
        record(session, now, actor, "project.entrusted", first, after={"status": "entrusted"}),
        record(session, now + timedelta(minutes=1), actor, "project.assigned", first,
               before={"agent_id": None}, after={"agent_id": agent.id}, detail="首问负责"),
        record(session, now + timedelta(minutes=2), SYSTEM, "project.dispatched", project_id=first.id,
               after={"stage": 1, "at": now}),
    ]
    other = record(session, now, actor, "project.entrusted", second, after={"status": "entrusted"})
    session.commit()
    return first, second, events, other


@pytest.fixture
def pg_chains(pg_app):
    """The same chains on PostgreSQL, inside the app context."""
    now = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
    with pg_app.app_context():
        session = db.session
        import_sample_catalog(session, now)
        make_user = UserFactory(session, now)
        yield make_chains(session, now, make_user)
        session.remove()


@contextmanager
def tampering(session):
    """An attacker with the owner's rights: the append-only triggers off (PostgreSQL), on again after."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        for table in APPEND_ONLY:
            session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
    try:
        yield
        session.commit()
    finally:
        session.rollback()
        if postgres:
            for table in APPEND_ONLY:
                session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))
            session.commit()
