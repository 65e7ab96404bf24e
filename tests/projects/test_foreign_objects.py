"""Every route with an object id, called by a party who must not see that object: 404 (403 where the
route is not its role's), never 200 or 500, and nothing written (DESIGN.md section 3, API.md).

The routes come from ``app.url_map`` (the API's OpenAPI paths and the pages), so a new route is covered
by itself; the objects are tests/projects/world.py's project P and what hangs on it.
"""
import io

import pytest
from sqlalchemy import select

from agency.tasks.models import MaterialFile
from tests.pages import csrf, login, page_client
from tests.projects import world as w
from tests.support import PDF_BYTES
from tests.tasks import app, hall, hall_template, shared_app, snapshot  # noqa: F401  (fixtures)

# Who must not see what: every object of P for an outsider; for the FGW liaison (it sees P itself) ZRGH's
# task, file and notice, the meeting only ZRGH was invited to, and the complaint.
OUTSIDERS = ("ent2", "agent3", "zj", "fgw")
OUTSIDE_P = {"fgw": {"project_id"}}  # arguments whose object the party does see: routes with them are left out
SKIPPED = {"code", "filename"}  # public (tracking code, language, static files): no object to hide
BODIES = {  # valid bodies, so only the access check can refuse (a body the route does not read is ignored)
    "json": {"project_code": "2026-330106-34-03-000009", "paper_signed_on": "2026-11-20", "reason": "x",
             "decisions": [{"name": "x", "accepted": True}], "kind": "joint_review",
             "starts_at": "2026-11-30T10:00:00+08:00", "place": "x", "conclusion": "x",
             "attendance": [{"department_code": "ZRGH", "present": True}], "representative": "x",
             "decision": "consent", "text": "x", "assignee_id": 1, "materials": ["x"], "level": 5,
             "method": "download", "task_ids": [1], "waybill": "x", "on": "2026-11-23", "agent_id": 1,
             "on_leave": True, "skills": ["x"], "body": "x", "internal": True},
}
FILES = {"materials_api.file_material", "enterprise_api.upload_material", "results_api.attach_file"}


@pytest.fixture
def world(session, hall, clock):  # noqa: F811
    from agency.extensions import limiter
    limiter.reset()
    clock.set(w.MONDAY + w.timedelta(hours=2))
    return w.build(session, hall)


def object_ids(session, world) -> dict:
    zrgh_file = session.scalar(select(MaterialFile.id).where(MaterialFile.project_id == world.p.id,
                                                             MaterialFile.material == w.ZRGH_MATERIAL))
    some = world.people["agent"].id  # the director's routes: any id (the role refuses first)
    from agency.people.models import ApiToken
    from agency.people.services import issue_token
    issue_token(session, w.MONDAY, world.people["agent"], hours=24)  # the carrying agent's: never an outsider's to revoke
    session.commit()
    token = session.scalar(select(ApiToken.id).where(ApiToken.user_id == world.people["agent"].id)
                           .order_by(ApiToken.id.desc()))
    from agency.comments.services import add_comment  # an internal comment on ZRGH's task, with its file
    comment = add_comment(session, w.MONDAY, world.people["zrgh"], world.tasks["ZRGH-01"], "内部核实",
                          internal=True, filename="核实.pdf", stream=io.BytesIO(PDF_BYTES))
    session.commit()
    return {"project_id": world.p.id, "task_id": world.tasks["ZRGH-01"].id, "meeting_id": world.meeting.id,
            "complaint_id": world.complaint.id, "notice_id": world.rating.notice.id, "file_id": zrgh_file,
            "shipment_id": world.shipment.id, "agent_id": some, "user_id": some, "department_id": 1,
            "item_id": 1, "type_id": 1, "stage_id": 1, "escalation_id": 1, "report_id": 1, "kind": "csv",
            "token_id": token, "queue": "notifications", "job_id": "outbox-1", "comment_id": comment.id}


def routes(app):  # noqa: F811
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.arguments and not rule.arguments & SKIPPED:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def body_keys(openapi: dict, rule, method: str) -> set[str]:
    """The properties of the route's JSON body in the OpenAPI document (the schemas refuse unknown keys)."""
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<int:{name}>", "{%s}" % name).replace(f"<bigint:{name}>", "{%s}" % name)
    operation = openapi["paths"][path][method.lower()]
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return set(schema.get("properties", {}))


def call(client, token, openapi, rule, method, path):
    api = path.startswith("/api/v1")
    if rule.endpoint in FILES:
        body = {"data": {"name": "x", "material": "x", "file": (io.BytesIO(PDF_BYTES), "x.pdf")}}
    elif api:
        keys = body_keys(openapi, rule, method) if method != "GET" else set()
        body = {"json": {k: v for k, v in BODIES["json"].items() if k in keys}} if method != "GET" else {}
    else:
        body = {"data": {"csrf_token": csrf(client, "/inbox"), **{k: str(v) for k, v in BODIES["json"].items()
                                                                  if isinstance(v, (str, int))}}} if method != "GET" else {}
    if api:
        return getattr(token.client, method.lower())(path, headers=token.headers, **body)
    return getattr(client, method.lower())(path, **body)


@pytest.mark.parametrize("party", OUTSIDERS)
def test_foreign_objects_are_not_found(session, app, api, world, party):  # noqa: F811
    ids = object_ids(session, world)
    token = api(world.people[party])
    client = page_client(app)
    assert login(client, world.people[party].username).status_code == 302
    adapter = app.url_map.bind("localhost")
    openapi = token.get("/openapi.json").get_json()
    before = snapshot(session)
    answers, tried = {}, 0
    for rule, method in routes(app):
        if rule.arguments & OUTSIDE_P.get(party, set()):
            continue
        path = adapter.build(rule.endpoint, {a: ids[a] for a in rule.arguments}, method=method)
        status = call(client, token, openapi, rule, method, path).status_code
        tried += 1
        if status not in (403, 404):
            answers[f"{method} {rule.rule}"] = status
    assert answers == {}
    assert tried > (60 if party != "fgw" else 30)
    assert snapshot(session) == before
