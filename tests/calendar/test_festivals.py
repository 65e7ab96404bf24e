"""The statutory festivals an official arrangement must cover (R1), from the holidays package."""
from datetime import date

import pytest
from chinese_calendar import constants

from agency.calendar.festivals import statutory_festivals, uncovered_festivals
from agency.calendar.workdays import PUBLISHED_YEARS

SEVEN = ["New Year", "Spring Festival", "Qingming", "Labour Day", "Dragon Boat", "Mid-Autumn", "National Day"]


@pytest.mark.parametrize("year", [2027, 2028, 2050, 2099])
def test_every_later_year_has_the_seven_festivals(year):
    assert [f.english for f in statutory_festivals(year)] == SEVEN


def test_2027_by_rule():
    festivals = {f.english: f for f in statutory_festivals(2027)}
    assert festivals["National Day"].days == (date(2027, 10, 1), date(2027, 10, 2), date(2027, 10, 3))
    assert festivals["Mid-Autumn"].days == (date(2027, 9, 15),)
    assert festivals["Spring Festival"].days[0] == date(2027, 2, 5)  # the eve is a statutory day since 2025
    assert festivals["National Day"].label == "National Day (国庆节)"


@pytest.mark.parametrize("year", list(PUBLISHED_YEARS))
def test_every_published_arrangement_is_complete(year):
    """The package's own arrangements (2004-2026) pass the check an import must pass."""
    published = [d for d in constants.holidays if d.year == year]
    assert uncovered_festivals(year, published) == []


def test_a_merged_mid_autumn_and_national_day_is_covered_by_one_date():
    # 2028: Mid-Autumn falls on 10-03, inside National Day.
    missing = uncovered_festivals(2028, [date(2028, 10, 3)])
    assert "Mid-Autumn" not in [f.english for f in missing] and "National Day" not in [f.english for f in missing]
    assert len(missing) == 5
