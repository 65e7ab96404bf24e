"""Visits per project type (R18: 不见面, 最多跑一次) and the catalog's star levels (R17)."""
import csv
from datetime import date

import pytest
from sqlalchemy import select

from agency.calendar.services import get_calendar
from agency.catalog.models import ApprovalItem
from agency.clock import hall_tz
from agency.supervision import figures
from agency.supervision.figures import Period
from tests.support import SAMPLE_DIR
from tests.supervision.visits_world import build_visits

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def visited(session, now, hall):
    return build_visits(session, now, hall)


def test_shares_with_no_visit_and_at_most_one(session, visited):
    rows = {r["project_type"]: r for r in figures.visit_figures(session, NOVEMBER, hall_tz())}
    assert set(rows) == {"COMPLETION", "IND_PERMIT", "REAL_ESTATE", "STARTUP"}  # every type, zeros included
    real_estate = rows["REAL_ESTATE"]
    # three completed (0, 1 and 2 visits); the running project with three visits is not counted
    assert real_estate["completed"] == 3
    assert (real_estate["zero_visit"], real_estate["zero_visit_rate"]) == (1, round(1 / 3, 4))
    assert (real_estate["at_most_one"], real_estate["at_most_one_rate"]) == (2, round(2 / 3, 4))
    assert real_estate["over_one_count"] == 1
    assert real_estate["over_one"] == [{"project_id": visited["两次"].id, "name": "不动产登记两次", "project_code": "", "visits": 2,
                                        "reasons": ["现场核验身份证原件", "补签不动产登记申请表"]}]
    assert rows["STARTUP"] == {"project_type": "STARTUP", "name": "企业开办", "completed": 0, "zero_visit": 0,
                               "zero_visit_rate": None, "at_most_one": 0, "at_most_one_rate": None,
                               "over_one_count": 0, "over_one": []}


def test_visits_count_projects_completed_in_the_period_only(session, visited):
    later = figures.visit_figures(session, Period(date(2026, 11, 24), date(2026, 11, 30)), hall_tz())
    assert all(r["completed"] == 0 and r["over_one"] == [] for r in later)
    day = {r["project_type"]: r for r in figures.visit_figures(session, Period(date(2026, 11, 23), date(2026, 11, 23)),
                                                               hall_tz())}
    assert day["REAL_ESTATE"]["completed"] == 3


def test_the_list_of_projects_over_one_visit_is_bounded_but_the_count_is_not(session, visited):
    rows = {r["project_type"]: r for r in figures.visit_figures(session, NOVEMBER, hall_tz(), over_one_limit=0)}
    assert rows["REAL_ESTATE"]["over_one"] == [] and rows["REAL_ESTATE"]["over_one_count"] == 1


def test_3550_figures_unchanged_by_visits(session, visited):
    types = {r["project_type"]: r for r in figures.project_type_figures(session, get_calendar(session), NOVEMBER,
                                                                        hall_tz())}
    assert types["REAL_ESTATE"]["completed"] == 3  # the same projects as the visits figures


def sample_stars() -> dict[int, int]:
    with open(SAMPLE_DIR / "catalog.sample.csv", encoding="utf-8") as handle:
        stars = [int(row["star"] or 3) for row in csv.DictReader(handle)]
    return {level: stars.count(level) for level in range(1, 6)}


def test_star_levels_of_the_sample_catalog(session, catalog):
    expected = sample_stars()
    total = sum(expected.values())
    rows = figures.star_figures(session)
    assert [r["star"] for r in rows] == [1, 2, 3, 4, 5]  # every level, zeros included
    assert [r["items"] for r in rows] == [expected[level] for level in range(1, 6)]
    assert [r["share"] for r in rows] == [round(expected[level] / total, 4) for level in range(1, 6)]
    assert sum(r["share"] for r in rows) == pytest.approx(1, abs=5e-4)


def test_star_levels_follow_the_catalog(session, catalog):
    item = session.scalar(select(ApprovalItem).where(ApprovalItem.code == "FGW-01"))
    before = {r["star"]: r["items"] for r in figures.star_figures(session)}
    item.star = 1
    session.flush()
    after = {r["star"]: r["items"] for r in figures.star_figures(session)}
    assert after[1] == before[1] + 1 and after[5] == before[5] - 1  # FGW-01 was a 5-star item
    assert sum(r["share"] for r in figures.star_figures(session)) == pytest.approx(1, abs=5e-4)


def test_stars_of_an_empty_catalog(session):
    assert figures.star_figures(session) == [{"star": s, "items": 0, "share": None} for s in range(1, 6)]
