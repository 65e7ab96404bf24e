from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.dbtypes import UTCDateTime
from agency.extensions import db


class TaskComment(db.Model):
    """One comment on a task: visible to the enterprise, or internal to the hall and the departments.

    An attachment (optional, one per comment) is checked and stored as materials are
    (agency.enterprise.uploads); its columns are null when there is none.
    """

    __tablename__ = "task_comments"
    __table_args__ = (Index("ix_task_comments_task", "task_id", "id"),
                      Index("ix_task_comments_project", "project_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), ForeignKey("tasks.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    internal: Mapped[bool] = mapped_column(Boolean, default=True)
    body: Mapped[str] = mapped_column(Text)
    mentions: Mapped[str] = mapped_column(String(1000), default="")  # usernames told, space-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    filename: Mapped[str | None] = mapped_column(String(255))
    storage_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))

    task = relationship("Task")
    author = relationship("User")

    @property
    def has_attachment(self) -> bool:
        return self.storage_key is not None

    @property
    def mentioned(self) -> list[str]:
        return self.mentions.split() if self.mentions else []
