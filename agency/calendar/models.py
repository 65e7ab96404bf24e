from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from agency.dbtypes import UTCDateTime
from agency.extensions import db

SOURCE_OVERRIDE = "override"  # a director's single-date change
SOURCE_IMPORT = "import"  # a row of an imported official arrangement


class CalendarOverride(db.Model):
    """One date whose working status differs from the built-in calendar."""

    __tablename__ = "calendar_overrides"
    __table_args__ = (
        CheckConstraint(f"source IN ('{SOURCE_OVERRIDE}', '{SOURCE_IMPORT}')", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(20), default=SOURCE_OVERRIDE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # References users.id; a plain column until the users table settles.
    created_by_id: Mapped[int | None] = mapped_column(Integer)

    def __repr__(self) -> str:
        kind = "workday" if self.is_workday else "holiday"
        return f"<CalendarOverride {self.day} {kind} {self.source}>"


class CalendarYear(db.Model):
    """A year whose official arrangement has been imported (confirmed)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(200), default="")

    def __repr__(self) -> str:
        return f"<CalendarYear {self.year}>"
