"""Keyed audit hashes (HMAC-SHA256, AUDIT_KEYS): a writer of the table without the key cannot rehash a chain."""
import base64
import hashlib
import hmac

import pytest
from sqlalchemy import select, text

from agency.audit.checkpoints import checkpoint_audit
from agency.audit.keys import parse_keys
from agency.audit.models import AuditEvent
from agency.audit.services import SYSTEM, _digest, canonical, record, verify

NEW_SECRET = base64.b64encode(b"the-next-audit-key-32-bytes-long").decode()
TEST_SECRET = b"test-audit-key-fixed-32-bytes!!!"


def _payload(event) -> dict:
    return {
        "chain": event.chain, "seq": event.seq, "project_id": event.project_id, "at": event.at.isoformat(),
        "actor_id": event.actor_id, "actor_role": event.actor_role, "action": event.action,
        "object_type": event.object_type, "object_id": event.object_id, "before": event.before,
        "after": event.after, "detail": event.detail, "prev_hash": event.prev_hash,
    }


def test_events_are_hmac_sha256_under_the_current_key(session, now):
    event = record(session, now, SYSTEM, "hall.opened", detail="开门")
    session.commit()
    payload = _payload(event)
    assert event.key_id == "test1"
    assert event.hash == hmac.new(TEST_SECRET, canonical({**payload, "key_id": "test1"}), hashlib.sha256).hexdigest()
    assert event.hash != hashlib.sha256(canonical(payload)).hexdigest()


def _rewrite_as_unkeyed(session, event, **changes):
    """What a forger without the key can do: change fields, drop the key id, plain SHA-256."""
    for name, value in changes.items():
        setattr(event, name, value)
    event.key_id = None
    row = {"d": event.detail, "h": _digest(event), "id": event.id}
    session.rollback()
    session.execute(text("UPDATE audit_events SET detail = :d, key_id = NULL, hash = :h WHERE id = :id"), row)
    session.commit()


def test_a_forger_without_the_key_cannot_fall_back_to_plain_sha256(session, chains):
    first, _, (e1, e2, e3), _ = chains
    _rewrite_as_unkeyed(session, e3, detail="forged")  # the last event: no next link to break
    broken = verify(session)
    assert (broken.chain, broken.event_id) == (f"project:{first.id}", e3.id)
    assert "not keyed" in broken.problem


def test_events_written_before_keys_still_verify(session, now, chains):
    """An existing database: every event unkeyed, plain SHA-256; then keyed events follow."""
    first, *_ = chains
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.chain, AuditEvent.seq)).all():
        prev = session.scalar(select(AuditEvent.hash).where(AuditEvent.chain == event.chain,
                                                            AuditEvent.seq == event.seq - 1))
        event.prev_hash = prev or event.prev_hash
        event.key_id = None
        event.hash = _digest(event)
        session.flush()
    session.commit()
    assert session.scalar(select(AuditEvent.key_id).where(AuditEvent.key_id.is_not(None))) is None
    assert verify(session) is None
    checkpoint_audit(session, now)
    newer = record(session, now, SYSTEM, "project.note", project_id=first.id)
    session.commit()
    assert newer.key_id == "test1"
    assert verify(session) is None
    # and after the first checkpoint an unkeyed event at a chain's end is a forgery
    _rewrite_as_unkeyed(session, newer, detail="forged")
    assert verify(session).event_id == newer.id


def test_rotation_keeps_old_events_verifying_and_names_an_unknown_key(app, session, now, chains):
    first, _, (e1, *_), _ = chains
    app.extensions["audit_keys"] = parse_keys(f"next2:{NEW_SECRET}, test1:{base64.b64encode(TEST_SECRET).decode()}")
    rotated = record(session, now, SYSTEM, "project.note", project_id=first.id)
    checkpoint = checkpoint_audit(session, now)
    session.commit()
    assert (rotated.key_id, checkpoint.key_id) == ("next2", "next2")
    assert verify(session) is None
    app.extensions["audit_keys"] = parse_keys(f"next2:{NEW_SECRET}")  # the old key dropped too early
    broken = verify(session)
    assert broken.problem == "is signed with an unknown key id 'test1'"
    result = app.test_cli_runner().invoke(args=["agency", "verify-audit"])
    assert result.exit_code == 1 and "unknown key id 'test1'" in result.output


@pytest.mark.parametrize("value, message", [
    ("", "empty"),
    ("nocolon", "expected id:base64secret"),
    ("k1:not base64!", "not base64"),
    (f"k1:{base64.b64encode(b'short').decode()}", "at least 16 bytes"),
    (f"k1:{NEW_SECRET},k1:{NEW_SECRET}", "twice"),
])
def test_malformed_audit_keys_are_refused_with_a_clear_message(value, message):
    with pytest.raises(ValueError, match=message):
        parse_keys(value)


def test_the_first_key_signs():
    ring = parse_keys(f"b:{NEW_SECRET},a:{base64.b64encode(TEST_SECRET).decode()}")
    assert ring.current == "b" and set(ring.secrets) == {"a", "b"}
