"""The audit log (R12): append-only, one hash chain per project, keyed and anchored.

Each event's hash is an HMAC-SHA256 (``agency.audit.keys``) of its fields and
the previous hash; the chains' heads are anchored in checkpoints
(``agency.audit.checkpoints``).  ``verify`` detects an edited, inserted or
removed event, the end of a chain or a whole chain removed up to the last
checkpoint, and a checkpoint edited or removed from within its chain.  It
cannot see the removal of events written after the last checkpoint (the
checkpoint timer bounds that window), nor the removal of the last checkpoints
themselves unless given one printed in a daily report (``anchor``); and
whoever holds both a key and write access can rewrite everything.
"""
import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Row, Select, Update, bindparam, func, insert, select, text, true
from sqlalchemy.orm import Session

from agency.audit.keys import UnknownKey, keyring
from agency.audit.models import AuditEvent
from agency.transaction import remembered

GENESIS = "0" * 64
HALL_CHAIN = "hall"


@dataclass(frozen=True)
class Actor:
    """Who did it: a user, or the system (the sweep, a job)."""

    id: int | None
    role: str

    @classmethod
    def of(cls, user) -> "Actor":
        return cls(user.id, user.role)


SYSTEM = Actor(None, "system")


def chain_of(project_id: int | None) -> str:
    return f"project:{project_id}" if project_id is not None else HALL_CHAIN


def canonical(payload: dict) -> bytes:
    """The bytes a hash covers: sorted keys, no spaces, UTF-8."""
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def _digest(event: AuditEvent) -> str:
    """The event's hash under its key (plain SHA-256 for an event of before keys); UnknownKey if not held."""
    payload = {
        "chain": event.chain, "seq": event.seq, "project_id": event.project_id,
        "at": event.at.astimezone(timezone.utc).isoformat(),  # as stored: any offset reads back as UTC
        "actor_id": event.actor_id, "actor_role": event.actor_role,
        "action": event.action, "object_type": event.object_type, "object_id": event.object_id,
        "before": event.before, "after": event.after, "detail": event.detail,
        "prev_hash": event.prev_hash,
    }
    if event.key_id is not None:  # absent from the payload of events written before keys
        payload["key_id"] = event.key_id
    return keyring().digest(event.key_id, canonical(payload))


def record(session: Session, now: datetime, actor: Actor, action: str, obj=None, *,
           project_id: int | None = None, before: dict | None = None, after: dict | None = None,
           detail: str = "") -> AuditEvent:
    """Append one event to its chain, in the caller's transaction: written at once, one Core INSERT.

    Not through the unit of work (every task transition records an event; its flush cost more than
    the INSERT, bench_workflow).  What the session holds unwritten is flushed first, so the event
    follows the rows it names, as it did when the event was flushed with them.
    """
    event = next_event(session, now, actor, action, obj, project_id=project_id, before=before, after=after,
                       detail=detail)
    together = session.info.get(_TOGETHER)
    if together is not None:  # written at the end of the block (record_together); its id is known then
        together.append(event)
        return event
    _flush_pending(session)
    event.id = session.connection().execute(_INSERT, _row(event)).scalar_one()  # not in the session: its columns stay as written
    return event


@contextmanager
def record_together(session: Session) -> Iterator[None]:
    """The events ``record``ed inside the block are written at its end, all by one INSERT: a step that records
    several (an entrustment and its contact card, a stage closing and what follows it) pays one round trip.

    An event's ``id`` is set when it is written.  A block inside another writes with the outer one.  An
    exception out of the block leaves its events unwritten and their chains' heads as they were.
    """
    if _TOGETHER in session.info:
        yield
        return
    together = session.info[_TOGETHER] = []
    try:
        yield
    except BaseException:
        heads = remembered(session, _HEADS)
        for event in reversed(together):  # back to the head before the block's first unwritten event
            heads[event.chain] = (event.seq - 1, event.prev_hash)
        raise
    finally:
        session.info.pop(_TOGETHER, None)
    _write_together(session, together)


def _write_together(session: Session, events: list[AuditEvent]) -> None:
    """The events of ``record_together`` so far, in one INSERT ... RETURNING their ids (in their order)."""
    if not events:
        return
    _flush_pending(session)
    rows = session.connection().execute(_INSERT_MANY, [_row(e) for e in events]).scalars().all()
    for event, event_id in zip(events, rows):
        event.id = event_id
    events.clear()


