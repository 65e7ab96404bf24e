"""Working-day arithmetic on real dates (expectations checked against chinesecalendar 1.11.0)."""
from datetime import date, datetime, time, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agency.calendar.workdays import PUBLISHED_YEARS, OutOfRange, WorkingCalendar
from agency.errors import BadInput

CAL = WorkingCalendar()
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc


def reference_is_workday(d: date) -> bool:
    """Independent reference: the package itself, then the statutory holidays by rule."""
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return d.weekday() < 5 and d not in statutory_holidays(d.year)


@cache
def statutory_holidays(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year)


def reference_add(start: date, n: int) -> date:
    """The naive day-by-day loop."""
    day, counted = start, 0
    while counted < n:
        day += timedelta(days=1)
        counted += reference_is_workday(day)
    return day


def test_published_years_are_read_from_the_package():
    assert PUBLISHED_YEARS == range(2004, 2027)
    assert CAL.is_confirmed(2004) and CAL.is_confirmed(2026)
    assert not CAL.is_confirmed(2027)
    assert CAL.unconfirmed_years(2025, 2028) == [2027, 2028]


# -- 2025 Spring Festival: off 2025-01-28..02-04, working Sun 01-26 and Sat 02-08 --


def test_2025_spring_festival_days():
    assert not any(CAL.is_working_day(date(2025, 1, 28) + timedelta(days=i)) for i in range(8))
    assert CAL.is_working_day(date(2025, 1, 26))  # Sunday, adjusted
    assert CAL.is_working_day(date(2025, 2, 8))  # Saturday, adjusted
    assert not CAL.is_working_day(date(2025, 2, 9))  # an ordinary Sunday


def test_2025_spring_festival_counting():
    assert CAL.add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)  # the day before: lands after
    assert CAL.add_working_days(date(2025, 1, 24), 1) == date(2025, 1, 26)  # Friday -> working Sunday
    assert CAL.add_working_days(date(2025, 1, 24), 3) == date(2025, 2, 5)
    assert CAL.add_working_days(date(2025, 2, 7), 1) == date(2025, 2, 8)  # the working Saturday counts
    assert CAL.add_working_days(date(2025, 2, 7), 2) == date(2025, 2, 10)
    # 01-26, 01-27, 02-05, 02-06, 02-07, 02-08, 02-10
    assert CAL.working_days_between(date(2025, 1, 24), date(2025, 2, 10)) == 7


# -- 2025 National Day + Mid-Autumn: off 10-01..10-08, working Sun 09-28 and Sat 10-11 --


def test_2025_national_day():
    assert not any(CAL.is_working_day(date(2025, 10, 1) + timedelta(days=i)) for i in range(8))
    assert CAL.is_working_day(date(2025, 9, 28)) and CAL.is_working_day(date(2025, 10, 11))
    assert CAL.add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)
    assert CAL.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert CAL.add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert CAL.add_working_days(date(2025, 10, 10), 1) == date(2025, 10, 11)
    assert CAL.add_working_days(date(2025, 10, 10), 2) == date(2025, 10, 13)


# -- 2026 Spring Festival: off 02-15..02-23, working Sat 02-14 and Sat 02-28 --


def test_2026_spring_festival():
    assert not any(CAL.is_working_day(date(2026, 2, 15) + timedelta(days=i)) for i in range(9))
    assert CAL.is_working_day(date(2026, 2, 14)) and CAL.is_working_day(date(2026, 2, 28))
    assert CAL.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert CAL.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert CAL.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert CAL.add_working_days(date(2026, 2, 27), 1) == date(2026, 2, 28)
    assert CAL.add_working_days(date(2026, 2, 27), 2) == date(2026, 3, 2)


# -- 2026 Mid-Autumn (off Fri 09-25..09-27) and National Day (off 10-01..10-07),
#    working Sun 09-20 and Sat 10-10 --


def test_2026_mid_autumn_and_national_day():
    assert not any(CAL.is_working_day(date(2026, 9, 25) + timedelta(days=i)) for i in range(3))
    assert not any(CAL.is_working_day(date(2026, 10, 1) + timedelta(days=i)) for i in range(7))
    assert CAL.is_working_day(date(2026, 9, 20)) and CAL.is_working_day(date(2026, 10, 10))
    assert CAL.add_working_days(date(2026, 9, 18), 1) == date(2026, 9, 20)
    assert CAL.add_working_days(date(2026, 9, 24), 1) == date(2026, 9, 28)
    assert CAL.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert CAL.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert CAL.add_working_days(date(2026, 10, 9), 2) == date(2026, 10, 12)


