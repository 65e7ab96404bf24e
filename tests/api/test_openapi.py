"""The OpenAPI document tells the truth (#12.6): the error shape of API.md, investment_wan as the string it is,
the content types of files and pages, the roles of each call.  tests/api/test_schemathesis.py checks the
document against the answers of every operation."""
import pytest

from agency.api.fields import INT_MAX
from tests.support import ENTRUST

pytestmark = pytest.mark.parametrize("world", ["sqlite"], indirect=True)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def spec(world):
    response = world.app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def resolve(spec, node: dict) -> dict:
    while "$ref" in node:
        _, _, section, name = node["$ref"].split("/")
        node = spec["components"][section][name]
    return node


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation


def test_the_error_component_is_the_shape_of_api_md(spec):
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    detail = resolve(spec, error["properties"]["error"])
    assert set(detail["properties"]) == {"code", "message", "fields"} == set(detail["required"])
    assert detail["properties"]["fields"]["type"] == "object"


def test_every_operation_answers_its_4xx_with_the_error_component(spec):
    for path, method, operation in operations(spec):
        statuses = {int(s) for s in operation["responses"] if s != "default"}
        assert {400, 401} <= statuses, (method, path)
        if "{" in path:
            assert 404 in statuses, (method, path)
        if method != "get" and path != "/api/v1/auth/token":
            assert {403, 409, 422} <= statuses, (method, path)
        for status, response in operation["responses"].items():
            if status == "default" or 400 <= int(status) < 500:
                schema = resolve(spec, response)["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)


PUBLIC = {("/api/v1/auth/token", "post"), ("/api/v1/guide/items", "get"),  # signing in; R19: no sign-in
          ("/api/v1/disclosure/quarterly", "get")}


def test_signing_in_and_the_public_guide_are_public_and_the_rest_needs_a_token(spec):
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    assert [(p, m) for p, m, op in operations(spec) if (p, m) in PUBLIC and op.get("security") != []] == []
    assert [(p, m) for p, m, op in operations(spec) if (p, m) not in PUBLIC and "security" in op] == []


def test_roles_are_documented(spec):
    assert spec["paths"]["/api/v1/projects/{project_id}/assign"]["post"]["x-roles"] == ["director"]
    assert spec["paths"]["/api/v1/tasks/{task_id}/answer"]["post"]["x-roles"] == ["liaison"]
    assert "x-roles" not in spec["paths"]["/api/v1/projects/{project_id}"]["get"]


def test_path_ids_carry_their_columns_bounds(spec):
    project = spec["paths"]["/api/v1/projects/{project_id}"]["parameters"][0]["schema"]
    assert (project["minimum"], project["maximum"]) == (1, INT_MAX)
    task = spec["paths"]["/api/v1/tasks/{task_id}"]["parameters"][0]["schema"]
    assert (task["minimum"], task["maximum"], task["format"]) == (1, 2**63 - 1, "int64")


def test_investment_wan_is_documented_as_the_string_it_is(world, spec):
    schemas = spec["components"]["schemas"]
    for name in ("Project", "ProjectDetail", "EntrustInput"):
        documented = schemas[name]["properties"]["investment_wan"]
        assert (documented["type"], documented["format"]) == ("string", "decimal"), name
    answer = world.as_("enterprise").post("/projects", json={**ENTRUST, "investment_wan": 32000.5})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["investment_wan"] == "32000.50"


@pytest.mark.parametrize("path, content_types", [
    ("/api/v1/projects/{project_id}/contact-card", {"application/json", "image/png", "text/html"}),
    ("/api/v1/meetings/{meeting_id}/invite.ics", {"text/calendar"}),
    ("/api/v1/meetings/{meeting_id}/minutes", {"text/plain"}),
    ("/api/v1/reports/{report_id}.csv", {"text/csv"}),
    ("/api/v1/reports/{report_id}.xlsx", {XLSX}),
    ("/api/v1/results/{task_id}/file", {"application/pdf"}),
    ("/api/v1/results/{task_id}/notice", {"text/html"}),
    ("/api/v1/materials/{file_id}", {"application/pdf", "image/png", "image/jpeg", XLSX,
                                     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}),
])
def test_files_and_pages_have_their_content_types(spec, path, content_types):
    assert set(spec["paths"][path]["get"]["responses"]["200"]["content"]) == content_types


def test_what_is_documented_is_what_is_sent(world):
    """The card in each format it is documented in, and the invitation, answer with that content type."""
    client = world.as_("agent")
    project, meeting = world.ids["project"], world.ids["meeting"]
    assert client.get(f"/projects/{project}/contact-card").mimetype == "application/json"
    assert client.get(f"/projects/{project}/contact-card?format=png").mimetype == "image/png"
    assert client.get(f"/projects/{project}/contact-card?format=html").mimetype == "text/html"
    assert client.get(f"/meetings/{meeting}/invite.ics").mimetype == "text/calendar"


# -- what schemathesis found -------------------------------------------------------------------------

def test_a_liaison_lists_results_without_download_links(world):
    """The list was dumped twice for whoever may not download (a liaison): a 500.  A liaison sees its own
    department's results (agency.people.scope), issued but never their files."""
    response = world.as_("liaison").get(f"/projects/{world.ids['project']}/results")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    results = response.get_json()
    assert all(r["download_url"] is None for r in results)
    assert world.ids["answered_task"] not in {r["task_id"] for r in results}  # another department's
    everything = world.as_("enterprise").get(f"/projects/{world.ids['project']}/results").get_json()
    assert world.ids["answered_task"] in {r["task_id"] for r in everything}
    assert {r["task_id"] for r in results} <= {r["task_id"] for r in everything}


def test_a_checklist_file_has_no_task(world, spec):
    """A file filed once for the project's checklist belongs to no task: task_id is null, as documented."""
    files = world.as_("agent").get(f"/projects/{world.ids['project']}/materials/history").get_json()
    assert files and all(f["task_id"] is None for f in files)
    assert spec["components"]["schemas"]["MaterialFile"]["properties"]["task_id"]["nullable"] is True