def _written_so_far(session: Session) -> None:
    """Before an event is written by other means (``record_change``, ``write_events``): those of an enclosing
    ``record_together`` first, so that a chain is written in its order."""
    together = session.info.get(_TOGETHER)
    if together:
        _write_together(session, together)


def record_change(session: Session, change: Update, parameters: dict, now: datetime, actor: Actor, action: str,
                  obj=None, *, head: tuple[int, str] | None = None, following: tuple = (), **event) -> Row | None:
    """A conditional change and, only if it was made, its event (``record``'s arguments): the row the
    change returned when it was made, else None.

    ``change`` is an UPDATE ... RETURNING built once, its values given as ``parameters``; it was made when
    it returned a row.  On PostgreSQL the change and the event are one statement (a data-modifying WITH,
    ``_recorded_after``): every answer, acceptance and signature saves a round trip.  A change not made
    (a race lost) writes no event and leaves the chain's head where it was.  Elsewhere (SQLite): the
    change, then ``record``.

    ``head`` (PostgreSQL): the chain's head as read before the project's lock was held
    (``agency.projects.locks.seen_by_fetch``).  The event follows it, and the change is made only if it
    is still the head when the statement runs (its snapshot is taken under the lock): a head overtaken
    meanwhile makes nothing, as a race lost does, and the chain's head is then unknown to this
    transaction (the caller reads it again with ``knew_head``).

    ``following``: more writes made only with the change, each a function of the change's CTE (or of None)
    building an INSERT or UPDATE with its values among ``parameters``: on PostgreSQL part of the same
    statement, reading from the CTE so that it writes nothing if the change was not made; elsewhere each
    built with None and sent after the change, if it was made.  (An UPDATE takes every parameter named as
    a column of its table as a value to SET: the names of ``parameters`` must not be its columns'.)
    """
    if session.get_bind().dialect.name != "postgresql":
        if head is not None:
            raise ValueError("a head seen before the lock is checked by PostgreSQL's statement only")
        row = session.connection().execute(change, parameters).first()
        if row is not None:
            record(session, now, actor, action, obj, **event)
            for build in following:
                session.connection().execute(build(None), parameters)
        return row
    _written_so_far(session)
    heads = remembered(session, _HEADS)
    chain = chain_of(_project_of(obj, event.get("project_id")))
    if chain in heads:  # this transaction read it under the lock or wrote it: current
        head = None
    if head is not None:
        heads[chain] = head
        change, parameters = _still_headed(change), parameters | {"head_chain": chain, "head_seq": head[0]}
    new = next_event(session, now, actor, action, obj, **event)
    _flush_pending(session)
    row = session.connection().execute(_recorded_after(change, following),
                                       parameters | {f"event_{name}": value for name, value in _row(new).items()}).first()
    if row is None:  # the change was not made: nothing recorded
        if head is None:
            heads[new.chain] = (new.seq - 1, new.prev_hash)  # the head stays
        else:
            heads.pop(new.chain)  # perhaps overtaken: read again under the lock
        return None
    new.id = row.event_id
    return row


@functools.cache
def _still_headed(change: Update) -> Update:
    """``change``, made only if the chain ``head_chain``'s last event is still ``head_seq``."""
    events = AuditEvent.__table__
    last = select(func.max(events.c.seq)).where(events.c.chain == bindparam("head_chain")).scalar_subquery()
    return change.where(last == bindparam("head_seq"))


@functools.cache
def _recorded_after(change: Update, following: tuple = ()) -> Select:
    """``change`` as a CTE, then the INSERT of one event (its columns as parameters ``event_<column>``)
    that writes it only if ``change`` returned a row, and the ``following`` writes; the statement returns
    ``change``'s row and the event's id (``event_id``).  (PostgreSQL runs every data-modifying WITH once,
    read by the final SELECT or not.)"""
    changed = change.cte("changed")
    events = AuditEvent.__table__
    values = select(*(bindparam(f"event_{name}", type_=events.c[name].type) for name in _COLUMNS)).select_from(changed)
    recorded = insert(events).from_select(_COLUMNS, values).returning(events.c.id).cte("recorded")
    statement = (select(recorded.c.id.label("event_id"), changed).select_from(recorded.join(changed, true()))
                 .add_cte(changed).add_cte(recorded))
    for n, build in enumerate(following):
        statement = statement.add_cte(build(changed).cte(f"following_{n}"))
    return statement


def _project_of(obj, project_id: int | None) -> int | None:
    """The project whose chain an event of ``obj`` goes to (``next_event``)."""
    if project_id is None and obj is not None:
        project_id = getattr(obj, "project_id", None)
        if project_id is None and obj.__class__.__name__ == "Project":
            project_id = obj.id
    return project_id


