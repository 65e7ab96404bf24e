from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, cast, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.dbtypes import UTCDateTime
from agency.extensions import db

TASK_STATUSES = ("pending", "accepted", "supplement", "answered", "deemed_consent", "cancelled")
OPEN_STATUSES = ("pending", "accepted", "supplement")
RUNNING_STATUSES = ("pending", "accepted")  # the clock runs
DECISIONS = ("consent", "consent_with_conditions", "refuse")
CONSENTING = ("consent", "consent_with_conditions")

_RUNNING = "status IN ('pending', 'accepted')"
_TICKING = _RUNNING + " AND suspended_days_left IS NULL"  # running, and its project not suspended
_OPEN = "status IN ('pending', 'accepted', 'supplement')"
_CLOSED = "status IN ('answered', 'deemed_consent')"
# Literal predicates, so PostgreSQL can prove a query matches a partial index.
RUNNING_CLAUSE = text("tasks." + _RUNNING)
OPEN_CLAUSE = text("tasks." + _OPEN)
ROW_VERSION = cast(literal_column("tasks.xmin"), Text)
"""A task row's version (PostgreSQL: its ``xmin``, new with every change of the row), as text."""


class Task(db.Model):
    """One approval item of a project, answered by one department (办件)."""

    __tablename__ = "tasks"
    __table_args__ = (
        # GET /tasks pages on (deadline, id) (keyset), so each page is one range of one of these:
        # the liaison inbox, open tasks of one department;
        Index("ix_tasks_open_by_department", "department_id", "deadline", "id",
              postgresql_where=text(_OPEN), sqlite_where=text(_OPEN)),
        # a liaison's list of every status (the department's whole history);
        Index("ix_tasks_by_department", "department_id", "deadline", "id"),
        # open tasks of every department (a director's; an agent's, filtered by project).  No index
        # on (deadline, id) over all tasks: PostgreSQL then walks it for an agent or enterprise,
        # filtering the whole history by project (0.1-1 s on the bench), instead of sorting their
        # few thousand tasks; a director's list of every status sorts instead (~120 ms a page).
        Index("ix_tasks_open_by_deadline", "deadline", "id",
              postgresql_where=text(_OPEN), sqlite_where=text(_OPEN)),
        # The sweep: running tasks by deadline, and those still to be warned.
        # A suspended project's tasks (suspended_days_left set) are in neither: nothing is due.
        Index("ix_tasks_due", "deadline",
              postgresql_where=text(_TICKING + " AND escalated_at IS NULL"),
              sqlite_where=text(_TICKING + " AND escalated_at IS NULL")),
        Index("ix_tasks_warn", "warn_at",
              postgresql_where=text(_TICKING + " AND warned_at IS NULL"),
              sqlite_where=text(_TICKING + " AND warned_at IS NULL")),
        # The figures (agency.supervision.figures): closed tasks by the instant they closed.
        Index("ix_tasks_closed_answered_at", "answered_at",
              postgresql_where=text(_CLOSED), sqlite_where=text(_CLOSED)),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("approval_items.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    outcome: Mapped[str | None] = mapped_column(String(30))
    outcome_reason: Mapped[str | None] = mapped_column(String(20))  # timeout | absence when deemed
    opinion: Mapped[str] = mapped_column(Text, default="")
    promised_days: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    supplement_count: Mapped[int] = mapped_column(Integer, default=0)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while the project is suspended (R2): the working days the clock had left; NULL while it runs.
    suspended_days_left: Mapped[int | None] = mapped_column(Integer)
    # A resubmission after a refusal names the refused task it supersedes; once only (R2).
    supersedes_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("tasks.id"), unique=True)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    project = relationship("Project", back_populates="tasks")
    stage = relationship("Stage", back_populates="tasks")
    department = relationship("Department")
    item = relationship("ApprovalItem")
    supplements = relationship("SupplementRequest", back_populates="task", order_by="SupplementRequest.id")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_refused(self) -> bool:
        return self.status == "answered" and self.outcome == "refuse"

    @property
    def is_suspended(self) -> bool:
        """Its clock stopped with its project's suspension (status unchanged: pending or accepted)."""
        return self.suspended_days_left is not None

    @property
    def is_consent(self) -> bool:
        return self.status == "deemed_consent" or (self.status == "answered" and self.outcome in CONSENTING)

    def working_days_left(self, calendar, now: datetime, tz) -> int | None:
        """Working days to the deadline while the clock runs; None when stopped (supplement,
        suspension) or closed."""
        if self.status not in RUNNING_STATUSES or self.suspended_days_left is not None:
            return None
        return calendar.working_days_left(now, self.deadline, tz)


class SupplementRequest(db.Model):
    """A one-time notice (一次性告知): every missing material, at once."""

    __tablename__ = "supplement_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    materials: Mapped[list] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    supplied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    task = relationship(Task, back_populates="supplements")
    files = relationship("MaterialFile", back_populates="supplement_request", order_by="MaterialFile.id")


class MaterialFile(db.Model):
    """An uploaded material, stored outside the web root with its checksum."""

    __tablename__ = "material_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), index=True)  # a supplement's file
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)  # a checklist's file
    supplement_request_id: Mapped[int | None] = mapped_column(ForeignKey("supplement_requests.id"))
    material: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    task = relationship(Task)
    supplement_request = relationship(SupplementRequest, back_populates="files")
