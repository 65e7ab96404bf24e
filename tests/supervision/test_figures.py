"""Every ranking figure against numbers worked out by hand (tests/supervision/fixture_week.py)."""
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from agency.calendar.services import get_calendar
from agency.supervision import figures
from agency.supervision.figures import Period
from tests.supervision.fixture_week import build_week

TZ = ZoneInfo("Asia/Shanghai")
WEEK = Period(date(2026, 11, 16), date(2026, 11, 20))


@pytest.fixture
def week(session, build, make_user):
    agents = (make_user("agent", "fa", name="甲代办"), make_user("agent", "fb", name="乙代办"))
    rows = build_week(build, agents)
    session.commit()
    return {"agents": agents, **rows}


def by(rows, key, value):
    return next(r for r in rows if r[key] == value)


def test_department_figures_match_the_hand_computation(session, week):
    rows = figures.department_figures(session, get_calendar(session), WEEK, TZ)
    fgw = by(rows, "department", "FGW")
    assert fgw["tasks"] == 6                      # T1 T2 T3 T4 T6 T8
    assert fgw["on_time"] == 3                    # T1 T2 T6
    assert fgw["on_time_rate"] == 0.5             # 3 / 6
    assert fgw["early"] == 1                      # T1
    assert fgw["early_rate"] == 0.1667            # 1 / 6
    assert fgw["deemed_timeout"] == 1             # T3 (T8 is absence)
    assert fgw["red"] == 1 and fgw["yellow"] == 2 and fgw["second_supplements"] == 1
    assert fgw["avg_working_days"] == 1.83        # (1+3+2+2+1+2) / 6 = 11/6
    assert fgw["avg_promised_days"] == 2.33       # (2+3+2+1+1+5) / 6 = 14/6
    assert fgw["satisfaction"] == 3.67            # (5+2+4) / 3
    assert fgw["ratings"] == 3

    zrgh = by(rows, "department", "ZRGH")
    assert (zrgh["tasks"], zrgh["on_time_rate"], zrgh["early_rate"]) == (1, 1.0, 1.0)
    assert (zrgh["avg_working_days"], zrgh["avg_promised_days"]) == (2.0, 7.0)
    assert (zrgh["red"], zrgh["yellow"], zrgh["satisfaction"]) == (0, 0, None)

    quiet = by(rows, "department", "ZJ")
    assert quiet["tasks"] == 0 and quiet["on_time_rate"] is None and quiet["avg_working_days"] is None
    assert [r["department"] for r in rows] == sorted(r["department"] for r in rows)


def test_period_edges_follow_the_halls_dates(session, week):
    # Sunday 15 November alone: T9 answered 23:59 local, the yellow card at 23:00.
    sunday = figures.department_figures(session, get_calendar(session), Period(date(2026, 11, 15), date(2026, 11, 15)), TZ)
    fgw = by(sunday, "department", "FGW")
    assert (fgw["tasks"], fgw["on_time"], fgw["early"], fgw["yellow"]) == (1, 1, 1, 1)
    # Monday 16 alone: T6, answered at 00:00 local, belongs to Monday.
    monday = figures.department_figures(session, get_calendar(session), Period(date(2026, 11, 16), date(2026, 11, 16)), TZ)
    assert by(monday, "department", "FGW")["tasks"] == 1


def test_agent_figures_match_the_hand_computation(session, week):
    a, b = week["agents"]
    rows = figures.agent_figures(session, get_calendar(session), WEEK, TZ)
    first, second = by(rows, "agent_id", a.id), by(rows, "agent_id", b.id)
    assert first["open"] == 1                     # the project in progress (P3 completed, P5 terminated)
    assert first["completed"] == 2                # P1, P2 (P3 completed on the 25th)
    assert first["avg_working_days"] == 8.5       # (13 + 4) / 2
    assert first["satisfaction"] == 4.5           # (4 + 5) / 2
    assert (second["open"], second["completed"], second["avg_working_days"], second["satisfaction"]) == (0, 1, 1.0, None)


def test_project_type_figures_against_the_3550_target(session, week):
    rows = figures.project_type_figures(session, get_calendar(session), WEEK, TZ)
    startup = by(rows, "project_type", "STARTUP")
    assert (startup["target_days"], startup["completed"], startup["avg_working_days"]) == (3, 2, 2.5)
    assert startup["over_target"] == 1
    assert startup["over_target_projects"] == [{"id": week["p2"].id, "name": "食品科技开办", "project_code": "",
                                                "working_days": 4, "target_days": 3, "over_by": 1}]
    ind = by(rows, "project_type", "IND_PERMIT")
    assert (ind["completed"], ind["avg_working_days"], ind["over_target"], ind["over_target_projects"]) == (1, 13.0, 0, [])
    assert by(rows, "project_type", "COMPLETION")["avg_working_days"] is None


def test_weekly_trend_folds_days_into_weeks(session, week):
    trend = figures.weekly_trend(session, Period(date(2026, 11, 9), date(2026, 11, 20)), TZ)
    assert [w["week"] for w in trend] == [date(2026, 11, 9), date(2026, 11, 16)]
    before, this = trend
    # week of the 9th: T9 (on time, early) and the yellow card of Sunday 23:00
    assert (before["tasks"], before["on_time"], before["early"], before["yellow"], before["red"]) == (1, 1, 1, 1, 0)
    # week of the 16th up to Friday: FGW 6 + ZRGH 1; on time 3 + 1; early 1 + 1; timeout 1; red 1; yellow 2
    assert (this["tasks"], this["on_time"], this["early"], this["deemed_timeout"]) == (7, 4, 2, 1)
    assert (this["red"], this["yellow"]) == (1, 2)
    assert this["on_time_rate"] == round(4 / 7, 4) and this["early_rate"] == round(2 / 7, 4)


def test_working_day_number_differences_are_working_days_between(session):
    calendar = get_calendar(session)
    for a, b in [(date(2026, 9, 30), date(2026, 10, 9)), (date(2026, 11, 13), date(2026, 11, 16)),
                 (date(2025, 12, 31), date(2026, 2, 28))]:
        assert (figures.working_day_number(calendar, b) - figures.working_day_number(calendar, a)
                == calendar.working_days_between(a, b))


def test_a_period_cannot_end_before_it_starts():
    with pytest.raises(ValueError):
        Period(date(2026, 11, 20), date(2026, 11, 16))


def test_monthly_trend_has_every_month_with_satisfaction(session, week):
    trend = figures.monthly_trend(session, Period(date(2026, 10, 15), date(2026, 11, 30)), TZ)
    assert [m["month"] for m in trend] == [date(2026, 10, 1), date(2026, 11, 1)]
    october, november = trend
    assert (october["tasks"], october["on_time_rate"]) == (0, None)
    assert (october["ratings"], october["satisfaction"]) == (0, None)
    # November: FGW T1 T2 T3 T4 T6 T8 T9 T10 and ZRGH Z1 closed; on time T1 T2 T6 T9 T10 Z1
    assert (november["tasks"], november["on_time"], november["on_time_rate"]) == (9, 6, round(6 / 9, 4))
    # every rating of the month, of a department's task or of a project: 5 2 4 1 and 4 5 3
    assert (november["ratings"], november["satisfaction"]) == (7, round(24 / 7, 2))
    assert (november["red"], november["yellow"]) == (2, 3)
