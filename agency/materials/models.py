"""The material checklist of a project (R14) and the materials its tasks owe (R15)."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.dbtypes import UTCDateTime
from agency.extensions import db

# Statuses a stored entry can hold; ``missing``, ``awaiting_result`` and ``deferred`` are read off the
# project (no file, a result still to come, a task owing it), never stored.
ENTRY_STATUSES = ("uploaded", "accepted", "returned", "from_result")
CHECKLIST_STATUSES = ("missing", "awaiting_result", "uploaded", "accepted", "returned", "deferred", "from_result")


class ProjectMaterial(db.Model):
    """One entry of a project's checklist: one per distinct material name, filed once (不得重复提交)."""

    __tablename__ = "project_materials"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_project_materials_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("material_files.id"))  # the current file
    from_task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))  # the task whose result fills it
    reason: Mapped[str] = mapped_column(Text, default="")  # why the pre-review returned it
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    file = relationship("MaterialFile")


class Deferral(db.Model):
    """容缺受理: a task dispatched while a material is still owed, promised by ``until`` (R15).

    ``awaiting_task_id`` names the task of the same stage whose result will supply it (the
    material was deferred by itself).  Supplied or not, it never stops the task's clock; while
    it is owed the task's result is not released to the enterprise.
    """

    __tablename__ = "deferrals"
    __table_args__ = (
        UniqueConstraint("task_id", "name", name="uq_deferrals_task_name"),
        Index("ix_deferrals_owed", "until", postgresql_where=text("supplied_at IS NULL AND warned_at IS NULL"),
              sqlite_where=text("supplied_at IS NULL AND warned_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    name: Mapped[str] = mapped_column(String(200))
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    awaiting_task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    supplied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    task = relationship("Task", foreign_keys=[task_id], backref="deferrals")
