from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from agency.dbtypes import UTCDateTime
from agency.extensions import db

RATING_LEVELS = {
    5: "very_satisfied", 4: "satisfied", 3: "basically_satisfied", 2: "dissatisfied", 1: "very_dissatisfied",
}


class Rating(db.Model):
    """满意度评价: of the whole project (task_id null) or of one department's task."""

    __tablename__ = "ratings"
    __table_args__ = (
        Index("uq_ratings_project_once", "project_id", unique=True,
              postgresql_where=text("task_id IS NULL"), sqlite_where=text("task_id IS NULL")),
        Index("uq_ratings_task_once", "task_id", unique=True,
              postgresql_where=text("task_id IS NOT NULL"), sqlite_where=text("task_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    project = relationship("Project")
    department = relationship("Department")
    task = relationship("Task")


class DissatisfactionNotice(db.Model):
    """不满意件函告, answered by a rectification reply (整改复函) before ``due``."""

    __tablename__ = "dissatisfaction_notices"
    __table_args__ = (
        Index("ix_notices_open_due", "due",
              postgresql_where=text("replied_at IS NULL AND red_carded_at IS NULL"),
              sqlite_where=text("replied_at IS NULL AND red_carded_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id"), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due: Mapped[datetime] = mapped_column(UTCDateTime)
    reply: Mapped[str] = mapped_column(Text, default="")
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    red_carded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    rating = relationship(Rating, backref=backref("notice", uselist=False))
    department = relationship("Department")
    project = relationship("Project")
    agent = relationship("User", foreign_keys=[agent_id])


class Complaint(db.Model):
    """投诉 by an enterprise on its project, handled by the director."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | assigned | answered
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    project = relationship("Project")
    enterprise = relationship("User", foreign_keys=[enterprise_id])
    assignee = relationship("User", foreign_keys=[assignee_id])
