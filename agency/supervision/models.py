from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.dbtypes import UTCDateTime
from agency.extensions import db

CARD_COLORS = ("yellow", "red")


class Card(db.Model):
    """A yellow or red card of the electronic supervision (电子监察).

    ``key`` names the fact that earned it (``timeout:task:12``) and is unique,
    so a rule applied twice never cards twice.
    """

    __tablename__ = "cards"
    __table_args__ = (
        Index("ix_cards_department_at", "department_id", "at"),
        Index("ix_cards_agent_at", "agent_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    color: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(40))  # warning | timeout | second_supplement | notice_overdue | ...
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), index=True)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("dissatisfaction_notices.id"))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    department = relationship("Department")


class Escalation(db.Model):
    """A timed-out task whose item forbids deemed consent, waiting for the director."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str] = mapped_column(Text, default="")

    task = relationship("Task")


class Report(db.Model):
    """A daily, weekly, monthly or quarterly report (日清周结月通报季公示), kept as CSV and XLSX."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("period", "start", name="uq_reports_period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(10))  # daily | weekly | monthly | quarterly
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    csv_path: Mapped[str] = mapped_column(String(300))
    xlsx_path: Mapped[str] = mapped_column(String(300))

