"""Column types and SQL helpers shared by every area."""
import functools
from datetime import datetime, timezone

from sqlalchemy import DateTime, TypeDecorator, Update, any_, bindparam, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value


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


def insert_skipping(dialect: str, table, unique_column, skip: bool = True):
    """``INSERT INTO table``, in the dialect's form (PostgreSQL in production, SQLite embedded: both have
    ON CONFLICT), that skips a row whose ``unique_column`` is taken (``ON CONFLICT (...) DO NOTHING``) when
    ``skip``; a plain INSERT otherwise (a caller's last attempt, so that a value that never frees fails loudly)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table)
    return statement.on_conflict_do_nothing(index_elements=[unique_column]) if skip else statement


def values_in(session: Session, column, values):
    """``column IN values`` for a batch: on PostgreSQL ``column = ANY(:array)``, one parameter (see ``pairs_in``)."""
    values = list(values)
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    return column == any_(bindparam(None, values, type_=ARRAY(column.type)))


def pairs_in(session: Session, first, second, pairs):
    """``(first, second) IN pairs`` for a batch of pairs (the sweep's 500 (project, name) pairs).

    On PostgreSQL the pairs travel as two array parameters unnested in a sub-select: a tuple IN of
    500 pairs is a statement of 1,000 placeholders, which psycopg re-parses in Python on every run
    (too long for its cache), about 5 ms a batch.  Elsewhere (SQLite) a plain tuple IN.
    """
    pairs = sorted(pairs)
    if session.get_bind().dialect.name != "postgresql":
        return tuple_(first, second).in_(pairs)
    firsts = bindparam(None, [a for a, _ in pairs], type_=ARRAY(first.type))
    seconds = bindparam(None, [b for _, b in pairs], type_=ARRAY(second.type))
    return tuple_(first, second).in_(select(func.unnest(firsts), func.unnest(seconds)))


def write_columns(session: Session, obj, **values) -> None:
    """Write columns of one loaded row now, by one Core UPDATE of its primary key, and mark them committed.

    For the writes of a rule that every project meets (a stage closing, a project completing): the
    unit of work's flush of one changed object cost about three times the UPDATE (bench_workflow).
    The object must not hold other unwritten changes to the same columns.
    """
    session.connection().execute(_update_by_id(type(obj).__table__, tuple(values)), {"row_id": obj.id, **values})
    for name, value in values.items():
        set_committed_value(obj, name, value)


@functools.cache
def _update_by_id(table, columns: tuple) -> Update:
    return update(table).where(table.c.id == bindparam("row_id")).values(
        {name: bindparam(name) for name in columns})
