"""Events recorded together (agency.audit.services.record_together): one INSERT for a step's events, on SQLite
and PostgreSQL, the chain as if each had been written at once."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from agency.audit.models import AuditEvent
from agency.audit.services import SYSTEM, chain_of, record, record_together, verify
from agency.extensions import db
from tests.audit.conftest import make_chains
from tests.support import StatementCounter, UserFactory, import_sample_catalog

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def chained(request):
    """(session, first project, its three events) on either database, inside the app context."""
    app = request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")
    with app.app_context():
        session = db.session
        import_sample_catalog(session, NOW)
        first, _, events, _ = make_chains(session, NOW, UserFactory(session, NOW))
        yield session, first, events
        session.remove()


def _chain(session, project_id):
    return session.execute(select(AuditEvent.seq, AuditEvent.action, AuditEvent.id)
                           .where(AuditEvent.chain == chain_of(project_id)).order_by(AuditEvent.seq)).all()


def test_a_blocks_events_are_written_by_one_insert_at_its_end(chained):
    session, first, _ = chained
    counter = StatementCounter(db.engine)
    try:
        counter.on = True
        with record_together(session):
            closed = record(session, NOW, SYSTEM, "stage.closed", project_id=first.id)
            completed = record(session, NOW + timedelta(seconds=1), SYSTEM, "project.completed", project_id=first.id)
            assert (closed.id, completed.id) == (None, None)  # not written yet
            assert [s for s in counter.statements if "INSERT INTO audit_events" in s] == []
        counter.on = False
    finally:
        counter.close()
    # PostgreSQL: one INSERT ... RETURNING; SQLite: SQLAlchemy sends a row at a time to return the ids in order
    inserts = 1 if session.get_bind().dialect.name == "postgresql" else 2
    assert len([s for s in counter.statements if "INSERT INTO audit_events" in s]) == inserts, counter.show()
    session.commit()
    rows = _chain(session, first.id)
    assert [(seq, action) for seq, action, _ in rows[-2:]] == [(4, "stage.closed"), (5, "project.completed")]
    assert [event_id for *_, event_id in rows[-2:]] == [closed.id, completed.id]
    assert verify(session) is None


def test_an_exception_leaves_nothing_written_and_the_chain_goes_on(chained):
    session, first, _ = chained
    with pytest.raises(RuntimeError), record_together(session):
        record(session, NOW, SYSTEM, "stage.closed", project_id=first.id)
        raise RuntimeError("the step failed")
    record(session, NOW, SYSTEM, "project.note", project_id=first.id, detail="同一事务的下一事件")
    session.commit()
    assert [(seq, action) for seq, action, _ in _chain(session, first.id)[3:]] == [(4, "project.note")]
    assert verify(session) is None


def test_a_nested_block_and_an_event_written_at_once_keep_the_chains_order(chained):
    session, first, _ = chained
    from agency.audit.services import _written_so_far
    with record_together(session):
        record(session, NOW, SYSTEM, "stage.closed", project_id=first.id)
        with record_together(session):  # writes with the outer block
            record(session, NOW, SYSTEM, "stage.waiting", project_id=first.id)
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "stage.waiting")) is None
        _written_so_far(session)  # as record_change and write_events do before writing their own
        record(session, NOW, SYSTEM, "project.note", project_id=first.id)
    session.commit()
    assert [(seq, action) for seq, action, _ in _chain(session, first.id)[3:]] == [
        (4, "stage.closed"), (5, "stage.waiting"), (6, "project.note")]
    assert verify(session) is None
