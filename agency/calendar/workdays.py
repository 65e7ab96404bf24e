"""Chinese working days (R1), precomputed as a sorted array of day ordinals.

Pure code: no database, no Flask.  A day is a working day when:

1. an override says so (a director's change or an imported official
   arrangement), whatever the rest says;
2. for a year the chinesecalendar package covers, the package says so
   (Monday to Friday, minus statutory holidays, plus adjusted working weekends);
3. for a later, confirmed year (its official arrangement was imported), it is
   Monday to Friday: the imported rows carry its holidays and working weekends;
4. for a later, unconfirmed year, it is Monday to Friday and not a statutory
   holiday known by rule to the ``holidays`` package (observed days included),
   with no adjusted working weekends.

Counting follows the legal rule: the start day does not count.  The calendar
answers from 1 January 2004 (the package's first year) through 31 December 2099;
a date outside that range is refused with ``OutOfRange`` (a ``BadInput``).
"""
from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timezone, tzinfo
from functools import cache
from itertools import chain
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays
from chinese_calendar import constants

from agency.errors import BadInput

DEFAULT_TZ = "Asia/Shanghai"
DEFAULT_CLOSING = time(17, 30)

_PUBLISHED_HOLIDAYS = frozenset(d.toordinal() for d in constants.holidays)
_PUBLISHED_WORKDAYS = frozenset(d.toordinal() for d in constants.workdays)
_published = {d.year for d in chain(constants.holidays, constants.workdays)}
PUBLISHED_YEARS = range(min(_published), max(_published) + 1)
"""Years the chinesecalendar package covers (2004..2026 in version 1.11.0)."""
FIRST_DAY = date(PUBLISHED_YEARS.start, 1, 1)
# The holidays package computes the lunar festivals through 2100; a century is
# far beyond any deadline, and a bound keeps a huge count from building years forever.
LAST_DAY = date(2099, 12, 31)
_FIRST_ORDINAL = FIRST_DAY.toordinal()
_LAST_ORDINAL = LAST_DAY.toordinal()
SUPPORTED_RANGE = f"{FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"
_NONE: frozenset[int] = frozenset()
_MIN_WORKING_DAYS_PER_YEAR = 200  # a safe lower bound, used to size an extension


class OutOfRange(BadInput, ValueError):
    """A date the working calendar cannot answer for (before FIRST_DAY or after LAST_DAY)."""


def _out_of_range(what: str) -> OutOfRange:
    return OutOfRange(f"{what}: the working calendar covers {SUPPORTED_RANGE}")


@cache
def _statutory_holidays(year: int) -> frozenset[int]:
    """Ordinals of the statutory holidays of ``year`` known by rule."""
    return frozenset(d.toordinal() for d in holidays.China(years=year))