def test_friday_plus_one_is_monday():
    assert CAL.add_working_days(date(2025, 3, 7), 1) == date(2025, 3, 10)


def test_zero_and_negative():
    assert CAL.add_working_days(date(2025, 3, 8), 0) == date(2025, 3, 8)
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2025, 3, 7), -1)


def test_neighbours_and_between():
    assert CAL.next_working_day(date(2025, 1, 27)) == date(2025, 2, 5)
    assert CAL.previous_working_day(date(2025, 2, 5)) == date(2025, 1, 27)
    assert CAL.previous_working_day(date(2025, 2, 10)) == date(2025, 2, 8)
    assert CAL.working_days_between(date(2025, 3, 7), date(2025, 3, 7)) == 0
    assert CAL.working_days_between(date(2025, 3, 7), date(2025, 3, 10)) == 1
    assert CAL.working_days_between(date(2025, 3, 10), date(2025, 3, 7)) == -1


def test_before_2004_is_an_error():
    with pytest.raises(ValueError, match="before 2004-01-01"):
        CAL.is_working_day(date(2003, 12, 31))
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2003, 12, 31), 1)
    with pytest.raises(ValueError):
        CAL.previous_working_day(date(2004, 1, 2))  # 2004-01-01 was a holiday


def test_dates_outside_2004_to_2099_are_bad_input():
    for ask in (lambda: CAL.add_working_days(date(2000, 1, 1), 3), lambda: CAL.is_working_day(date(2100, 1, 1)),
                lambda: CAL.working_days_between(date(2026, 1, 5), date(2100, 1, 5)),
                lambda: CAL.add_working_days(date(2099, 12, 1), 400)):
        with pytest.raises(OutOfRange, match="the working calendar covers 2004-01-01 to 2099-12-31") as caught:
            ask()
        assert isinstance(caught.value, BadInput) and caught.value.status == 400
    short = WorkingCalendar(last_year=2026)
    with pytest.raises(OutOfRange, match="99999999 working days after 2026-11-23 fall after 2099-12-31"):
        short.add_working_days(date(2026, 11, 23), 99999999)
    assert short.last_year == 2099  # built once up to the bound, not beyond
    assert short.add_working_days(date(2099, 12, 28), 3) == date(2099, 12, 31)  # a Thursday


def test_basis_and_unusual_days():
    cal = WorkingCalendar({date(2027, 10, 1): False, date(2027, 3, 1): False}, confirmed_years=[2027])
    assert [cal.basis(y) for y in (2026, 2027, 2028)] == ["package", "import", "rule"]
    assert cal.imported_years == {2027}
    assert cal.unusual_days(2027) == [(date(2027, 3, 1), False), (date(2027, 10, 1), False)]
    unusual = dict(CAL.unusual_days(2026))
    assert unusual[date(2026, 2, 28)] is True and unusual[date(2026, 10, 1)] is False  # working Saturday, holiday
    assert date(2026, 10, 3) not in unusual  # a Saturday off is ordinary
    assert not any(working for working in dict(CAL.unusual_days(2028)).values())  # by rule: holidays only


# -- beyond the package: 2027 by rule, unconfirmed --


def test_span_into_2027_skips_new_year():
    assert not CAL.is_working_day(date(2027, 1, 1))  # Friday, New Year's Day (holidays package)
    # Dec 28, 29, 30, 31, then Jan 4..8, then Jan 11.
    assert CAL.add_working_days(date(2026, 12, 25), 10) == date(2027, 1, 11)
    assert not CAL.is_working_day(date(2027, 2, 9))  # an "observed" Spring Festival day counts as a holiday


def test_later_dates_extend_the_calendar():
    short = WorkingCalendar(last_year=2026)
    assert short.add_working_days(date(2026, 12, 25), 10) == date(2027, 1, 11)
    assert short.is_working_day(date(2040, 1, 3))  # Tuesday
    assert not short.is_working_day(date(2040, 1, 2))  # New Year observed on Monday
    assert short.last_year >= 2040
    assert short.add_working_days(date(2026, 12, 31), 2000) > date(2034, 1, 1)


