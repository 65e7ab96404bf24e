"""The calendar through its stable interfaces: `flask agency calendar ...` and GET /api/v1/calendar/working-days."""
from datetime import date

import pytest
from sqlalchemy import func, select

from agency.calendar.models import CalendarOverride, CalendarYear
from tests.calendar.arrangements import ARRANGEMENT_2027, ROWS_2027, without


def _agency(app, *args):
    return app.test_cli_runner().invoke(args=["agency", *args])


def _imported(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(CalendarOverride))


# -- import: the existing CSV format, refused when incomplete --


def test_cli_imports_a_complete_arrangement(app, session, tmp_path):
    path = tmp_path / "2027.csv"
    path.write_text(ARRANGEMENT_2027, encoding="utf-8")
    result = _agency(app, "calendar", "import", "2027", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"2027: {ROWS_2027} dates imported"
    assert _imported(session) == ROWS_2027 and session.get(CalendarYear, 2027) is not None


def test_cli_refuses_an_incomplete_arrangement_and_writes_nothing(app, session, tmp_path):
    path = tmp_path / "2027.csv"
    path.write_text(without(ARRANGEMENT_2027, "国庆节"), encoding="utf-8")
    result = _agency(app, "calendar", "import", "2027", str(path))
    assert result.exit_code == 1
    assert "2027: National Day (国庆节) has no holiday date" in result.output
    assert _imported(session) == 0 and session.get(CalendarYear, 2027) is None


# -- dates outside 2004-01-01..2099-12-31: a clear error, never a traceback --


@pytest.mark.parametrize("start, days, fragment", [
    ("2000-01-01", 3, "2000-01-01 is before 2004-01-01"),
    ("2100-01-04", 1, "2100-01-04 is after 2099-12-31"),
    ("2099-12-01", 400, "400 working days after 2099-12-01 fall after 2099-12-31"),
    ("2026-11-23", 99999999, "fall after 2099-12-31"),
])
def test_cli_add_working_days_outside_the_range(app, start, days, fragment):
    result = _agency(app, "calendar", "add-working-days", "--start", start, "--days", str(days))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert fragment in lines[0] and "covers 2004-01-01 to 2099-12-31" in lines[0]


def test_api_working_days(api, make_user):
    client = api(make_user("agent", username="cal.agent"))
    response = client.get("/calendar/working-days?start=2026-09-30&days=1")
    assert response.status_code == 200
    assert response.get_json() == {"date": "2026-10-08", "confirmed": True}


@pytest.mark.parametrize("query, field", [
    ("start=2000-01-01&days=3", None),
    ("start=2100-01-04&days=1", None),
    ("start=2099-12-01&days=400", None),
    ("start=2026-11-23&days=99999999", "days"),
])
def test_api_working_days_outside_the_range_is_400(api, make_user, query, field):
    client = api(make_user("agent", username="cal.agent"))
    response = client.get(f"/calendar/working-days?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_input"
    if field:
        assert field in error["fields"]
    else:
        assert "the working calendar covers 2004-01-01 to 2099-12-31" in error["message"]
