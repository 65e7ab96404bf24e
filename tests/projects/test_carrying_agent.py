"""Only the carrying agent acts (R7, #12.2): the first contact, reassigned away, still reads but every
agent's state-changing route refuses it (403, or 404) and writes nothing."""
import io

import pytest

from tests.pages import csrf, login, page_client
from tests.projects import world as w
from tests.support import PDF_BYTES
from tests.tasks import app, hall, hall_template, shared_app, snapshot  # noqa: F401  (fixtures)

LATER = "2026-11-30T10:00:00+08:00"


def _pdf():
    return (io.BytesIO(PDF_BYTES), "file.pdf")


# endpoint -> (method, path, body): the routes an agent changes a project's state through.
# ``json`` bodies are valid, so only the carrying-agent check can refuse them.
def agent_actions(world) -> dict:
    p, m, s = world.p.id, world.meeting.id, world.shipment.id
    fgw03, zrgh02 = world.tasks["FGW-03"].id, world.tasks["ZRGH-02"].id
    return {
        "projects_api.update": ("patch", f"/api/v1/projects/{p}", {"json": {"project_code": "2026-330106-34-03-000009"}}),
        "projects_api.sign_agreement": ("post", f"/api/v1/projects/{p}/agreement", {"json": {"paper_signed_on": "2026-11-20"}}),
        "projects_api.dispatch": ("post", f"/api/v1/projects/{p}/dispatch", {"json": {}}),
        "materials_api.file_material": ("post", f"/api/v1/projects/{p}/materials",
                                        {"data": {"name": w.FGW_MATERIAL, "file": _pdf()}}),
        "materials_api.prereview": ("post", f"/api/v1/projects/{p}/prereview",
                                    {"json": {"decisions": [{"name": w.FGW_MATERIAL, "accepted": False, "reason": "x"}]}}),
        "meetings_api.schedule": ("post", f"/api/v1/projects/{p}/meetings",
                                  {"json": {"kind": "joint_review", "starts_at": LATER, "place": "x"}}),
        "meetings_api.reschedule": ("post", f"/api/v1/meetings/{m}/reschedule", {"json": {"starts_at": LATER}}),
        "meetings_api.cancel": ("post", f"/api/v1/meetings/{m}/cancel", {"json": {"reason": "x"}}),
        "meetings_api.record_attendance": ("post", f"/api/v1/meetings/{m}/record",
                                           {"json": {"attendance": [{"department_code": "ZRGH", "present": True}]}}),
        "meetings_api.close": ("post", f"/api/v1/meetings/{m}/close", {"json": {"conclusion": "x"}}),
        "tasks_api.materials_supplied": ("post", f"/api/v1/tasks/{fgw03}/materials-supplied", {"json": {}}),
        "enterprise_api.upload_material": ("post", f"/api/v1/tasks/{fgw03}/materials",
                                           {"data": {"material": "节能报告（修订稿）", "file": _pdf()}}),
        "results_api.ship": ("post", f"/api/v1/projects/{p}/shipments", {"json": {"task_ids": [zrgh02], "waybill": "SF9"}}),
        "results_api.signed": ("post", f"/api/v1/shipments/{s}/signed", {"json": {}}),
        "visits_api.record": ("post", f"/api/v1/projects/{p}/visits", {"json": {"on": "2026-11-23", "reason": "x"}}),
        "projects_api.suspend": ("post", f"/api/v1/projects/{p}/suspend", {"json": {"reason": "x"}}),
        "projects_api.resume": ("post", f"/api/v1/projects/{p}/resume", {"json": {}}),
        "projects_api.end": ("post", f"/api/v1/projects/{p}/end", {"json": {"reason": "x"}}),
        "tasks_api.resubmit": ("post", f"/api/v1/tasks/{zrgh02}/resubmit", {"json": {"note": "x"}}),
        "comments_api.add_comment": ("post", f"/api/v1/tasks/{fgw03}/comments", {"json": {"body": "x", "internal": True}}),
        # pages (forms with the session's CSRF token)
        "projects.dispatch": ("post", f"/projects/{p}/dispatch", {"data": {"pick": ""}}),
        "projects.materials_supplied": ("post", f"/projects/{p}/tasks/{fgw03}/materials-supplied", {"data": {}}),
        "projects.handover": ("post", f"/projects/{p}/handover", {"data": {"note": "x"}}),
        "enterprise.upload": ("post", f"/tasks/{fgw03}/materials", {"data": {"material": "节能报告（修订稿）", "file": _pdf()}}),
        "meetings.schedule": ("post", f"/meetings/new?project={p}",
                              {"data": {"kind": "joint_review", "starts_at": "2026-11-30T10:00", "place": "x"}}),
        "meetings.reschedule": ("post", f"/meetings/{m}/reschedule", {"data": {"starts_at": "2026-11-30T10:00"}}),
        "meetings.cancel": ("post", f"/meetings/{m}/cancel", {"data": {"reason": "x"}}),
        "meetings.record": ("post", f"/meetings/{m}/record", {"data": {}}),
        "comments.add": ("post", f"/tasks/{fgw03}/comments", {"data": {"body": "x", "visibility": "internal"}}),
        "meetings.close": ("post", f"/meetings/{m}/close", {"data": {"conclusion": "x"}}),
        "projects.suspend": ("post", f"/projects/{p}/suspend", {"data": {"text": "x"}}),
        "projects.resume": ("post", f"/projects/{p}/resume", {"data": {}}),
        "projects.end": ("post", f"/projects/{p}/end", {"data": {"text": "x"}}),
        "projects.resubmit": ("post", f"/projects/{p}/tasks/{zrgh02}/resubmit", {"data": {"text": "x"}}),
        "projects.paper_agreement": ("post", f"/projects/{p}/agreement/paper", {"data": {"signed_on": "2026-11-20"}}),
        "projects.set_code": ("post", f"/projects/{p}/code", {"data": {"project_code": "2026-330106-34-03-000009"}}),
        "materials.file": ("post", f"/projects/{p}/materials", {"data": {"name": w.FGW_MATERIAL, "file": _pdf()}}),
        "materials.prereview": ("post", f"/projects/{p}/prereview", {"data": {
            "decisions-0-name": w.FGW_MATERIAL, "decisions-0-decision": "return", "decisions-0-reason": "x"}}),
        "results.ship": ("post", f"/projects/{p}/shipments", {"data": {"task_ids": str(zrgh02), "waybill": "SF9"}}),
        "results.signed": ("post", f"/shipments/{s}/signed", {"data": {}}),
        "visits.record": ("post", f"/projects/{p}/visits", {"data": {"on": "2026-11-23", "reason": "x"}}),
    }


