"""Fixtures of the enterprise side: the hall of tests/projects, and projects in the states we need."""
import io

import pytest

from tests.projects.conftest import ENTRUST, entrust_body, hall  # noqa: F401  (fixtures)
from tests.web.conftest import client, csrf_token, login  # noqa: F401  (page fixtures)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def file_part(data: bytes, name: str):
    return (io.BytesIO(data), name)


class Hall:
    """Drives the hall through the API as its people would."""

    def __init__(self, people, api, clock, now, session):
        self.people, self.api, self.clock, self.session = people, api, clock, session
        self.clock.set(now)
        self._clients = {}

    def as_(self, name):
        if name not in self._clients:
            self._clients[name] = self.api(self.people[name])
        return self._clients[name]

    def entrust(self, project_type="IND_PERMIT", enterprise="ent", agent="agent", **overrides) -> dict:
        body = {**ENTRUST, "project_type": project_type, "enterprise_id": self.people[enterprise].id, **overrides}
        response = self.as_(agent).post("/projects", json=body)
        assert response.status_code == 201, response.get_json()
        from agency.projects.models import Project
        from tests.support import ready_for_dispatch
        ready_for_dispatch(self.session, self.clock.value, self.session.get(Project, response.get_json()["id"]))
        return response.get_json()

    def dispatch(self, project_id, agent="agent") -> list[dict]:
        response = self.as_(agent).post(f"/projects/{project_id}/dispatch", json={})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["tasks"]

    def answer(self, task: dict, decision="consent", opinion=""):
        liaison = f"{task['department'].lower()}_a"
        response = self.as_(liaison).post(f"/tasks/{task['id']}/answer", json={"decision": decision, "opinion": opinion})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def completed_project(self, enterprise="ent") -> dict:
        """A one-stage, one-task project (不动产登记), answered: completed."""
        project = self.entrust("REAL_ESTATE", enterprise=enterprise)
        for task in self.dispatch(project["id"]):
            self.answer(task)
        detail = self.as_(enterprise).get(f"/projects/{project['id']}").get_json()
        assert detail["status"] == "completed"
        return detail

    def supplement(self, task: dict, materials: list[str]) -> dict:
        liaison = f"{task['department'].lower()}_a"
        response = self.as_(liaison).post(f"/tasks/{task['id']}/supplement", json={"materials": materials})
        assert response.status_code == 200, response.get_json()
        return response.get_json()


@pytest.fixture
def world(hall, api, clock, now, session):  # noqa: F811
    return Hall(hall, api, clock, now, session)