class WorkingCalendar:
    """Answers working-day questions in O(log n) by bisecting working-day ordinals.

    The array runs from 1 January 2004 through 31 December of ``last_year``
    and is extended by itself when a later date is asked for, up to LAST_DAY.
    """

    def __init__(
        self,
        overrides: Mapping[date, bool] = MappingProxyType({}),
        confirmed_years: Iterable[int] = (),
        last_year: int | None = None,
    ) -> None:
        self._overrides = {day.toordinal(): bool(w) for day, w in overrides.items()}
        self._confirmed = frozenset(confirmed_years)
        last_year = date.today().year + 5 if last_year is None else last_year
        last_year = min(max(last_year, FIRST_DAY.year), LAST_DAY.year)
        ords = array("l")
        for year in range(FIRST_DAY.year, last_year + 1):
            self._append_year(ords, year)
        # (last ordinal covered, working-day ordinals): one attribute, replaced whole
        # on extension, so a concurrent reader never sees a half-built state.
        self._state: tuple[int, array] = (date(last_year, 12, 31).toordinal(), ords)

    @property
    def last_year(self) -> int:
        """The last year currently precomputed (grows on demand)."""
        return date.fromordinal(self._state[0]).year

    # -- questions -------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        o = d.toordinal()
        ords = self._covering(d, o)
        i = bisect_left(ords, o)
        return i < len(ords) and ords[i] == o

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day strictly after ``start`` (``start`` itself never counts)."""
        if n < 0:
            raise ValueError(f"cannot add a negative number of working days ({n})")
        o = start.toordinal()
        ords = self._covering(start, o)
        if n == 0:
            return start
        i = bisect_right(ords, o) + n - 1
        while i >= len(ords):
            if self.last_year >= LAST_DAY.year:
                raise _out_of_range(f"{n} working days after {start} fall after {LAST_DAY}")
            missing = i - len(ords) + 1
            ords = self._extend(min(self.last_year + missing // _MIN_WORKING_DAYS_PER_YEAR + 1, LAST_DAY.year))
        return date.fromordinal(ords[i])

    def working_days_between(self, a: date, b: date) -> int:
        """Number of working days d with a < d <= b; negative when b < a."""
        if b < a:
            return -self.working_days_between(b, a)
        self._covering(a)
        ords = self._covering(b)
        return bisect_right(ords, b.toordinal()) - bisect_right(ords, a.toordinal())

    def previous_working_day(self, d: date) -> date:
        """The last working day strictly before ``d``."""
        ords = self._covering(d)
        i = bisect_left(ords, d.toordinal()) - 1
        if i < 0:
            raise _out_of_range(f"no working day before {d}")
        return date.fromordinal(ords[i])

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        return self.add_working_days(d, 1)

    def is_confirmed(self, year: int) -> bool:
        """True when the package covers ``year`` or its official arrangement was imported."""
        return year in PUBLISHED_YEARS or year in self._confirmed

    def unconfirmed_years(self, start_year: int, end_year: int) -> list[int]:
        """Years in [start_year, end_year] computed by rule only ("calendar not confirmed")."""
        return [y for y in range(start_year, end_year + 1) if not self.is_confirmed(y)]

    @property
    def imported_years(self) -> frozenset[int]:
        """Years whose official arrangement was imported."""
        return self._confirmed

    def basis(self, year: int) -> str:
        """Where ``year``'s holidays come from, overrides aside: "package", "import" or "rule"."""
        if year in PUBLISHED_YEARS:
            return "package"
        return "import" if year in self._confirmed else "rule"

    def unusual_days(self, year: int) -> list[tuple[date, bool]]:
        """The days of ``year`` not as Monday to Friday would have them, each with whether it is worked."""
        first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
        ords = self._covering(date(year, 12, 31), last)
        working = set(ords[bisect_left(ords, first):bisect_right(ords, last)])
        return [(date.fromordinal(o), o in working) for o in range(first, last + 1)
                if (o in working) != ((o - 1) % 7 < 5)]

    # -- the hall's clock --------------------------------------------------------

    def deadline_after(
        self, start: datetime, n: int, tz: str | tzinfo = DEFAULT_TZ, closing: time = DEFAULT_CLOSING
    ) -> datetime:
        """Closing time on the n-th working day after the local date of ``start``, in UTC."""
        zone = _zone(tz)
        return _closing_utc(self.add_working_days(_local_date(start, zone), n), zone, closing)

    def warning_time(
        self, deadline: datetime, tz: str | tzinfo = DEFAULT_TZ, closing: time = DEFAULT_CLOSING
    ) -> datetime:
        """Closing time on the working day before the deadline's: one working day left. In UTC."""
        zone = _zone(tz)
        return _closing_utc(self.previous_working_day(_local_date(deadline, zone)), zone, closing)

    def working_days_left(self, now: datetime, deadline: datetime, tz: str | tzinfo = DEFAULT_TZ) -> int:
        """Working days from now's local date to the deadline's: 0 on the day, negative when overdue."""
        zone = _zone(tz)
        return self.working_days_between(_local_date(now, zone), _local_date(deadline, zone))

    # -- construction ----------------------------------------------------------

    def _covering(self, d: date, o: int | None = None) -> array:
        """The ordinal array, extended if needed so that it reaches ``d`` (of ordinal ``o``)."""
        o = d.toordinal() if o is None else o
        last_ordinal, ords = self._state
        if _FIRST_ORDINAL <= o <= last_ordinal:
            return ords
        if o < _FIRST_ORDINAL:
            raise _out_of_range(f"{d} is before {FIRST_DAY}")
        if o > _LAST_ORDINAL:
            raise _out_of_range(f"{d} is after {LAST_DAY}")
        return self._extend(min(d.year + 1, LAST_DAY.year))

    def _extend(self, last_year: int) -> array:
        old_last, old = self._state
        first_year = date.fromordinal(old_last).year + 1
        if last_year < first_year:
            return old
        ords = array("l", old)
        for year in range(first_year, last_year + 1):
            self._append_year(ords, year)
        self._state = (date(last_year, 12, 31).toordinal(), ords)
        return ords

    def _append_year(self, ords: array, year: int) -> None:
        if year in PUBLISHED_YEARS:
            off, on = _PUBLISHED_HOLIDAYS, _PUBLISHED_WORKDAYS
        elif year in self._confirmed:
            off, on = _NONE, _NONE
        else:
            off, on = _statutory_holidays(year), _NONE
        overrides = self._overrides
        for o in range(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal() + 1):
            working = overrides.get(o)
            if working is None:
                working = o in on or ((o - 1) % 7 < 5 and o not in off)  # (o - 1) % 7 is the weekday
            if working:
                ords.append(o)


def _zone(tz: str | tzinfo) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def _local_date(moment: datetime, zone: tzinfo) -> date:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: every time must carry its zone")
    return moment.astimezone(zone).date()


def _closing_utc(day: date, zone: tzinfo, closing: time) -> datetime:
    return datetime.combine(day, closing, tzinfo=zone).astimezone(timezone.utc)
