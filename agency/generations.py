"""What the per-process caches of an API request's fixed cost were built from, and when they go stale.

A request's fixed cost is its bearer token, the token's user and the working calendar.  Each
process keeps them (``process_cache``) beside the *generation* they were read under: one row of
``cache_generations`` holds a counter per concern, ``people`` (``users``, ``api_tokens``) and
``calendar`` (``calendar_overrides``, ``calendar_years``).  Database triggers (migration 0009)
bump a counter in the same transaction as any change to its tables, whoever writes (a service,
the CLI, another process, hand-written SQL), so the change and the new generation commit
together.  Every API request reads the row once (``generations``: one statement by primary
key); an entry built under another generation is dropped.  A revoked token, a deactivated user,
a password reset or a calendar import is therefore seen by every process on its next request:
the caches are invalidated, never merely expired (STYLE.md).

A cache entry is tagged with the generation read *before* the data it holds, so a change
committed in between leaves it tagged older than it is and it is read again next time: never
the other way round.  TRUNCATE fires none of these triggers: a process must not outlive a
TRUNCATE of the tables (only the tests truncate, and each then starts a new app).
"""
from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import BigInteger, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from agency.extensions import db
from agency.transaction import remembered


class CacheGeneration(db.Model):
    """The one row (id 1) of change counters; written only by the triggers of migration 0009."""

    __tablename__ = "cache_generations"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    people: Mapped[int] = mapped_column(BigInteger, default=0)
    calendar: Mapped[int] = mapped_column(BigInteger, default=0)


class Generations(NamedTuple):
    people: int
    calendar: int


# Core text, compiled once; the row may be missing after a TRUNCATE (tests): the triggers upsert it.
_READ = text("SELECT people, calendar FROM cache_generations WHERE id = 1")
_KEY = "agency_generations"


def generations(session: Session) -> Generations:
    """The counters as this transaction read them: one statement, once per transaction."""
    read = remembered(session, _KEY)
    if "row" not in read:
        row = session.connection().execute(_READ).first()  # Core: no ORM execution around it
        read["row"] = Generations(*row) if row is not None else Generations(0, 0)
    return read["row"]


def forget_generations(session: Session) -> None:
    """Read the counters again on next use: this transaction has just changed what they count."""
    session.info.pop(_KEY, None)


def process_cache() -> dict | None:
    """This process's caches (one dict per app: two apps in one process never share entries),
    or None outside an application context (nothing cached there)."""
    from flask import current_app, has_app_context
    if not has_app_context():
        return None
    return current_app.extensions.setdefault("agency_request_cache", {})