# Every other state-changing route, and why it is not an agent's action on a project it carries.
NOT_AGENT_ACTIONS = {
    "auth_api.token": "signing in", "people.login": "signing in", "people.logout": "signing out",
    "web.set_language": "a preference", "notifications.read_all": "one's own inbox",
    "projects_api.entrust": "a new project", "projects.entrust": "a new project",
    "projects_api.assign": "director", "projects.assign": "director", "director_api.agent_leave": "director",
    "director_api.agent_skills": "director", "enterprise_api.assign_complaint": "director",
    "enterprise.assign_complaint": "director", "supervision.resolve": "director",
    "enterprise_api.answer_complaint": "the complaint's assignee (named by the director), not the project's agent",
    "enterprise.answer_complaint": "the complaint's assignee (named by the director), not the project's agent",
    "enterprise_api.reply_notice": "the notice's addressee (the agent it names, even after a reassignment)",
    "enterprise.notice": "the notice's addressee (the agent it names, even after a reassignment)",
    "projects_api.withdraw": "enterprise", "projects.withdraw": "enterprise", "projects.sign_agreement": "enterprise",
    "enterprise_api.rate": "enterprise", "enterprise.rate": "enterprise", "results_api.choose_delivery": "enterprise",
    "enterprise_api.file_complaint": "enterprise", "enterprise.complaints": "enterprise",
    "tasks_api.accept": "liaison", "tasks_api.answer": "liaison", "tasks_api.supplement": "liaison",
    "results_api.attach_file": "liaison", "tasks.accept": "liaison", "tasks.answer": "liaison",
    "tasks.supplement": "liaison", "meetings_api.confirm": "liaison", "meetings_api.opinion": "liaison",
    "meetings.confirm": "liaison", "meetings.opinion": "liaison", "tasks.result_file": "liaison",
    "results.choose_delivery": "enterprise",
    "auth_api.password": "one's own account", "auth_api.revoke": "one's own token", "auth_api.sign_out": "signing out",
    "people.change_password": "one's own account", "people.revoke_own_token": "one's own token",
    "people.deactivate": "director", "people.reactivate": "director", "people.user": "director",
    "people.revoke_token": "director", "users_api.deactivate": "director", "users_api.reactivate": "director",
    "ops.retry": "director",
}
DIRECTOR_PAGES = ("director.",)  # the director's area: every route of it is the director's


@pytest.fixture
def world(session, hall, clock):  # noqa: F811
    from agency.extensions import limiter
    limiter.reset()
    clock.set(w.MONDAY + w.timedelta(hours=2))
    return w.build(session, hall)


def test_every_state_changing_route_is_classified(app, world):  # noqa: F811
    """A new route that changes state must say whether an agent acts through it (and then be tested below)."""
    changing = {rule.endpoint for rule in app.url_map.iter_rules() if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}}
    changing = {e for e in changing if not e.startswith(DIRECTOR_PAGES)}
    assert changing - set(agent_actions(world)) - set(NOT_AGENT_ACTIONS) == set()
    assert set(agent_actions(world)) & set(NOT_AGENT_ACTIONS) == set()


def test_the_former_first_contact_agent_reads_but_never_acts(session, app, api, world):  # noqa: F811
    former = world.people["agent2"]
    assert world.p.first_contact_agent_id == former.id and world.p.agent_id == world.people["agent"].id
    token = api(former)
    assert token.get(f"/projects/{world.p.id}").status_code == 200  # the first-contact rule: it still reads
    pages = page_client(app)
    assert login(pages, former.username).status_code == 302
    refused = {}
    for endpoint, (method, path, body) in agent_actions(world).items():
        before = snapshot(session)
        if path.startswith("/api/v1"):
            kwargs = dict(body)
            response = getattr(token.client, method)(path, headers=token.headers, **kwargs)
        else:
            response = getattr(pages, method)(path, data={"csrf_token": csrf(pages, "/inbox"), **body["data"]})
        refused[endpoint] = response.status_code
        assert snapshot(session) == before, f"{endpoint} wrote something"
    assert {e: s for e, s in refused.items() if s not in (403, 404)} == {}


def test_the_carrying_agent_does_act(session, api, world):
    """The control: the same call as the carrying agent restarts the clock."""
    response = api(world.people["agent"]).post(f"/tasks/{world.tasks['FGW-03'].id}/materials-supplied")
    assert response.status_code == 200 and response.get_json()["status"] == "accepted"
