"""The statutory festivals (R1) of a year, known by rule from the ``holidays`` package.

An imported official arrangement must give every one of them at least one
holiday date; the package says which festivals a year has and roughly when
(lunar dates computed by rule, so an arrangement is allowed a little slack).
Pure code: no database, no Flask.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache
from typing import NamedTuple

import holidays

# The package's English names (a name starting with the prefix), in the order of the year.
_FESTIVALS = (  # (prefix, English, Chinese)
    ("New Year's Day", "New Year", "元旦"),
    ("Chinese New Year", "Spring Festival", "春节"),  # the eve, the festival, the extended days
    ("Tomb-Sweeping Day", "Qingming", "清明节"),
    ("Labor Day", "Labour Day", "劳动节"),
    ("Dragon Boat Festival", "Dragon Boat", "端午节"),
    ("Mid-Autumn Festival", "Mid-Autumn", "中秋节"),
    ("National Day", "National Day", "国庆节"),
)
SLACK = timedelta(days=2)
"""How far from a festival's day by rule a holiday date of an arrangement may fall and still cover it."""


class Festival(NamedTuple):
    english: str
    chinese: str
    days: tuple[date, ...]  # its statutory days by rule ("observed" substitutes left out)

    @property
    def label(self) -> str:
        return f"{self.english} ({self.chinese})"

    def covered_by(self, holidays_given: set[date]) -> bool:
        slack = range(-SLACK.days, SLACK.days + 1)
        return any(day + timedelta(days=k) in holidays_given for day in self.days for k in slack)


@cache
def statutory_festivals(year: int) -> tuple[Festival, ...]:
    """The statutory festivals of ``year`` with their days, as the ``holidays`` package knows them."""
    known = holidays.China(years=year, language="en_US")
    days: dict[str, list[date]] = {}
    for day in sorted(known):
        for name in known.get_list(day):
            if name.endswith("(observed)"):
                continue
            for prefix, english, _chinese in _FESTIVALS:
                if name.startswith(prefix):
                    days.setdefault(english, []).append(day)
    return tuple(Festival(english, chinese, tuple(days[english]))
                 for _prefix, english, chinese in _FESTIVALS if english in days)


def uncovered_festivals(year: int, holidays_given: Iterable[date]) -> list[Festival]:
    """The festivals of ``year`` that none of ``holidays_given`` covers."""
    given = set(holidays_given)
    return [festival for festival in statutory_festivals(year) if not festival.covered_by(given)]


@cache
def _names(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year, language="zh_CN")


def holiday_name(day: date) -> str:
    """The Chinese name the ``holidays`` package gives ``day`` (e.g. "国庆节"), or ""."""
    return "；".join(_names(day.year).get_list(day))