def next_event(session: Session, now: datetime, actor: Actor, action: str, obj=None, *,
               project_id: int | None = None, before: dict | None = None, after: dict | None = None,
               detail: str = "") -> AuditEvent:
    """The next event of its chain, hashed and counted as the chain's head, but not added to the session.

    ``record`` adds it; a batch (the sweep) builds many and writes them with ``write_events``.
    """
    project_id = _project_of(obj, project_id)
    chain = chain_of(project_id)
    seq, prev_hash = _head(session, chain)
    event = AuditEvent(
        chain=chain, seq=seq + 1, project_id=project_id, at=now,
        actor_id=actor.id, actor_role=actor.role, action=action,
        object_type=obj.__class__.__name__.lower() if obj is not None else "",
        object_id=getattr(obj, "id", None), before=_plain(before), after=_plain(after),
        detail=detail, prev_hash=prev_hash, key_id=keyring().current,
    )
    event.hash = _digest(event)
    remembered(session, _HEADS)[chain] = (event.seq, event.hash)
    return event


_COLUMNS = [c.key for c in AuditEvent.__table__.columns if c.key != "id"]
_INSERT = insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id)  # Core: no ORM execution around it
_INSERT_MANY = insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id, sort_by_parameter_order=True)
_TOGETHER = "agency_audit_together"


def _flush_pending(session: Session) -> None:
    """What the session holds unwritten, written before an event: the event follows the rows it names."""
    if session.new or session.dirty or session.deleted:
        session.flush()


def _row(event: AuditEvent) -> dict:
    return {name: getattr(event, name) for name in _COLUMNS}


def write_events(session: Session, events: list[AuditEvent]) -> None:
    """Write events made by ``next_event`` as rows, in one multi-row INSERT (no ids come back)."""
    _written_so_far(session)
    if events:
        session.execute(insert(AuditEvent).execution_options(render_nulls=True), [_row(e) for e in events])


_HEADS = "agency_audit_heads"


def head_columns(project_id=None):
    """A chain's head (seq, hash) as two scalar subqueries (NULL for an empty chain): of the chain given
    as the parameter ``chain`` (``chain_of``), or of the project whose id is the SQL ``project_id``.

    For the statement that reads the project's rows once its lock is held (``agency.projects.locks``):
    the chain is written under that lock, so a head read after it cannot be overtaken, and the first
    event of the transaction needs no statement of its own (``knew_head``).  Read before the lock (a
    request's fetch, ``agency.people.access``), it is what ``record_change``'s ``head`` checks.
    """
    events = AuditEvent.__table__
    chain = bindparam("chain") if project_id is None else func.concat("project:", project_id)  # chain_of in SQL
    last = (select(events.c.seq).where(events.c.chain == chain)
            .order_by(events.c.seq.desc()).limit(1))
    return last.scalar_subquery(), last.with_only_columns(events.c.hash).scalar_subquery()


def knew_head(session: Session, project_id: int, seq: int | None, hash_: str | None) -> None:
    """The head of the project's chain as read under the project's lock (``head_columns``)."""
    remembered(session, _HEADS).setdefault(chain_of(project_id), (seq, hash_) if seq is not None else (0, GENESIS))


def _head(session: Session, chain: str) -> tuple[int, str]:
    """The chain's last (seq, hash), locked for this transaction and remembered until it ends."""
    heads = remembered(session, _HEADS)
    if chain not in heads:
        lock_chains(session, [chain])
    return heads[chain]


def lock_chains(session: Session, chains) -> None:
    """Lock chains and read their heads for this transaction: two statements for any number of chains.

    Used by batches (the sweep) before recording many events; ``record`` does it for one chain.
    """
    heads = remembered(session, _HEADS)
    wanted = sorted(set(chains) - heads.keys())
    if not wanted:
        return
    if session.get_bind().dialect.name == "postgresql":  # SQLite serialises writers anyway
        _lock_writers(session, wanted)
    events = AuditEvent.__table__  # Core: no ORM execution around the read every event pays
    last = (select(events.c.chain, func.max(events.c.seq).label("seq"))
            .where(events.c.chain.in_(wanted)).group_by(events.c.chain).subquery())
    rows = session.connection().execute(select(events.c.chain, events.c.seq, events.c.hash)
                           .join(last, (events.c.chain == last.c.chain) & (events.c.seq == last.c.seq)))
    heads.update({chain: (0, GENESIS) for chain in wanted})
    heads.update({row.chain: (row.seq, row.hash) for row in rows})


