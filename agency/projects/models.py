from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.dbtypes import UTCDateTime
from agency.extensions import db

PROJECT_STATUSES = ("consulting", "entrusted", "in_progress", "completed", "terminated")
STAGE_STATUSES = ("waiting", "open", "closed", "halted", "cancelled")


class Project(db.Model):
    """An enterprise's investment project entrusted to the hall (委托代办)."""

    __tablename__ = "projects"
    __table_args__ = (
        # GET /projects?q=: a name containing the words (PostgreSQL: pg_trgm; elsewhere a plain index).
        Index("ix_projects_name_trgm", "name", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    project_type_id: Mapped[int] = mapped_column(ForeignKey("project_types.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    first_contact_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # agents see these
    location: Mapped[str] = mapped_column(String(200), default="")
    investment_wan: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0)
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    tracking_code: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="entrusted", index=True)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    halted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a refusal stopped progress
    agreement_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # signed (R2)
    agreement_method: Mapped[str] = mapped_column(String(10), default="")  # online | paper
    project_code: Mapped[str | None] = mapped_column(String(30), index=True)  # 项目代码 (R17)
    delivery_method: Mapped[str] = mapped_column(String(10), default="download")  # download | post | pickup (R16)
    delivery_address: Mapped[str] = mapped_column(Text, default="")
    entrusted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    termination_reason: Mapped[str] = mapped_column(Text, default="")
    termination_cause: Mapped[str | None] = mapped_column(String(20))  # withdrawn | refused (R2)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    project_type = relationship("ProjectType")
    enterprise = relationship("User", foreign_keys=[enterprise_id])
    agent = relationship("User", foreign_keys=[agent_id])
    first_contact_agent = relationship("User", foreign_keys=[first_contact_agent_id])
    stages = relationship("Stage", back_populates="project", order_by="Stage.order")
    tasks = relationship("Task", back_populates="project", order_by="Task.id")

    @property
    def is_open(self) -> bool:
        return self.status not in ("completed", "terminated")

    @property
    def awaits_decision(self) -> bool:
        """A refusal stopped it: the agent ends it or resubmits the refused item (R2)."""
        return self.is_open and self.halted_at is not None

    @property
    def refusals_undecided(self) -> list:
        """Refused tasks not yet superseded by a resubmission."""
        superseded = {t.supersedes_id for t in self.tasks if t.supersedes_id is not None}
        return [t for t in self.tasks if t.is_refused and t.id not in superseded]


class Stage(db.Model):
    """One stage of a project; its tasks run in parallel (并联审批)."""

    __tablename__ = "stages"
    __table_args__ = (UniqueConstraint("project_id", "order", name="uq_stages_project_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    order: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    project = relationship(Project, back_populates="stages")
    tasks = relationship("Task", back_populates="stage", order_by="Task.id")

    @property
    def is_done(self) -> bool:
        """The stage rule (R3): every task closed in consent, cancelled, or superseded by a resubmission."""
        superseded = {t.supersedes_id for t in self.tasks if t.supersedes_id is not None}
        return all(t.is_consent or t.status == "cancelled" or t.id in superseded for t in self.tasks)


class ProjectSuspension(db.Model):
    """A period the project was suspended at the enterprise's request (R2): its clocks stopped.

    At most one is open (``ended_at`` NULL) per project.  The working days it covers are left
    out of the project's working days elapsed (agency.projects.timeline, the "3550" figures).
    """

    __tablename__ = "project_suspensions"
    __table_args__ = (
        Index("uq_project_suspensions_open", "project_id", unique=True,
              postgresql_where=text("ended_at IS NULL"), sqlite_where=text("ended_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    project = relationship(Project)


class ContactCard(db.Model):
    """企业联系卡 (R9).  A new agent means a new card; the old one is void."""

    __tablename__ = "contact_cards"
    __table_args__ = (  # at most one valid card per project: a double reassignment cannot leave two
        Index("uq_contact_cards_project_valid", "project_id", unique=True,
              postgresql_where=text("NOT void"), sqlite_where=text("NOT void")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    card_no: Mapped[str] = mapped_column(String(30), unique=True)
    enterprise: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    agent_name: Mapped[str] = mapped_column(String(100))
    agent_phone: Mapped[str] = mapped_column(String(40))
    supervision_phone: Mapped[str] = mapped_column(String(40))
    tracking_code: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    void: Mapped[bool] = mapped_column(Boolean, default=False)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    project = relationship(Project)
