"""Calendar services: director overrides, imported official arrangements, the cached calendar.

Functions flush, never commit.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from agency.calendar.festivals import holiday_name, uncovered_festivals
from agency.calendar.models import SOURCE_IMPORT, SOURCE_OVERRIDE, CalendarOverride, CalendarYear
from agency.calendar.workdays import FIRST_DAY, LAST_DAY, WorkingCalendar
from agency.generations import forget_generations, generations, process_cache
from agency.transaction import remembered

KINDS = {"holiday": False, "workday": True}  # kind -> is_workday
# Where a date's working status comes from (the stored rows say "import" or "override").
SOURCE_PACKAGE = "package"  # chinesecalendar's published data
SOURCE_RULE = "rule"  # the holidays package's statutory festivals: not confirmed
SOURCES = (SOURCE_PACKAGE, SOURCE_RULE, SOURCE_IMPORT, SOURCE_OVERRIDE)
CSV_HEADER = ["date", "kind", "name"]
NOTE_MAX = 200
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class CalendarError(ValueError):
    """A calendar change that cannot be made."""


class CalendarImportError(CalendarError):
    """A bad line in an official arrangement; nothing was written."""

    def __init__(self, line_no: int, message: str) -> None:
        super().__init__(f"line {line_no}: {message}")
        self.line_no = line_no
        self.message = message


class IncompleteArrangement(CalendarError):
    """An official arrangement that leaves statutory festivals without a holiday date; nothing was written."""

    def __init__(self, year: int, missing: list[str]) -> None:
        super().__init__(f"{year}: " + "; ".join(missing))
        self.year = year
        self.missing = missing


class ArrangementRow(NamedTuple):
    day: date
    kind: str  # "holiday" or "workday"
    name: str


class ArrangementImport(NamedTuple):
    year: int
    imported: int  # rows written
    kept_overrides: list[date]  # days where a director's override was kept over the imported row


class DaySource(NamedTuple):
    day: date
    is_workday: bool
    source: str  # one of SOURCES
    note: str


class YearSources(NamedTuple):
    """A year of the calendar: confirmed or not, and where each of its non-ordinary dates comes from."""

    year: int
    confirmed: bool
    basis: str  # where its holidays come from, overrides aside: package, import or rule
    imported_at: datetime | None
    days: list[DaySource]

    def count(self, source: str) -> int:
        return sum(1 for day in self.days if day.source == source)


# -- the cached calendar ---------------------------------------------------------


def get_calendar(session: Session) -> WorkingCalendar:
    """The working calendar with every override and confirmed year, cached per process.

    Kept beside the ``calendar`` generation it was built under (agency.generations): a change to
    the calendar's tables, by any process, bumps the generation in its own transaction, and the
    next transaction here builds the calendar again.  Costs no statement of its own in an API
    request (the request read the generations with its token); elsewhere one primary-key read
    per transaction.  A transaction that changed the calendar itself builds it from its own rows
    and does not cache it (it may yet roll back).
    """
    read = remembered(session, _SESSION_KEY)
    if "calendar" in read:
        return read["calendar"]
    cache = process_cache()
    if cache is None or read.get("written"):
        calendar = _build(session)
    else:
        generation = generations(session).calendar
        cached = cache.get("calendar")
        if cached is not None and cached[0] == generation:
            calendar = cached[1]
        else:
            calendar = _build(session)
            cache["calendar"] = (generation, calendar)
    read["calendar"] = calendar
    return calendar


def _build(session: Session) -> WorkingCalendar:
    rows = session.execute(select(CalendarOverride.day, CalendarOverride.is_workday))
    overrides = {day: is_workday for day, is_workday in rows}
    years = session.scalars(select(CalendarYear.year)).all()
    return WorkingCalendar(overrides, years)


def _invalidate(session: Session) -> None:
    """This transaction changed the calendar: read it from its rows until it ends (the triggers
    bumped the generation, which every process sees once it commits)."""
    read = remembered(session, _SESSION_KEY)
    read.clear()
    read["written"] = True
    forget_generations(session)


# Within one transaction the calendar is read once (a request computing many
# deadlines reads the generation once); it is forgotten when the transaction ends.
_SESSION_KEY = "agency_calendar"


def year_sources(session: Session, calendar: WorkingCalendar, years: Iterable[int]) -> list[YearSources]:
    """For each year, every date not as Monday to Friday would have it, and every stored row, with its source.

    Two statements (the stored rows and the imports of those years); the rest is the calendar's.
    """
    years = sorted({year for year in years if FIRST_DAY.year <= year <= LAST_DAY.year})
    if not years:
        return []
    span = CalendarOverride.day.between(date(years[0], 1, 1), date(years[-1], 12, 31))
    stored = {row.day: row for row in session.scalars(select(CalendarOverride).where(span))}
    imported = dict(session.execute(select(CalendarYear.year, CalendarYear.imported_at)
                                    .where(CalendarYear.year.between(years[0], years[-1]))).all())
    result = []
    for year in years:
        basis = calendar.basis(year)
        days = {day: DaySource(day, working, basis, "调休上班" if working else holiday_name(day))
                for day, working in calendar.unusual_days(year)}
        for day, row in stored.items():
            if day.year == year:
                days[day] = DaySource(day, row.is_workday, row.source, row.note)
        result.append(YearSources(year, calendar.is_confirmed(year), basis, imported.get(year),
                                  [days[day] for day in sorted(days)]))
    return result


# -- director overrides ------------------------------------------------------------


def set_override(
    session: Session, now: datetime, day: date, is_workday: bool, note: str = "", actor_id: int | None = None
) -> CalendarOverride:
    """Make ``day`` a working day or a holiday, whatever the built-in or imported calendar says."""
    if day < FIRST_DAY:
        raise CalendarError(f"{day} is before {FIRST_DAY}, the first day the calendar knows")
    if day > LAST_DAY:
        raise CalendarError(f"{day} is after {LAST_DAY}, the last day the calendar knows")
    if len(note) > NOTE_MAX:
        raise CalendarError(f"note longer than {NOTE_MAX} characters")
    row = session.scalar(select(CalendarOverride).where(CalendarOverride.day == day))
    if row is None:
        row = CalendarOverride(day=day)
        session.add(row)
    row.is_workday = is_workday
    row.note = note
    row.source = SOURCE_OVERRIDE
    row.created_at = now
    row.created_by_id = actor_id
    session.flush()
    _invalidate(session)
    return row


def remove_override(session: Session, day: date) -> bool:
    """Drop the director's override of ``day``; imported rows are left alone. True if one was removed."""
    row = session.scalar(
        select(CalendarOverride).where(CalendarOverride.day == day, CalendarOverride.source == SOURCE_OVERRIDE)
    )
    if row is None:
        return False
    session.delete(row)
    session.flush()
    _invalidate(session)
    return True


