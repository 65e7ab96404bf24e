"""Column types shared by every area."""
from datetime import datetime, timezone

from sqlalchemy import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator):
    """An aware datetime stored as UTC.

    PostgreSQL keeps it as ``timestamptz``; SQLite has no zone, so the value is
    normalised to UTC on the way in and tagged UTC on the way out.  Naive
    values are refused: every time in this system carries its zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(timezone.utc)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc)
