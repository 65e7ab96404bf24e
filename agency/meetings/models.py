from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.dbtypes import UTCDateTime
from agency.extensions import db

MEETING_KINDS = ("pre_review", "site_survey", "joint_review")
MEETING_STATUSES = ("scheduled", "held", "closed", "cancelled")
OPEN_MEETING_STATUSES = ("scheduled", "held")  # not yet closed nor cancelled
WRITTEN_DECISIONS = ("consent", "consent_with_conditions", "objection", "supplement_needed")
STANCE_SOURCES = ("present", "written", "deemed", "none")
KIND_NAMES = {"pre_review": "联合预审", "site_survey": "联合踏勘", "joint_review": "联审会议"}
STATUS_NAMES = {"scheduled": "已安排", "held": "已召开", "closed": "已闭会", "cancelled": "已取消"}
DECISION_NAMES = {"consent": "同意", "consent_with_conditions": "附条件同意", "objection": "反对",
                  "supplement_needed": "需补正材料"}
SOURCE_NAMES = {"present": "到会表态", "written": "书面意见", "deemed": "缺席默认", "none": "未形成意见"}


class Meeting(db.Model):
    """A joint pre-review, site survey or review meeting (联合预审/踏勘/联审)."""

    __tablename__ = "meetings"
    __table_args__ = (
        Index("ix_meetings_status_starts", "status", "starts_at"),
        Index("uq_meetings_project_kind_starts", "project_id", "kind", "starts_at", unique=True,  # scheduled once
              postgresql_where=text("status <> 'cancelled'"), sqlite_where=text("status <> 'cancelled'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(200))
    scheduled_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE, bumped on change
    conclusion: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flagged_unclosed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    project = relationship("Project")
    scheduled_by = relationship("User")
    invitations = relationship("Invitation", back_populates="meeting", order_by="Invitation.id")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_MEETING_STATUSES

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, self.kind)

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, self.status)

    def invitation_for(self, department_id: int) -> "Invitation | None":
        return next((i for i in self.invitations if i.department_id == department_id), None)


class Invitation(db.Model):
    """One department invited to a meeting, and its stance."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("meeting_id", "department_id", name="uq_invitations_meeting_department"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    liaison_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duly_invited: Mapped[bool | None] = mapped_column()
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    representative: Mapped[str] = mapped_column(String(100), default="")
    written_decision: Mapped[str | None] = mapped_column(String(30))
    written_opinion: Mapped[str] = mapped_column(Text, default="")
    written_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attendance: Mapped[str | None] = mapped_column(String(10))  # present | absent
    decision: Mapped[str | None] = mapped_column(String(30))
    opinion: Mapped[str] = mapped_column(Text, default="")
    findings: Mapped[str] = mapped_column(Text, default="")
    stance_source: Mapped[str | None] = mapped_column(String(10))  # present | written | deemed | none

    meeting = relationship(Meeting, back_populates="invitations")
    department = relationship("Department")
    liaison = relationship("User")

    @property
    def has_written_opinion(self) -> bool:
        return self.written_decision is not None

    @property
    def decision_name(self) -> str:
        return DECISION_NAMES.get(self.decision, "") if self.decision else ""

    @property
    def written_decision_name(self) -> str:
        return DECISION_NAMES.get(self.written_decision, "") if self.written_decision else ""

    @property
    def source_name(self) -> str:
        return SOURCE_NAMES.get(self.stance_source, "") if self.stance_source else ""
