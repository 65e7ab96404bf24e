"""Checkpoints: the chains' heads anchored outside the chains (R12).

Deleting the last events of a chain, or a whole chain, leaves a chain that
links up; a checkpoint records each moved chain's head (seq, hash) and length,
and checkpoints are themselves a keyed chain, so ``verify`` compares every
chain with its latest anchor.  What is written after the last checkpoint is
not anchored yet: the checkpoint timer (AUDIT_CHECKPOINT_MINUTES) bounds that
window.  The daily report prints the checkpoint's id and hash, so removing the
last checkpoints shows against the printed copy (``verify(..., anchor=)``).
"""
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from agency.audit.keys import UnknownKey, keyring
from agency.audit.models import AuditCheckpoint, AuditEvent
from agency.audit.services import GENESIS, Break, canonical

CHECKPOINT_CHAIN = "checkpoints"
LOCK_TIMEOUT = "500ms"  # below PostgreSQL's deadlock_timeout (1 s): the checkpoint, not a writer, yields


@dataclass(frozen=True)
class Anchor:
    """A chain's head as the latest checkpoint naming it recorded."""

    checkpoint_id: int
    seq: int
    length: int
    hash: str


def checkpoint_digest(checkpoint: AuditCheckpoint) -> str:
    payload = {
        "seq": checkpoint.seq, "at": checkpoint.at.astimezone(timezone.utc).isoformat(), "upto": checkpoint.upto,
        "heads": checkpoint.heads, "prev_hash": checkpoint.prev_hash, "key_id": checkpoint.key_id,
    }
    return keyring().digest(checkpoint.key_id, canonical(payload))


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)).first()


def checkpoint_audit(session: Session, now: datetime) -> AuditCheckpoint | None:
    """Anchor the head of every chain that moved since the last checkpoint; None when none moved.

    Cheap: the chains moved are those with an event id above the previous
    checkpoint's ``upto`` (a walk of the primary key), and only they are read.
    Commit at once: on PostgreSQL the first statement locks audit_events in
    SHARE ROW EXCLUSIVE mode until the transaction ends, which waits for every
    writer in flight (ids come from a sequence and commit out of order, so an
    id below ``upto`` committed later would be skipped) and keeps checkpoints
    one at a time.  Writers of events wait meanwhile; the lock is given up
    after LOCK_TIMEOUT (an OperationalError: the next run tries again).
    """
    if session.get_bind().dialect.name == "postgresql":  # SQLite: writers are serialised and ids increase
        session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        session.execute(text("LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE"))
        session.execute(text("SET LOCAL lock_timeout TO DEFAULT"))
    previous = latest_checkpoint(session)
    moved = select(AuditEvent.chain).where(AuditEvent.id > (previous.upto if previous else 0)).distinct()
    last = (select(AuditEvent.chain, func.max(AuditEvent.seq).label("seq"), func.count().label("length"),
                   func.max(AuditEvent.id).label("upto"))
            .where(AuditEvent.chain.in_(moved)).group_by(AuditEvent.chain).subquery())
    rows = session.execute(select(AuditEvent.chain, AuditEvent.seq, AuditEvent.hash, last.c.length, last.c.upto)
                           .join(last, (AuditEvent.chain == last.c.chain) & (AuditEvent.seq == last.c.seq))).all()
    if not rows:
        return None
    checkpoint = AuditCheckpoint(
        seq=previous.seq + 1 if previous else 1, at=now, upto=max(row.upto for row in rows),
        heads={row.chain: {"seq": row.seq, "length": row.length, "hash": row.hash} for row in rows},
        prev_hash=previous.hash if previous else GENESIS, key_id=keyring().current,
    )
    checkpoint.hash = checkpoint_digest(checkpoint)
    session.add(checkpoint)
    session.flush()
    return checkpoint


def verify_checkpoints(session: Session, anchor: tuple[int, str] | None = None) \
        -> tuple[dict[str, Anchor], bool, Break | None]:
    """Walk the checkpoint chain: (each chain's latest anchor, whether any checkpoint exists, the first break).

    ``anchor`` is a checkpoint (id, hash) printed elsewhere (a daily report):
    it must still be there, unchanged.
    """
    anchors: dict[str, Anchor] = {}
    prev, expected, printed_found = GENESIS, 1, False
    for row in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)):
        if row.seq != expected:
            return anchors, True, _break(expected, None, "is missing (deleted checkpoint)")
        if row.prev_hash != prev:
            return anchors, True, _break(row.seq, row.id, "does not follow the previous checkpoint")
        try:
            digest = checkpoint_digest(row)
        except UnknownKey as error:
            return anchors, True, _break(row.seq, row.id, f"is signed with an unknown key id {error.args[0]!r}")
        if digest != row.hash:
            return anchors, True, _break(row.seq, row.id, "was edited (hash mismatch)")
        if anchor is not None and row.id == anchor[0]:
            if row.hash != anchor[1]:
                return anchors, True, _break(row.seq, row.id, f"differs from the copy printed ({anchor[1]})")
            printed_found = True
        for chain, head in row.heads.items():
            anchors[chain] = Anchor(row.id, head["seq"], head["length"], head["hash"])
        prev, expected = row.hash, expected + 1
    if anchor is not None and not printed_found:
        return anchors, expected > 1, _break(0, anchor[0], "printed in a report is missing (deleted checkpoint)")
    return anchors, expected > 1, None


def _break(seq: int, checkpoint_id: int | None, problem: str) -> Break:
    return Break(CHECKPOINT_CHAIN, seq, checkpoint_id, problem, what="checkpoint")
