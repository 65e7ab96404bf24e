"""The comment tests run on SQLite and PostgreSQL, with the hall and API journey of tests/materials."""
import pytest

from tests.materials.conftest import Journey, app, hall, journey  # noqa: F401  (fixtures: sqlite and postgres)
from tests.tasks import fresh_database, hall_template, shared_app  # noqa: F401  (fixtures)


@pytest.fixture
def dispatched(journey):
    """A project with its first stage dispatched: {"project": id, "fgw": FGW-01's task, "zrgh": ZRGH-01's task}."""
    project = journey.entrust()
    journey.sign(project["id"])
    stage_one = ["FGW-01", "FGW-03", "ZRGH-01", "ZRGH-02"]
    journey.file_and_accept(project["id"], journey.required_names(project["id"], stage_one))
    journey.call("ent", "patch", f"/projects/{project['id']}", json={"project_code": "2026-330106-34-03-000001"})
    journey.dispatch(project["id"])
    tasks = journey.tasks_by_item(project["id"])
    return {"project": project["id"], "fgw": tasks["FGW-01"], "zrgh": tasks["ZRGH-01"]}
