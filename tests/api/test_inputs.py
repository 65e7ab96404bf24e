"""No input answers 500 (#12.5): ids, numbers, dates, sizes and depths out of bounds are 4xx in the error shape
of API.md, on SQLite and on PostgreSQL (which refuses an INTEGER of 2^31 where SQLite stores it)."""
import io

import pytest

from agency.api.body import MAX_JSON_DEPTH
from agency.api.fields import BIGINT_MAX, INT_MAX
from tests.support import ENTRUST, PDF_BYTES, make_app


def assert_error(response, status: int | tuple, code: str | None = None) -> dict:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:300])
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


BEYOND_INT = INT_MAX + 1  # 2^31


@pytest.mark.parametrize("role, method, path", [
    ("director", "get", f"/projects/{BEYOND_INT}"),
    ("director", "get", f"/meetings/{BEYOND_INT}/minutes"),
    ("director", "get", f"/notices/{BEYOND_INT}"),
    ("director", "get", f"/materials/{BEYOND_INT}"),
    ("director", "get", f"/reports/{BEYOND_INT}.csv"),
    ("agent", "post", f"/shipments/{BEYOND_INT}/signed"),
    ("director", "post", f"/agents/{BEYOND_INT}/leave"),
    ("director", "get", f"/results/{BIGINT_MAX + 1}/file"),
    ("director", "get", f"/tasks/{BIGINT_MAX + 1}"),
    ("director", "get", f"/projects/{10**30}"),
    ("director", "get", "/projects/0"),
])
def test_a_path_id_beyond_its_column_is_not_found(world, role, method, path):
    response = getattr(world.as_(role), method)(path, json={"on_leave": True})
    assert_error(response, 404, "not_found")


def test_a_task_id_beyond_2_31_is_a_task_id_like_any_other(world):
    """tasks.id is a BIGINT: an id past 2^31 reaches the handler (and is simply not there)."""
    error = assert_error(world.as_("director").get(f"/results/{BEYOND_INT}/file"), 404, "not_found")
    assert str(BEYOND_INT) in error["message"]  # the handler's message, not the router's
    assert_error(world.as_("director").get(f"/tasks/{BEYOND_INT}"), 404, "not_found")


@pytest.mark.parametrize("role, method, path, body, field", [
    ("director", "get", f"/tasks?project_id={BEYOND_INT}", None, "project_id"),
    ("director", "post", "/projects/{project}/assign", {"agent_id": BEYOND_INT}, "agent_id"),
    ("director", "post", "/agents/{agent_user}/leave", {"on_leave": True, "reassign_to": BEYOND_INT}, "reassign_to"),
    ("enterprise", "post", "/complaints", {"project_id": BEYOND_INT, "text": "慢"}, "project_id"),
    ("agent", "post", "/projects", {**ENTRUST, "enterprise_id": BEYOND_INT}, "enterprise_id"),
    ("agent", "post", "/projects/{project}/shipments", {"task_ids": [BIGINT_MAX + 1], "waybill": "SF1"}, "task_ids"),
    ("agent", "post", "/projects/{project}/visits", {"on": "0001-01-01", "reason": "补件"}, "on"),
    ("agent", "post", "/projects/{project}/meetings",
     {"kind": "joint_review", "starts_at": "0001-01-01T00:00:00+14:00", "place": "三楼"}, "starts_at"),
    ("agent", "post", "/projects/{project}/meetings",
     {"kind": "joint_review", "starts_at": "9999-12-31T23:59:59-12:00", "place": "三楼"}, "starts_at"),
    ("director", "get", "/meetings?start=0001-01-01", None, "start"),
    ("director", "get", "/reports/departments?from=0001-01-01&to=9999-12-31", None, "from"),
    ("director", "get", "/supervision/cards?from=0001-01-01", None, "from"),
    ("director", "get", "/calendar/working-days?start=2000-01-01&days=3", None, "start"),
    ("enterprise", "post", "/projects", {**ENTRUST, "investment_wan": "1e20"}, "investment_wan"),
    ("enterprise", "post", "/projects", {**ENTRUST, "investment_wan": 1e300}, "investment_wan"),
    ("enterprise", "post", "/projects", {**ENTRUST, "investment_wan": "1e999999999"}, "investment_wan"),
    ("enterprise", "post", "/projects", {**ENTRUST, "investment_wan": "NaN"}, "investment_wan"),
])
def test_an_id_number_or_date_out_of_bounds_is_400_naming_the_field(world, role, method, path, body, field):
    path = path.format(**world.ids)
    client = world.as_(role)
    response = client.get(path) if method == "get" else client.post(path, json=body)
    error = assert_error(response, 400, "bad_input")
    assert field in error["fields"], error


def test_the_calendar_says_its_range(world):
    error = assert_error(world.as_("agent").get("/calendar/working-days?start=2000-01-01&days=3"), 400)
    assert "the working calendar covers 2004-01-01 to 2099-12-31" in error["message"]
    assert world.as_("agent").get("/calendar/working-days?start=2004-01-02&days=1").status_code == 200


