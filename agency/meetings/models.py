from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.dbtypes import UTCDateTime
from agency.extensions import db

MEETING_KINDS = ("pre_review", "site_survey", "joint_review")
MEETING_STATUSES = ("scheduled", "held", "closed", "cancelled")
WRITTEN_DECISIONS = ("consent", "consent_with_conditions", "objection", "supplement_needed")


class Meeting(db.Model):
    """A joint pre-review, site survey or review meeting (联合预审/踏勘/联审)."""

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_status_starts", "status", "starts_at"),)

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
    invitations = relationship("Invitation", back_populates="meeting", order_by="Invitation.id")


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
