"""Checkpoints anchor the chains' heads: the end of a chain, or a whole chain, deleted no longer verifies (R12)."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from agency.audit.checkpoints import CHECKPOINT_CHAIN, checkpoint_audit, latest_checkpoint
from agency.audit.models import AuditCheckpoint, AuditEvent
from agency.audit.services import GENESIS, HALL_CHAIN, SYSTEM, record, verify


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["agency", *args])


def _chain_length(session, chain):
    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.chain == chain))


def test_checkpoints_anchor_only_the_chains_that_moved_and_form_a_chain(session, now, chains):
    first, second, events, other = chains
    one = checkpoint_audit(session, now)
    session.commit()
    hall_length = _chain_length(session, HALL_CHAIN)
    assert (one.seq, one.prev_hash, one.key_id) == (1, GENESIS, "test1")
    assert one.heads == {
        HALL_CHAIN: {"seq": hall_length, "length": hall_length, "hash": one.heads[HALL_CHAIN]["hash"]},
        f"project:{first.id}": {"seq": 3, "length": 3, "hash": events[2].hash},
        f"project:{second.id}": {"seq": 1, "length": 1, "hash": other.hash},
    }
    assert checkpoint_audit(session, now + timedelta(minutes=1)) is None  # nothing moved: no row
    fourth = record(session, now + timedelta(minutes=2), SYSTEM, "project.note", project_id=first.id)
    session.commit()
    two = checkpoint_audit(session, now + timedelta(minutes=3))
    session.commit()
    assert (two.seq, two.prev_hash, two.upto) == (2, one.hash, fourth.id)
    assert two.heads == {f"project:{first.id}": {"seq": 4, "length": 4, "hash": fourth.hash}}
    assert latest_checkpoint(session).id == two.id
    assert verify(session) is None


def test_deleting_the_last_event_of_a_chain_is_detected(app, session, now, chains):
    first, _, (e1, e2, e3), _ = chains
    checkpoint = checkpoint_audit(session, now)
    session.commit()
    session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": e3.id})
    session.commit()
    broken = verify(session)
    assert (broken.chain, broken.seq, broken.event_id) == (f"project:{first.id}", 3, None)
    assert f"checkpoint {checkpoint.id} anchored 3 events (its last events were deleted)" in broken.problem
    result = _cli(app, "verify-audit")
    assert result.exit_code == 1 and f"chain project:{first.id}: position 3" in result.output
    assert _cli(app, "verify-audit", "--project", str(first.id)).exit_code == 1


def test_deleting_a_whole_chain_is_detected(app, session, now, chains):
    _, second, _, other = chains
    checkpoint_audit(session, now)
    session.commit()
    session.execute(text("DELETE FROM audit_events WHERE chain = :c"), {"c": f"project:{second.id}"})
    session.commit()
    broken = verify(session)
    assert (broken.chain, broken.seq) == (f"project:{second.id}", 1)
    assert "the whole chain was deleted" in broken.problem
    result = _cli(app, "verify-audit")
    assert result.exit_code == 1 and f"chain project:{second.id}" in result.output
    assert _cli(app, "verify-audit", "--project", str(second.id)).exit_code == 1


def test_replacing_an_anchored_head_with_a_rehashed_event_is_detected(session, now, chains):
    """Someone holding the key rewrote the last event: the chain links up, the checkpoint does not agree."""
    first, _, (e1, e2, e3), _ = chains
    checkpoint = checkpoint_audit(session, now)
    session.commit()
    from agency.audit.services import _digest
    e3.detail = "forged"
    forged = _digest(e3)
    session.rollback()
    session.execute(text("UPDATE audit_events SET detail = 'forged', hash = :h WHERE id = :id"),
                    {"h": forged, "id": e3.id})
    session.commit()
    broken = verify(session)
    assert (broken.chain, broken.event_id) == (f"project:{first.id}", e3.id)
    assert broken.problem == f"is not the event checkpoint {checkpoint.id} anchored"


def test_events_after_the_last_checkpoint_can_still_be_truncated_unseen(session, now, chains):
    """The documented window: what the next checkpoint has not anchored yet."""
    first, *_ = chains
    checkpoint_audit(session, now)
    late = record(session, now + timedelta(minutes=5), SYSTEM, "project.note", project_id=first.id)
    session.commit()
    session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": late.id})
    session.commit()
    assert verify(session) is None


@pytest.mark.parametrize("tamper, problem", [
    ("UPDATE audit_checkpoints SET heads = '{}' WHERE seq = 1", "was edited (hash mismatch)"),
    ("DELETE FROM audit_checkpoints WHERE seq = 1", "is missing (deleted checkpoint)"),
])
def test_a_tampered_or_removed_checkpoint_is_detected(app, session, now, chains, tamper, problem):
    first, *_ = chains
    checkpoint_audit(session, now)
    record(session, now, SYSTEM, "project.note", project_id=first.id)
    session.commit()
    checkpoint_audit(session, now + timedelta(minutes=1))
    session.commit()
    session.execute(text(tamper))
    session.commit()
    broken = verify(session)
    assert (broken.chain, broken.seq, broken.problem) == (CHECKPOINT_CHAIN, 1, problem)
    result = _cli(app, "verify-audit")
    assert result.exit_code == 1 and "chain checkpoints:" in result.output


def test_a_removed_last_checkpoint_shows_against_the_printed_copy(app, session, now, chains):
    first, _, (e1, e2, e3), _ = chains
    printed = checkpoint_audit(session, now)
    session.commit()
    printed_id, anchor = printed.id, f"{printed.id}:{printed.hash}"
    assert _cli(app, "verify-audit", "--anchor", anchor).exit_code == 0
    # Delete the checkpoint and the end of a chain it anchored: internally consistent again ...
    session.execute(text("DELETE FROM audit_checkpoints"))
    session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": e3.id})
    session.commit()
    assert _cli(app, "verify-audit").exit_code == 0
    # ... but not against the id and hash the daily report printed.
    result = _cli(app, "verify-audit", "--anchor", anchor)
    assert result.exit_code == 1
    assert f"chain checkpoints: checkpoint {printed_id} printed in a report is missing" in result.output
    assert _cli(app, "verify-audit", "--anchor", "12:nothex").exit_code == 2


def test_checkpoint_audit_command_prints_id_and_hash(app, session, now, chains):
    result = _cli(app, "checkpoint-audit", "--now", now.isoformat())
    checkpoint = session.scalars(select(AuditCheckpoint)).one()
    assert result.exit_code == 0
    assert result.output.startswith(f"checkpoint {checkpoint.id}:{checkpoint.hash} (3 chains moved)")
    result = _cli(app, "checkpoint-audit", "--now", now.isoformat())
    assert result.output.strip() == f"no chain moved; latest checkpoint {checkpoint.id}:{checkpoint.hash}"
    assert session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 1


def test_the_scheduler_checkpoints_on_its_own_timer(app, session, now, chains, clock):
    from apscheduler.schedulers.background import BackgroundScheduler
    from workers.scheduler import _checkpoint, declare_jobs
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    declare_jobs(scheduler, app)
    job = scheduler.get_job("audit-checkpoint")
    assert job.trigger.interval == timedelta(minutes=app.config["AUDIT_CHECKPOINT_MINUTES"])
    clock.set(now)
    _checkpoint(app)
    session.expire_all()
    assert latest_checkpoint(session).seq == 1
