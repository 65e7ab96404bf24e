"""The public service guide and the quarterly disclosure (R19), readable without signing in.

Both are built from the catalog and from the supervision figures only: nothing here names an
enterprise or a person.  The disclosure is ``figures.department_figures`` of a closed quarter,
cut down to the columns R19 makes public, so it matches the quarterly report cell for cell.
"""
from __future__ import annotations

import re
from datetime import date, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from agency.calendar.workdays import FIRST_DAY, WorkingCalendar
from agency.catalog.models import ApprovalItem, Department
from agency.errors import BadInput, NotFound
from agency.supervision import figures
from agency.supervision.figures import Period
from agency.supervision.reports import last_complete, period_of, quarter_start

QUARTER = re.compile(r"(\d{4})Q([1-4])")
DISCLOSED = ("department", "department_name", "tasks", "on_time_rate", "deemed_timeout", "red", "satisfaction")
PICKER_QUARTERS = 8


def guide_items(session: Session, department_code: str | None = None) -> list[ApprovalItem]:
    """The catalog's items (by code) with their departments; an unknown department is refused (400)."""
    query = select(ApprovalItem).join(Department).options(joinedload(ApprovalItem.department)) \
        .order_by(Department.code, ApprovalItem.code)
    if department_code:
        if session.scalar(select(Department.id).where(Department.code == department_code)) is None:
            raise BadInput(f"unknown department {department_code!r}",
                           fields={"department": "no department has this code (GET /guide/items lists all)"})
        query = query.where(Department.code == department_code)
    return list(session.scalars(query))


def get_guide_item(session: Session, code: str) -> ApprovalItem:
    item = session.scalar(select(ApprovalItem).where(ApprovalItem.code == code)
                          .options(joinedload(ApprovalItem.department)))
    if item is None:
        raise NotFound(f"no approval item {code!r}")
    return item


def guide_view(item: ApprovalItem) -> dict:
    """One entry of the guide (API.md v1.1), plus the department's name."""
    return {"code": item.code, "name": item.name, "department": item.department.code,
            "department_name": item.department.name, "legal_basis": item.legal_basis,
            "materials": list(item.materials), "statutory_days": item.statutory_days,
            "promised_days": item.promised_days, "immediate": item.immediate, "fee": item.fee, "star": item.star,
            "deemed_consent_allowed": item.deemed_consent_allowed,
            "deferrable_materials": list(item.deferrable_materials), "result_name": item.result_name}


# -- quarters ----------------------------------------------------------------------


def quarter_label(period: Period) -> str:
    """``2026Q3`` for the third quarter of 2026."""
    return f"{period.start.year}Q{(period.start.month - 1) // 3 + 1}"


def parse_quarter(text: str) -> Period:
    """The period of ``YYYYQn``; anything else is 400."""
    match = QUARTER.fullmatch((text or "").strip())
    if match is None or int(match.group(1)) < FIRST_DAY.year:
        raise BadInput(f"quarter must be written YYYYQn (e.g. 2026Q3) from {FIRST_DAY.year} on, got {text!r}",
                       fields={"quarter": "YYYYQn, e.g. 2026Q3"})
    year, number = int(match.group(1)), int(match.group(2))
    return period_of("quarterly", date(year, 3 * number - 2, 1))


def closed_quarter(text: str | None, today: date) -> Period:
    """The quarter asked for, by default the last one closed before ``today`` (a hall date); a quarter
    not yet closed (the current one or a later one) is 400: its figures are not final."""
    if not text:
        return last_complete("quarterly", today)
    period = parse_quarter(text)
    if period.end >= today:
        raise BadInput(f"quarter {quarter_label(period)} is not closed yet; the last closed one is "
                       f"{quarter_label(last_complete('quarterly', today))}",
                       fields={"quarter": "a closed quarter"})
    return period


def recent_quarters(today: date, count: int = PICKER_QUARTERS) -> list[Period]:
    """The last ``count`` closed quarters, newest first (the page's picker)."""
    quarters, day = [], today
    for _ in range(count):
        period = last_complete("quarterly", day)
        if period.start < FIRST_DAY:
            break
        quarters.append(period)
        day = quarter_start(period.start)
    return quarters


def quarterly_disclosure(session: Session, calendar: WorkingCalendar, quarter: Period, tz: tzinfo) -> dict:
    """Per department: tasks closed in the quarter, on-time rate, deemed timeouts, red cards, satisfaction."""
    rows = figures.department_figures(session, calendar, quarter, tz)
    return {"quarter": quarter_label(quarter), "start": quarter.start, "end": quarter.end,
            "departments": [{key: row[key] for key in DISCLOSED} for row in rows]}
