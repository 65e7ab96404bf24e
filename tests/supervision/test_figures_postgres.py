"""The same hand-computed figures on PostgreSQL (the SQL of local dates differs by dialect)."""
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from agency.audit.services import SYSTEM
from agency.calendar.services import get_calendar
from agency.director.workload import agent_loads, workload
from agency.supervision import board, figures
from agency.supervision.figures import Period
from tests.support import SAMPLE_DIR, UserFactory
from tests.supervision.conftest import Builder
from tests.supervision.fixture_week import build_week

pytestmark = pytest.mark.postgres
TZ = ZoneInfo("Asia/Shanghai")
WEEK = Period(date(2026, 11, 16), date(2026, 11, 20))


@pytest.fixture
def pg_week(pg_app, now):
    from agency.catalog.services import import_catalog, import_project_types
    from agency.extensions import db
    with pg_app.app_context():
        session = db.session
        import_catalog(session, now, SYSTEM, (SAMPLE_DIR / "catalog.sample.csv").read_text(encoding="utf-8"))
        import_project_types(session, now, SYSTEM, (SAMPLE_DIR / "project_types.sample.csv").read_text(encoding="utf-8"))
        make = UserFactory(session, now)
        agents = (make("agent", "fa", name="甲代办"), make("agent", "fb", name="乙代办"))
        rows = build_week(Builder(session, now), agents)
        session.commit()
        yield session, agents, rows
        session.rollback()


def test_figures_on_postgres(pg_week):
    session, (a, b), rows = pg_week
    calendar = get_calendar(session)
    fgw = next(r for r in figures.department_figures(session, calendar, WEEK, TZ) if r["department"] == "FGW")
    assert (fgw["tasks"], fgw["on_time_rate"], fgw["early_rate"], fgw["deemed_timeout"]) == (6, 0.5, 0.1667, 1)
    assert (fgw["red"], fgw["yellow"], fgw["second_supplements"]) == (1, 2, 1)
    assert (fgw["avg_working_days"], fgw["avg_promised_days"], fgw["satisfaction"]) == (1.83, 2.33, 3.67)
    first = next(r for r in figures.agent_figures(session, calendar, WEEK, TZ) if r["agent_id"] == a.id)
    assert (first["open"], first["completed"], first["avg_working_days"], first["satisfaction"]) == (1, 2, 8.5, 4.5)
    startup = next(t for t in figures.project_type_figures(session, calendar, WEEK, TZ) if t["project_type"] == "STARTUP")
    assert (startup["completed"], startup["avg_working_days"], startup["over_target"]) == (2, 2.5, 1)
    assert [p["id"] for p in startup["over_target_projects"]] == [rows["p2"].id]
    trend = figures.weekly_trend(session, Period(date(2026, 11, 9), date(2026, 11, 20)), TZ)
    assert [(w["tasks"], w["on_time"], w["early"]) for w in trend] == [(1, 1, 1), (7, 4, 2)]
    months = figures.monthly_trend(session, Period(date(2026, 10, 15), date(2026, 11, 30)), TZ)
    assert [(m["month"], m["tasks"], m["on_time"], m["ratings"], m["satisfaction"]) for m in months] == [
        (date(2026, 10, 1), 0, 0, 0, None), (date(2026, 11, 1), 9, 6, 7, round(24 / 7, 2))]
    assert agent_loads(session)[a.id].open_tasks == 1 and workload(session)[0]["agent_id"] == a.id
    assert sum(d["red"] for d in board.cards_by_department(session, WEEK, TZ)) == 1


def test_visits_and_stars_on_postgres(pg_app, now):
    """R17/R18 figures on PostgreSQL: real projects completed with 0, 1 and 2 visits."""
    from agency.extensions import db
    from tests.support import build_hall
    from tests.supervision.visits_world import build_visits
    with pg_app.app_context():
        session = db.session
        hall = build_hall(session, now)
        projects = build_visits(session, now, hall)
        rows = {r["project_type"]: r for r in figures.visit_figures(session, Period(date(2026, 11, 1),
                                                                                    date(2026, 11, 30)), TZ)}
        real_estate = rows["REAL_ESTATE"]
        assert (real_estate["completed"], real_estate["zero_visit_rate"], real_estate["at_most_one_rate"]) == (
            3, 0.3333, 0.6667)
        assert [(p["project_id"], p["visits"], p["reasons"]) for p in real_estate["over_one"]] == [
            (projects["两次"].id, 2, ["现场核验身份证原件", "补签不动产登记申请表"])]
        assert rows["STARTUP"]["completed"] == 0 and rows["STARTUP"]["zero_visit_rate"] is None
        stars = figures.star_figures(session)
        assert [s["star"] for s in stars] == [1, 2, 3, 4, 5]
        assert sum(s["items"] for s in stars) == 23
        session.rollback()