def test_overrides_win_over_both_packages():
    cal = WorkingCalendar(
        {
            date(2025, 3, 10): False,  # a Monday made a holiday
            date(2025, 3, 8): True,  # a Saturday made a working day
            date(2025, 10, 8): True,  # a chinesecalendar holiday made working
            date(2027, 1, 4): False,  # a Monday in 2027
            date(2027, 1, 9): True,  # a Saturday in 2027
            date(2027, 1, 1): True,  # a holidays-package holiday made working
        }
    )
    assert not cal.is_working_day(date(2025, 3, 10))
    assert cal.add_working_days(date(2025, 3, 7), 1) == date(2025, 3, 8)
    assert cal.add_working_days(date(2025, 3, 7), 2) == date(2025, 3, 11)
    assert cal.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 8)
    assert cal.is_working_day(date(2027, 1, 1))
    # Dec 28..31, Jan 1 (made working), Jan 5..8, Jan 9 (Saturday made working).
    assert cal.add_working_days(date(2026, 12, 25), 10) == date(2027, 1, 9)
    assert not cal.is_confirmed(2027)


def test_confirmed_year_takes_the_imported_rows_only():
    cal = WorkingCalendar({date(2027, 2, 6): False, date(2027, 2, 20): True}, confirmed_years=[2027])
    assert cal.is_confirmed(2027) and cal.unconfirmed_years(2026, 2028) == [2028]
    assert cal.is_working_day(date(2027, 2, 20))  # adjusted working Saturday
    assert cal.is_working_day(date(2027, 2, 9))  # the rule's guess is dropped once confirmed


# -- the hall's clock: Asia/Shanghai, closing 17:30 --


def test_deadline_warning_and_days_left():
    start = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # Monday
    deadline = CAL.deadline_after(start, 3, "Asia/Shanghai", time(17, 30))
    assert deadline == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    assert deadline.tzinfo == UTC
    assert deadline.astimezone(SHANGHAI) == datetime(2026, 11, 26, 17, 30, tzinfo=SHANGHAI)
    assert CAL.warning_time(deadline) == datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    assert CAL.working_days_left(start, deadline) == 3
    assert CAL.working_days_left(datetime(2026, 11, 25, 9, 30, tzinfo=UTC), deadline) == 1
    assert CAL.working_days_left(datetime(2026, 11, 26, 12, 0, tzinfo=SHANGHAI), deadline) == 0
    assert CAL.working_days_left(datetime(2026, 11, 27, 8, 0, tzinfo=SHANGHAI), deadline) == -1


def test_the_local_date_decides():
    # 20:00 UTC on Monday is 04:00 Tuesday in Shanghai: Tuesday is the start day.
    start = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
    assert CAL.deadline_after(start, 3) == datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    assert CAL.deadline_after(start, 1, closing=time(18, 0)) == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_warning_across_a_holiday():
    deadline = CAL.deadline_after(datetime(2026, 9, 30, 9, 0, tzinfo=SHANGHAI), 1)
    assert deadline == datetime(2026, 10, 8, 9, 30, tzinfo=UTC)
    assert CAL.warning_time(deadline) == datetime(2026, 9, 30, 9, 30, tzinfo=UTC)
    assert CAL.working_days_left(datetime(2026, 10, 3, 12, 0, tzinfo=SHANGHAI), deadline) == 1


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        CAL.deadline_after(datetime(2026, 11, 23, 10, 0), 3)


# -- against the naive loop --

DAYS = st.dates(min_value=date(2005, 1, 1), max_value=date(2028, 12, 31))


@settings(max_examples=400, deadline=None)
@given(start=DAYS, n=st.integers(min_value=0, max_value=60))
def test_add_working_days_matches_the_day_by_day_loop(start, n):
    result = CAL.add_working_days(start, n)
    assert result == reference_add(start, n)
    assert CAL.working_days_between(start, result) == n


@settings(max_examples=200, deadline=None)
@given(a=DAYS, b=DAYS)
def test_working_days_between_matches_a_count(a, b):
    low, high = min(a, b), max(a, b)
    if (high - low).days > 400:
        high = low + timedelta(days=400)
        a, b = (low, high) if a <= b else (high, low)
    expected = sum(reference_is_workday(low + timedelta(days=i)) for i in range(1, (high - low).days + 1))
    assert CAL.working_days_between(a, b) == (expected if a <= b else -expected)


@settings(max_examples=200, deadline=None)
@given(day=DAYS)
def test_is_working_day_matches_the_reference(day):
    assert CAL.is_working_day(day) == reference_is_workday(day)
