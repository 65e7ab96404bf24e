"""The audit log (R12): append-only, hash-chained per project, verifiable."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from agency.audit.models import AuditEvent
from agency.audit.services import GENESIS, HALL_CHAIN, SYSTEM, _digest, record, verify
from agency.extensions import db
from tests.audit.conftest import tampering


def _invoke(app, *args):
    return app.test_cli_runner().invoke(args=["agency", "verify-audit", *args])


def test_record_chains_events_per_project(session, chains):
    first, second, (e1, e2, e3), other = chains
    assert [(e.chain, e.seq, e.project_id) for e in (e1, e2, e3)] == [
        (f"project:{first.id}", 1, first.id), (f"project:{first.id}", 2, first.id), (f"project:{first.id}", 3, first.id)]
    assert (e1.prev_hash, e2.prev_hash, e3.prev_hash) == (GENESIS, e1.hash, e2.hash)
    assert (other.chain, other.seq, other.prev_hash) == (f"project:{second.id}", 1, GENESIS)
    assert (e2.object_type, e2.object_id, e2.actor_role, e2.before, e2.after) == (
        "project", first.id, "agent", {"agent_id": None}, {"agent_id": e2.actor_id})
    assert e3.after["at"] == "2026-11-23 01:00:00+00:00"  # stored JSON-safe
    # users and catalog imports live on the hall chain, numbered on their own
    hall = session.scalars(select(AuditEvent.seq).where(AuditEvent.chain == HALL_CHAIN).order_by(AuditEvent.seq)).all()
    assert hall == list(range(1, len(hall) + 1)) and len(hall) >= 4


def test_verify_passes_on_untouched_chains_after_reload(session, chains):
    first, second, *_ = chains
    session.expire_all()
    assert verify(session) is None
    assert verify(session, first.id) is None
    assert verify(session, second.id) is None


def test_event_recorded_with_local_time_verifies_after_reload(session):
    local = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    event = record(session, local, SYSTEM, "calendar.override", detail="停电")
    session.flush()
    event_id = event.id
    session.commit()
    session.expunge_all()
    reloaded = session.get(AuditEvent, event_id)
    assert reloaded.at == local and reloaded.at.utcoffset() == timedelta(0)
    assert verify(session) is None


@pytest.mark.parametrize("column, value", [
    ("detail", "'forged'"), ("actor_role", "'director'"), ("after", "'{\"agent_id\": 999}'")])
def test_an_edited_field_is_detected_naming_the_event(session, chains, column, value):
    first, _, (e1, e2, e3), _ = chains
    session.execute(text(f"UPDATE audit_events SET {column} = {value} WHERE id = :id"), {"id": e2.id})
    session.commit()
    broken = verify(session)
    assert (broken.chain, broken.seq, broken.event_id) == (f"project:{first.id}", 2, e2.id)
    assert "edited" in broken.problem
    assert f"event {e2.id}" in str(broken)


def test_a_rehashed_forgery_breaks_the_next_link(session, chains):
    first, _, (e1, e2, e3), _ = chains
    e2.detail = "forged"
    forged_hash = _digest(e2)
    session.rollback()
    session.execute(text("UPDATE audit_events SET detail = 'forged', hash = :h WHERE id = :id"),
                    {"h": forged_hash, "id": e2.id})
    session.commit()
    broken = verify(session, first.id)
    assert (broken.seq, broken.event_id, broken.problem) == (3, e3.id, "does not follow the previous event")


def test_a_deleted_middle_event_is_detected(session, chains):
    first, _, (e1, e2, e3), _ = chains
    session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": e2.id})
    session.commit()
    broken = verify(session)
    assert (broken.chain, broken.seq, broken.event_id) == (f"project:{first.id}", 2, None)
    assert "missing" in broken.problem
    assert f"chain project:{first.id}: position 2" in str(broken)


def test_a_deleted_first_event_is_detected(session, chains):
    first, _, (e1, *_), _ = chains
    session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": e1.id})
    session.commit()
    assert verify(session, first.id).seq == 1


def test_verify_audit_command(app, session, chains):
    first, second, (e1, e2, e3), _ = chains
    result = _invoke(app)
    assert (result.exit_code, result.output.strip()) == (0, "audit chains intact")

    session.execute(text("UPDATE audit_events SET detail = 'forged' WHERE id = :id"), {"id": e3.id})
    session.commit()
    result = _invoke(app)
    assert result.exit_code == 1
    assert f"chain project:{first.id}: event {e3.id} (seq 3) was edited" in result.output

    # --project limits the check to one chain
    assert _invoke(app, "--project", str(second.id)).exit_code == 0
    result = _invoke(app, "--project", str(first.id))
    assert result.exit_code == 1 and f"event {e3.id}" in result.output


@pytest.mark.parametrize("tamper", [
    "DELETE FROM audit_events WHERE chain = :first AND seq = 3",          # the last event of a chain
    "DELETE FROM audit_events WHERE chain = :first AND seq >= 2",         # its last two
    "DELETE FROM audit_events WHERE chain = :first",                      # the whole chain
    "UPDATE audit_events SET detail = 'forged' WHERE chain = :first AND seq = 1",
    "UPDATE audit_events SET detail = 'forged' WHERE chain = :first AND seq = 3",
])
def test_verify_audit_names_the_chain_after_truncation_deletion_or_edit(app, session, chains, tamper):
    """Through the commands only: a checkpoint (the timer's, the daily report's), then an attacker."""
    first, *_ = chains
    assert app.test_cli_runner().invoke(args=["agency", "checkpoint-audit"]).exit_code == 0
    result = _invoke(app)
    assert (result.exit_code, result.output.strip()) == (0, "audit chains intact")
    session.execute(text(tamper), {"first": f"project:{first.id}"})
    session.commit()
    result = _invoke(app)
    assert result.exit_code == 1
    assert f"audit chain broken: chain project:{first.id}: " in result.output


@pytest.mark.postgres
def test_chains_verify_and_break_on_postgres(pg_app):
    now = datetime(2026, 11, 23, 1, 0, 0, 123456, tzinfo=timezone.utc)
    with pg_app.app_context():
        session = db.session
        opened = record(session, now, SYSTEM, "hall.opened", after={"note": "第一"})
        record(session, now.astimezone(ZoneInfo("Asia/Shanghai")), SYSTEM, "hall.closed")
        session.commit()
        first = opened.id
        session.expunge_all()
        assert verify(session) is None
        with tampering(session):
            session.execute(text("UPDATE audit_events SET action = 'hall.forged' WHERE id = :id"), {"id": first})
        broken = verify(session)
        assert (broken.chain, broken.seq, broken.event_id) == (HALL_CHAIN, 1, first)