def _lock_writers(session: Session, chains: list[str]) -> None:
    """Take the lock every writer of these chains takes (PostgreSQL): no statement for a locked project.

    A project's chain is written under its project's row lock: a project this transaction locked
    already (``lock_projects``, as every task transition and the sweep do) costs nothing more; any
    other is locked ``FOR NO KEY UPDATE`` (which conflicts with ``lock_projects``' FOR UPDATE and
    with itself, not with the key-share locks of rows that merely refer to the project).  The hall
    chain has no row: an advisory lock.  Either way the head is read by the next statement, whose
    snapshot is taken after the lock is held.
    """
    from agency.projects.locks import locked_project_ids
    held = locked_project_ids(session)
    projects = sorted(int(c.removeprefix("project:")) for c in chains if c != HALL_CHAIN)
    projects = [p for p in projects if p not in held]
    if projects:
        session.execute(text("SELECT id FROM projects WHERE id = ANY(:ids) ORDER BY id FOR NO KEY UPDATE"),
                        {"ids": projects})
    if HALL_CHAIN in chains:
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:chain))"), {"chain": HALL_CHAIN})


def _plain(value: dict | None) -> dict | None:
    """JSON-safe copy (datetimes and decimals as strings) so the hash is stable."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


@dataclass(frozen=True)
class Break:
    chain: str
    seq: int
    event_id: int | None
    problem: str
    what: str = "event"  # or "checkpoint"

    def __str__(self) -> str:
        where = f"{self.what} {self.event_id}" if self.event_id else f"position {self.seq}"
        seq = f" (seq {self.seq})" if self.seq else ""
        return f"chain {self.chain}: {where}{seq} {self.problem}"


def verify(session: Session, project_id: int | None = None, anchor: tuple[int, str] | None = None) -> Break | None:
    """The first broken checkpoint or event, or None when every chain holds.

    The checkpoint chain first, then each chain (one, with ``project_id``)
    against its latest anchor: a chain shorter than anchored, or gone, is
    broken.  Events of before keys (key id NULL) verify with plain SHA-256 but
    only ahead of a chain's keyed events and within its anchored part, so a
    forger cannot fall back to SHA-256.  Not detected: events written after
    the last checkpoint removed from a chain's end, and, without ``anchor`` (a
    checkpoint's id and hash printed in a daily report), the last checkpoints
    removed.
    """
    from agency.audit.checkpoints import verify_checkpoints
    anchors, checkpointed, broken = verify_checkpoints(session, anchor)
    if broken:
        return broken
    if project_id is not None:
        chains = [chain_of(project_id)]
    else:
        chains = sorted(set(session.scalars(select(AuditEvent.chain).distinct())) | anchors.keys())
    for chain in chains:
        broken = _verify_chain(session, chain, anchors.get(chain), checkpointed)
        if broken:
            return broken
    return None


def _verify_chain(session: Session, chain: str, anchor, checkpointed: bool) -> Break | None:
    # Unkeyed (older) events are legitimate only before the first checkpoint, which anchors them all.
    unkeyed_until = anchor.seq if anchor else (0 if checkpointed else None)
    prev, expected_seq, keyed = GENESIS, 1, False
    for row in session.scalars(select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)):
        if row.seq != expected_seq:
            return Break(chain, expected_seq, None, "is missing (deleted event)")
        if row.prev_hash != prev:
            return Break(chain, row.seq, row.id, "does not follow the previous event")
        try:
            digest = _digest(row)
        except UnknownKey as error:
            return Break(chain, row.seq, row.id, f"is signed with an unknown key id {error.args[0]!r}")
        if digest != row.hash:
            return Break(chain, row.seq, row.id, "was edited (hash mismatch)")
        if row.key_id is None and (keyed or (unkeyed_until is not None and row.seq > unkeyed_until)):
            return Break(chain, row.seq, row.id, "is not keyed, yet written after keyed events or checkpoints")
        if anchor and row.seq == anchor.seq and row.hash != anchor.hash:
            return Break(chain, row.seq, row.id, f"is not the event checkpoint {anchor.checkpoint_id} anchored")
        keyed = keyed or row.key_id is not None
        prev, expected_seq = row.hash, expected_seq + 1
    length = expected_seq - 1
    if anchor and length < anchor.seq:
        lost = "the whole chain was deleted" if length == 0 else "its last events were deleted"
        return Break(chain, length + 1, None,
                     f"is missing: checkpoint {anchor.checkpoint_id} anchored {anchor.seq} events ({lost})")
    return None