def test_deep_json_is_400(world):
    client = world.as_("director")
    path = "/projects/{project}/assign".format(**world.ids)
    error = assert_error(client.post(path, data="[" * 100_000, content_type="application/json"), 400, "bad_input")
    assert f"more than {MAX_JSON_DEPTH}" in error["message"]
    nested = 1
    for _ in range(MAX_JSON_DEPTH):
        nested = [nested]
    deep = {"agent_id": world.ids["agent_user"], "x": nested}  # the object, then 32 lists: 33 deep
    assert_error(client.post(path, json=deep), 400, "bad_input")
    shallow = {"agent_id": world.ids["agent_user"], "x": [[1]]}  # an unknown key, but a sane depth
    assert client.post(path, json=shallow).status_code != 500


@pytest.mark.parametrize("text", ["a\x00b", "\ud800"])
def test_text_no_database_stores_is_400(world, text):
    client = world.as_("enterprise")
    complaint = {"project_id": world.ids["project"], "text": text}
    assert_error(client.post("/complaints", json=complaint), 400, "bad_input")
    assert_error(client.get("/projects?q=" + "a%00b"), 400, "bad_input")
    assert_error(client.post("/projects", json={**ENTRUST, "name": text}), 400, "bad_input")


def test_a_json_body_over_its_limit_is_413(world):
    limit = world.app.config["MAX_JSON_BYTES"]
    response = world.as_("enterprise").post("/projects", json={**ENTRUST, "name": "x" * limit})
    assert_error(response, 413, "too_large")


def test_an_upload_over_the_request_limit_is_413_in_the_error_shape(tmp_path, sqlite_template):
    """Werkzeug refuses a body over MAX_CONTENT_LENGTH before any handler: still the error shape on the API."""
    import shutil
    shutil.copy(sqlite_template, tmp_path / "a.db")
    app = make_app(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, MAX_UPLOAD_BYTES=1024, MAX_CONTENT_LENGTH=2048)
    from tests.api.conftest import build_world
    world = build_world(app)
    big = (PDF_BYTES * 200)[:4096]
    response = world.as_("enterprise").post(f"/projects/{world.ids['project']}/materials",
                                            data={"name": "x", "file": (io.BytesIO(big), "big.pdf")})
    assert_error(response, 413, "too_large")
    page = app.test_client().post(f"/tasks/{world.ids['task']}/materials?field=upload-1-1",
                                  data={"file": (io.BytesIO(big), "big.pdf")})
    # a page goes back to its form (#13.4: tests/comments/test_pages.py), with no JSON
    assert page.status_code == 303 and page.mimetype == "text/html" and page.headers["Location"].endswith("#upload-1-1")


def test_405_names_the_allowed_methods(world):
    response = world.as_("director").put("/projects")
    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    response = world.as_("director").delete("/projects/{project}".format(**world.ids))
    assert_error(response, 405)
    assert "PATCH" in response.headers["Allow"]


# -- every operation of the OpenAPI document -------------------------------------------------------------

def operations(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation, item.get("parameters", []) + operation.get("parameters", [])


def caller_for(world, operation) -> str:
    allowed = operation.get("x-roles")
    return "director" if not allowed or "director" in allowed else allowed[0]


def test_every_route_answers_4xx_to_ids_out_of_range(world):
    """Each operation, with each path id just past its column's range and far past it: 404, never 500."""
    checked = 0
    for path, method, operation, parameters in operations(world.app):
        ids = [p for p in parameters if p["in"] == "path"]
        if not ids:
            continue
        client = world.as_(caller_for(world, operation))
        for value in ({p["name"]: p["schema"]["maximum"] + 1 for p in ids}, {p["name"]: 10**40 for p in ids},
                      {p["name"]: 0 for p in ids}):
            url = path.removeprefix("/api/v1").format(**value)
            assert_error(getattr(client, method)(url, json={}), 404, "not_found")
            checked += 1
    assert checked > 3 * 40


def test_every_route_answers_4xx_to_bad_bodies_and_queries(world):
    """Each operation, with real ids, called by a role it is for: a deep body, a body that is not JSON, text with
    NUL, and every integer query parameter out of range: 4xx in the error shape, never 500."""
    checked = 0
    for path, method, operation, parameters in operations(world.app):
        values = {p["name"]: world.ids["answered_task" if p["name"] == "task_id" else "project"] for p in parameters
                  if p["in"] == "path"}
        url = path.removeprefix("/api/v1").format(**values)
        client = world.as_(caller_for(world, operation))
        if "requestBody" in operation:
            for raw in ("[" * 5000, "{" * 50, '{"a": "\\u0000"}', "not json", '{"a": 1e999999}'):
                response = getattr(client, method)(url, data=raw, content_type="application/json")
                assert 400 <= response.status_code < 500, (method, url, raw[:10], response.status_code)
                assert_error(response, response.status_code)
                checked += 1
        for parameter in parameters:
            if parameter["in"] == "query" and parameter["schema"].get("type") == "integer":
                too_big = parameter["schema"].get("maximum", INT_MAX) + 1
                response = getattr(client, method)(f"{url}?{parameter['name']}={too_big}")
                assert_error(response, 400, "bad_input")
                checked += 1
    assert checked > 100
