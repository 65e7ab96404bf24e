"""On PostgreSQL the audit tables refuse UPDATE and DELETE (a trigger); tampering needs the owner's rights."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from agency.audit.checkpoints import checkpoint_audit
from agency.audit.models import AuditCheckpoint, AuditEvent
from agency.audit.services import SYSTEM, record, verify
from agency.extensions import db
from tests.audit.conftest import tampering
from tests.support import truncate_all

pytestmark = pytest.mark.postgres


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["agency", *args])


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET detail = 'forged' WHERE id = :id",
    "DELETE FROM audit_events WHERE id = :id",
])
def test_events_refuse_update_and_delete(pg_chains, statement):
    _, _, (e1, e2, e3), _ = pg_chains
    session = db.session
    before = session.execute(select(AuditEvent.detail, AuditEvent.hash).where(AuditEvent.id == e2.id)).one()
    with pytest.raises(ProgrammingError, match="the audit log is append-only"):
        session.execute(text(statement), {"id": e2.id})
    session.rollback()
    assert session.execute(select(AuditEvent.detail, AuditEvent.hash).where(AuditEvent.id == e2.id)).one() == before
    assert verify(session) is None


@pytest.mark.parametrize("statement", [
    "UPDATE audit_checkpoints SET heads = '{}' WHERE id = :id",
    "DELETE FROM audit_checkpoints WHERE id = :id",
])
def test_checkpoints_refuse_update_and_delete(pg_chains, now, statement):
    session = db.session
    checkpoint = checkpoint_audit(session, now)
    session.commit()
    with pytest.raises(ProgrammingError, match="append-only: (UPDATE|DELETE) on audit_checkpoints refused"):
        session.execute(text(statement), {"id": checkpoint.id})
    session.rollback()
    assert session.scalar(select(AuditCheckpoint.heads).where(AuditCheckpoint.id == checkpoint.id)) == checkpoint.heads


def test_truncate_still_empties_the_tables_between_tests(pg_chains, now):
    session = db.session
    checkpoint_audit(session, now)
    session.commit()
    session.remove()
    truncate_all(db.engine)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 0


@pytest.mark.parametrize("tamper, problem", [
    ("DELETE FROM audit_events WHERE id = :last", "its last events were deleted"),
    ("DELETE FROM audit_events WHERE chain = :chain", "the whole chain was deleted"),
    ("UPDATE audit_events SET detail = 'forged' WHERE id = :middle", "was edited (hash mismatch)"),
])
def test_tampering_with_the_trigger_disabled_is_detected(pg_app, pg_chains, now, tamper, problem):
    first, _, (e1, e2, e3), _ = pg_chains
    session = db.session
    checkpoint_audit(session, now)
    session.commit()
    assert _cli(pg_app, "verify-audit").exit_code == 0
    with tampering(session):
        session.execute(text(tamper), {"last": e3.id, "middle": e2.id, "chain": f"project:{first.id}"})
    assert problem in verify(session).problem
    result = _cli(pg_app, "verify-audit")
    assert result.exit_code == 1 and f"chain project:{first.id}:" in result.output


def test_a_checkpoint_waits_for_events_in_flight(pg_app, pg_chains, now, pg_url):
    """An event whose id is below the watermark but not committed yet is never skipped: the checkpoint
    waits for it (and gives up after its lock timeout, leaving the writer alone)."""
    first, *_ = pg_chains
    session = db.session
    checkpoint_audit(session, now)
    session.commit()
    writer = create_engine(pg_url).connect()
    try:
        writer.begin()
        writer.execute(text(  # an event in flight on another connection (its id taken from the sequence)
            "INSERT INTO audit_events (chain, seq, project_id, at, actor_role, action, object_type, detail, "
            "prev_hash, hash) VALUES (:c, 99, :p, now(), 'system', 'x', '', '', '', '')"),
            {"c": f"project:{first.id}", "p": first.id})
        with pytest.raises(OperationalError, match="lock timeout"):
            checkpoint_audit(session, now + timedelta(minutes=1))
        session.rollback()
        writer.rollback()
    finally:
        writer.close()
    late = record(session, now + timedelta(minutes=2), SYSTEM, "project.note", project_id=first.id)
    session.commit()
    done = {}
    thread = threading.Thread(target=lambda: done.update(ok=_checkpoint_in(pg_app, now)))
    thread.start()
    thread.join()
    assert done["ok"] == {f"project:{first.id}": {"seq": 4, "length": 4, "hash": late.hash}}


def _checkpoint_in(app, now):
    with app.app_context():
        checkpoint = checkpoint_audit(db.session, now + timedelta(minutes=3))
        db.session.commit()
        heads = checkpoint.heads
        db.session.remove()
        return heads
