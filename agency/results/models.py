"""What a task issues (办理结果, 电子证照) and how it reaches the enterprise (快递送达) (R16)."""
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.dbtypes import UTCDateTime
from agency.extensions import db

RESULT_KINDS = ("licence", "approval", "filing", "opinion")
DEEMED_NOTICE = "deemed_consent_notice"  # the system's notice of deemed consent is a result too
DELIVERY_METHODS = ("download", "post", "pickup")


class TaskResult(db.Model):
    """The result of a task closed in consent: a licence, approval, filing or opinion, or the deemed notice."""

    __tablename__ = "task_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    number: Mapped[str] = mapped_column(String(100), default="")
    issued_on: Mapped[date] = mapped_column(Date)
    # the electronic result, stored like an uploaded material (agency.enterprise.uploads)
    filename: Mapped[str | None] = mapped_column(String(255))
    storage_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    file_attached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    task = relationship("Task", backref=db.backref("result", uselist=False))


class Shipment(db.Model):
    """A postal delivery of results: its waybill, when it was sent and when the enterprise signed for it."""

    __tablename__ = "shipments"
    __table_args__ = (UniqueConstraint("project_id", "waybill", name="uq_shipments_project_waybill"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    task_ids: Mapped[list] = mapped_column(JSON)
    waybill: Mapped[str] = mapped_column(String(60))
    address: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    project = relationship("Project")
