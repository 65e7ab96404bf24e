from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from agency.dbtypes import UTCDateTime
from agency.extensions import db


class OutboxJob(db.Model):
    """A job written in the same transaction as the change that causes it.

    The outbox relay (``workers.relay``) puts it on RQ once committed and marks
    ``enqueued_at``; ``reconcile`` puts back any row that never ran.  ``key``
    makes writing the same job twice a no-op.
    """

    __tablename__ = "outbox_jobs"
    __table_args__ = (
        Index("ix_outbox_jobs_unfinished", "created_at",
              postgresql_where=text("status <> 'done'"), sqlite_where=text("status <> 'done'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    queue: Mapped[str] = mapped_column(String(60))
    func: Mapped[str] = mapped_column(String(100))
    args: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | enqueued | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # taken by the relay; empty: not yet
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def rq_job_id(self) -> str:
        return f"outbox-{self.id}"
