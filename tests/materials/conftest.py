"""The online journey (R14-R18) through the API, as the enterprise, its agent and the liaisons drive it.

Every test of this folder runs twice: on the embedded SQLite (the hall copied from its template,
as tests/tasks does) and on the real PostgreSQL (the hall built into the run's database).
"""
import io

import pytest
from sqlalchemy import select

from tests.support import ENTRUST, PDF_BYTES, build_hall
from tests.tasks import fresh_database, hall_template, shared_app  # noqa: F401  (fixtures)

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def api_path(url: str) -> str:
    """An answer's ``/api/v1/...`` URL as the test ApiClient takes it (it adds the prefix)."""
    return url.removeprefix("/api/v1")


class Journey:
    """One project's people over the API; each call asserts its status and returns the body."""

    def __init__(self, people, api, clock, now):
        self.people, self.api, self.clock = people, api, clock
        self.clock.set(now)
        self._clients = {}

    def as_(self, name):
        if name not in self._clients:
            self._clients[name] = self.api(self.people[name])
        return self._clients[name]

    def call(self, who, method, path, status=200, **kw):
        response = getattr(self.as_(who), method)(path, **kw)
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json() if response.is_json else response

    def entrust(self, project_type="IND_PERMIT", enterprise="ent", agent="agent", **overrides) -> dict:
        body = {**ENTRUST, "project_type": project_type, "enterprise_id": self.people[enterprise].id, **overrides}
        return self.call(agent, "post", "/projects", 201, json=body)

    def checklist(self, project_id, who="ent") -> dict[str, dict]:
        return {e["name"]: e for e in self.call(who, "get", f"/projects/{project_id}/materials")}

    def file(self, project_id, name, who="ent", data=PDF_BYTES, filename=None, status=201):
        return self.call(who, "post", f"/projects/{project_id}/materials", status,
                         data={"name": name, "file": (io.BytesIO(data), filename or f"{name}.pdf")},
                         content_type="multipart/form-data")

    def prereview(self, project_id, decisions, who="agent", status=200):
        return self.call(who, "post", f"/projects/{project_id}/prereview", status, json={"decisions": decisions})

    def file_and_accept(self, project_id, names, who="agent"):
        for name in names:
            self.file(project_id, name)
        return self.prereview(project_id, [{"name": n, "accepted": True} for n in names], who=who)

    def sign(self, project_id, enterprise="ent"):
        return self.call(enterprise, "post", f"/projects/{project_id}/agreement")

    def dispatch(self, project_id, agent="agent", status=200, **body):
        return self.call(agent, "post", f"/projects/{project_id}/dispatch", status, json=body)

    def answer(self, task, decision="consent", opinion="", status=200, **body):
        liaison = f"{task['department'].lower()}_a"
        return self.call(liaison, "post", f"/tasks/{task['id']}/answer", status,
                         json={"decision": decision, "opinion": opinion, **body})

    def project(self, project_id, who="ent"):
        return self.call(who, "get", f"/projects/{project_id}")

    def tasks_by_item(self, project_id, who="agent") -> dict[str, dict]:
        return {t["item"]: t for t in self.project(project_id, who)["tasks"]}

    def required_names(self, project_id, items) -> list[str]:
        """Required materials of ``items`` that no result of the project supplies."""
        return [name for name, e in self.checklist(project_id).items()
                if not e["optional"] and not e["issued_by"] and set(e["items"]) & set(items)]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request, monkeypatch):
    """The hall's app on SQLite (a fresh copy of the hall template) or on the run's PostgreSQL."""
    monkeypatch.delenv("AGENCY_NOW", raising=False)
    if request.param == "postgres":
        return request.getfixturevalue("pg_app")
    application, path = request.getfixturevalue("shared_app")
    fresh_database(application, path, request.getfixturevalue("hall_template")[0])
    return application


@pytest.fixture
def hall(app, session, now, request):  # noqa: F811
    """The hall's people: read from the SQLite template, or built on PostgreSQL."""
    from agency.people.models import User
    if session.get_bind().dialect.name == "postgresql":
        return build_hall(session, now)
    names = request.getfixturevalue("hall_template")[1]
    users = {u.username: u for u in session.scalars(select(User))}
    return {name: users[username] for name, username in names.items()}


@pytest.fixture
def journey(hall, api, clock, now):  # noqa: F811
    return Journey(hall, api, clock, now)