# -- official arrangements ---------------------------------------------------------


def parse_arrangement_csv(text: str) -> list[ArrangementRow]:
    """Rows of a CSV with header ``date,kind,name`` (date as YYYY-MM-DD), one row per line.

    Errors name the line of the file (the header is line 1), so that the line
    numbers of ``import_arrangement`` (``first_line=2``) match the file too.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff").rstrip()))
    try:
        header = next(reader, None)
        if header is None or [cell.strip().lower() for cell in header] != CSV_HEADER:
            raise CalendarImportError(1, "the header must be date,kind,name")
        rows: list[ArrangementRow] = []
        for cells in reader:
            line = reader.line_num
            if line != len(rows) + 2:
                raise CalendarImportError(line, "each row must fit on one line")
            rows.append(_parse_line(line, cells))
    except csv.Error as exc:
        raise CalendarImportError(reader.line_num, f"unreadable CSV: {exc}") from exc
    return rows


def _parse_line(line: int, cells: list[str]) -> ArrangementRow:
    if not any(cell.strip() for cell in cells):
        raise CalendarImportError(line, "empty line")
    if len(cells) != 3:
        raise CalendarImportError(line, f"expected 3 fields (date,kind,name), found {len(cells)}")
    raw_day, kind, name = (cell.strip() for cell in cells)
    if not _ISO_DAY.fullmatch(raw_day):
        raise CalendarImportError(line, f"date {raw_day!r} is not YYYY-MM-DD")
    try:
        day = date.fromisoformat(raw_day)
    except ValueError as exc:
        raise CalendarImportError(line, f"date {raw_day!r} does not exist") from exc
    if kind.lower() not in KINDS:
        raise CalendarImportError(line, f"kind must be holiday or workday, not {kind!r}")
    return ArrangementRow(day, kind.lower(), name)


def import_arrangement(
    session: Session,
    now: datetime,
    year: int,
    rows: Iterable[tuple[date, str, str]],
    actor_id: int | None = None,
    *,
    note: str = "",
    first_line: int = 2,
) -> ArrangementImport:
    """Replace ``year``'s imported rows with an official arrangement and mark the year confirmed.

    Every row is checked before anything is written.  Line numbers start at
    ``first_line`` (2: the line after a CSV header).  The arrangement must be
    complete: a confirmed year takes its holidays from the imported rows only,
    so a statutory festival without a holiday date would silently become
    working days (``IncompleteArrangement``).  A director's override of a day
    is kept over the imported row for that day.
    """
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise CalendarError(f"{year} is outside {FIRST_DAY.year}-{LAST_DAY.year}, the years the calendar knows")
    if len(note) > NOTE_MAX:
        raise CalendarError(f"note longer than {NOTE_MAX} characters")
    checked = _check_rows(year, rows, first_line)
    _check_complete(year, checked)

    in_year = CalendarOverride.day.between(date(year, 1, 1), date(year, 12, 31))
    session.execute(delete(CalendarOverride).where(in_year, CalendarOverride.source == SOURCE_IMPORT))
    overridden = set(session.scalars(select(CalendarOverride.day).where(in_year)))
    kept = sorted(overridden.intersection(row.day for row in checked))
    for row in checked:
        if row.day not in overridden:
            session.add(
                CalendarOverride(
                    day=row.day,
                    is_workday=KINDS[row.kind],
                    note=row.name,
                    source=SOURCE_IMPORT,
                    created_at=now,
                    created_by_id=actor_id,
                )
            )
    record = session.get(CalendarYear, year)
    if record is None:
        record = CalendarYear(year=year)
        session.add(record)
    record.imported_at = now
    record.note = note
    session.flush()
    _invalidate(session)
    return ArrangementImport(year, len(checked) - len(kept), kept)


def _check_complete(year: int, rows: list[ArrangementRow]) -> None:
    missing = uncovered_festivals(year, (row.day for row in rows if row.kind == "holiday"))
    if missing:
        raise IncompleteArrangement(year, [
            f"{festival.label} has no holiday date (by rule around {festival.days[0]})" for festival in missing])


def _check_rows(year: int, rows: Iterable[tuple[date, str, str]], first_line: int) -> list[ArrangementRow]:
    checked: list[ArrangementRow] = []
    lines: dict[date, int] = {}
    for line, row in enumerate(rows, first_line):
        try:
            day, kind, name = row
        except (TypeError, ValueError):
            raise CalendarImportError(line, "expected date, kind, name") from None
        if not isinstance(day, date) or isinstance(day, datetime):
            raise CalendarImportError(line, f"{day!r} is not a date")
        if day.year != year:
            raise CalendarImportError(line, f"{day} is not in {year}")
        if kind not in KINDS:
            raise CalendarImportError(line, f"kind must be holiday or workday, not {kind!r}")
        if day in lines:
            raise CalendarImportError(line, f"{day} is already given on line {lines[day]}")
        name = (name or "").strip()
        if len(name) > NOTE_MAX:
            raise CalendarImportError(line, f"name longer than {NOTE_MAX} characters")
        lines[day] = line
        checked.append(ArrangementRow(day, kind, name))
    if not checked:
        raise CalendarImportError(first_line, f"the arrangement for {year} has no rows")
    return checked
