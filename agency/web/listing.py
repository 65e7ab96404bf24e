"""Filters and pages of the list pages, kept in the query string (a filtered list is a link to share).

A list view reads its filters with ``ListArgs``, narrows its statement, and hands it to ``paginate``;
the template shows the GET form and ``pager`` (templates/web/_listing.html), whose links keep every filter.
"""
from datetime import UTC, date, datetime, time, timedelta
from math import ceil
from typing import Any, NamedTuple

from flask import request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from agency import clock

PAGE_SIZE = 25
MAX_PAGE = 10_000


class Page(NamedTuple):
    """One page of a list: its rows, its number (from 1), the number of pages and of rows."""
    items: list
    number: int
    pages: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(session: Session, statement: Select, number: int, per_page: int | None = None,
             scalars: bool = True) -> Page:
    """Page ``number`` of ``statement`` (ordered by the caller): one COUNT and one LIMIT/OFFSET query."""
    per_page = per_page or PAGE_SIZE
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    pages = max(1, ceil(total / per_page))
    number = min(max(1, number), pages)
    query = statement.limit(per_page).offset((number - 1) * per_page)
    rows = session.scalars(query).all() if scalars else session.execute(query).all()
    return Page(list(rows), number, pages, total)


class ListArgs:
    """The filters of a list from ``request.args``; a bad value is ignored (the list is shown unfiltered)."""

    def __init__(self, args=None):
        self.args = request.args if args is None else args

    def text(self, name: str, max_length: int = 100) -> str:
        return (self.args.get(name) or "").strip()[:max_length]

    def choice(self, name: str, allowed) -> str:
        value = self.text(name)
        return value if value in allowed else ""

    def integer(self, name: str) -> int | None:
        value = self.text(name)
        return int(value) if value.isdigit() and len(value) < 10 else None

    def day(self, name: str) -> date | None:
        try:
            return date.fromisoformat(self.text(name, 10))
        except ValueError:
            return None

    @property
    def page(self) -> int:
        return min(self.integer("page") or 1, MAX_PAGE)


def day_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """UTC instants of a range of hall days, both days included; None where the range is open."""
    tz = clock.hall_tz()
    lo = datetime.combine(start, time(), tzinfo=tz).astimezone(UTC) if start else None
    hi = datetime.combine(end + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC) if end else None
    return lo, hi


def within(column, start: date | None, end: date | None) -> list[Any]:
    """Conditions of ``column`` falling within the hall days ``start``..``end``."""
    lo, hi = day_bounds(start, end)
    return [c for c in ((column >= lo) if lo else None, (column < hi) if hi else None) if c is not None]


def of_projects_matching(project_id_column, q: str):
    """Rows whose project matches a list's search box: the same search (and index) as ``GET /projects?q=``
    (``agency.projects.services.search``), taken through the row's project."""
    from agency.projects.models import Project
    from agency.projects.services import search
    return project_id_column.in_(search(select(Project.id), q))


def page_args(number: int) -> dict:
    """The current query string with ``page`` set: a pager link keeps every filter."""
    args = request.args.to_dict(flat=True)
    args["page"] = str(number)
    return args
