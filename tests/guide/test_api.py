"""The public service guide and quarterly disclosure over JSON (R19): no token, the shapes of API.md,
the figures of the department report, and nothing that names an enterprise or a person."""
import json
from datetime import date

import pytest

from agency.calendar.services import get_calendar
from agency.clock import hall_tz
from agency.supervision import figures
from agency.supervision.figures import Period
from tests.supervision.fixture_week import build_week
from tests.tasks import assert_error

GUIDE_KEYS = {"code", "name", "department", "legal_basis", "materials", "statutory_days", "promised_days", "fee",
              "star", "deemed_consent_allowed", "deferrable_materials", "result_name"}
DISCLOSED_KEYS = {"department", "tasks", "on_time_rate", "deemed_timeout", "red", "satisfaction"}
Q4_2026 = Period(date(2026, 10, 1), date(2026, 12, 31))


@pytest.fixture
def world(session, build, make_user):
    """The hand-computed week of tests/supervision (November 2026, fourth quarter) with named people."""
    agents = (make_user("agent", "fa", name="甲代办员"), make_user("agent", "fb", name="乙代办员"))
    make_user("enterprise", "corp", name="王经理", organization="杭州秘密精工有限公司")
    rows = build_week(build, agents)
    session.commit()
    return rows


NAMES = ("甲代办员", "乙代办员", "王经理", "杭州秘密精工有限公司", "造数公司", "精密机床", "食品科技开办", "联系人")


def names_none(text: str) -> None:
    found = [name for name in NAMES if name in text]
    assert found == [], f"public output names {found}"


def test_guide_needs_no_token_and_has_the_shape_of_api_md(client, catalog):
    response = client.get("/api/v1/guide/items")
    assert response.status_code == 200
    items = response.get_json()
    assert len(items) == 23 and all(GUIDE_KEYS <= set(item) for item in items)
    fgw3 = next(i for i in items if i["code"] == "FGW-03")
    assert {k: fgw3[k] for k in GUIDE_KEYS} == {
        "code": "FGW-03", "name": "固定资产投资项目节能审查", "department": "FGW",
        "legal_basis": "《固定资产投资项目节能审查办法》第三条", "materials": ["节能报告", "项目备案证明"],
        "statutory_days": 20, "promised_days": 10, "fee": "免费", "star": 4, "deemed_consent_allowed": True,
        "deferrable_materials": ["项目备案证明"], "result_name": "节能审查意见"}


def test_guide_of_one_department_and_an_unknown_one(client, catalog):
    codes = [i["code"] for i in client.get("/api/v1/guide/items?department=FGW").get_json()]
    assert codes == ["FGW-01", "FGW-02", "FGW-03"]
    assert_error(client.get("/api/v1/guide/items?department=NOPE"), 400, "bad_input", "department")


def test_public_calls_name_no_enterprise_or_person(client, clock, catalog, world):
    clock.set("2027-01-05T10:00:00+08:00")
    for path in ("/api/v1/guide/items", "/api/v1/disclosure/quarterly", "/api/v1/disclosure/quarterly?quarter=2026Q4"):
        response = client.get(path)
        assert response.status_code == 200
        names_none(json.dumps(response.get_json(), ensure_ascii=False))


def test_disclosure_defaults_to_the_last_closed_quarter_by_the_clock(client, session, clock, catalog, world):
    clock.set("2027-01-05T10:00:00+08:00")
    body = client.get("/api/v1/disclosure/quarterly").get_json()
    assert body["quarter"] == "2026Q4"
    rows = {d["department"]: d for d in body["departments"]}
    assert all(DISCLOSED_KEYS <= set(d) for d in body["departments"])
    # the week of tests/supervision and its two neighbours (T9 Sunday, T10 Saturday): 8 FGW tasks, 5 on time
    assert {k: rows["FGW"][k] for k in DISCLOSED_KEYS} == {
        "department": "FGW", "tasks": 8, "on_time_rate": 0.625, "deemed_timeout": 1, "red": 2, "satisfaction": 3.0}
    assert {k: rows["ZRGH"][k] for k in DISCLOSED_KEYS} == {
        "department": "ZRGH", "tasks": 1, "on_time_rate": 1.0, "deemed_timeout": 0, "red": 0, "satisfaction": None}
    same = figures.department_figures(session, get_calendar(session), Q4_2026, hall_tz())  # the report's figures
    assert [{k: r[k] for k in DISCLOSED_KEYS} for r in same] == [
        {k: d[k] for k in DISCLOSED_KEYS} for d in body["departments"]]

    clock.set("2026-11-23T09:00:00+08:00")  # the fourth quarter is running: the third is the last closed
    body = client.get("/api/v1/disclosure/quarterly").get_json()
    assert body["quarter"] == "2026Q3" and all(d["tasks"] == 0 for d in body["departments"])


@pytest.mark.parametrize("quarter", ["2026Q5", "2026-Q3", "26Q1", "2026q3x", "Q3", "1999Q1", "2026Q4", "2027Q1",
                                     "2030Q2"])
def test_a_malformed_or_unclosed_quarter_is_400(client, clock, catalog, quarter):
    clock.set("2026-12-31T23:59:00+08:00")  # the last minute of 2026Q4: not closed yet
    assert_error(client.get(f"/api/v1/disclosure/quarterly?quarter={quarter}"), 400, "bad_input", "quarter")


def test_a_quarter_is_closed_from_the_first_day_after_it(client, clock, catalog):
    clock.set("2027-01-01T00:00:00+08:00")
    assert client.get("/api/v1/disclosure/quarterly?quarter=2026Q4").get_json()["quarter"] == "2026Q4"
    assert client.get("/api/v1/disclosure/quarterly?quarter=2026Q1").status_code == 200


def test_openapi_documents_the_public_calls(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    guide, disclosure = paths["/api/v1/guide/items"]["get"], paths["/api/v1/disclosure/quarterly"]["get"]
    assert guide["security"] == [] and disclosure["security"] == []
    assert "unknown department" in guide["responses"]["400"]["description"]
    assert "not closed" in disclosure["responses"]["400"]["description"]
    for path in ("/api/v1/reports/visits", "/api/v1/reports/stars"):
        assert path in paths


def test_other_calls_still_need_a_token(client, catalog):
    assert client.get("/api/v1/catalog/items").status_code == 401
    assert client.get("/api/v1/reports/stars").status_code == 401
