from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agency.dbtypes import UTCDateTime
from agency.extensions import db


class AuditEvent(db.Model):
    """An append-only, hash-chained record of one change (R12).

    Events of a project form one chain (``project:<id>``); the rest form the
    ``hall`` chain.  ``hash`` covers every field and the previous hash: an
    HMAC-SHA256 under the key ``key_id`` names (AUDIT_KEYS), or plain SHA-256
    for events written before keys (``key_id`` NULL).  PostgreSQL refuses
    UPDATE and DELETE on the table (a trigger of migration 0003).
    """

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("chain", "seq", name="uq_audit_events_chain_seq"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    chain: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(20))  # a role, or "system"
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    before: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # None is SQL NULL, also in batch INSERTs
    after: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(20))


class AuditCheckpoint(db.Model):
    """The heads of the chains that moved since the previous checkpoint, itself a chain (R12).

    ``heads`` maps a chain to ``{"seq", "length", "hash"}`` of its last event;
    ``upto`` is the largest event id seen, where the next checkpoint starts
    looking.  A chain's anchor is its entry in the latest checkpoint naming it,
    so deleting the end of a chain, or all of it, no longer verifies.
    """

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    upto: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    heads: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(20))
