"""Who reads what of a project (DESIGN.md section 3, agency.people.scope): a role x field table, asserted
through the API and through the pages.

Parties: the director, the carrying agent, the former first-contact agent (reassigned away: still reads),
another agent, the enterprise, another enterprise, a liaison of a department with a task (FGW) and one of a
department without one (ZJ).  The world is tests/projects/world.py.
"""
import pytest
from markupsafe import escape
from sqlalchemy import select

from agency.audit.models import AuditEvent
from tests.pages import login, page_client, text
from tests.projects import world as w
from tests.tasks import app, hall, hall_template, shared_app  # noqa: F401  (fixtures: the hall built once per run)

PARTIES = ("director", "agent", "agent2", "agent3", "ent", "ent2", "fgw", "zj")
Y, N = True, False
# what                                 director agent former other  ent   ent2  fgw   zj
MATRIX = [
    ("project",                         Y,       Y,    Y,     N,     Y,    N,    Y,    N),
    ("field:contact_phone",             Y,       Y,    Y,     N,     Y,    N,    N,    N),
    ("field:agreement_method",          Y,       Y,    Y,     N,     Y,    N,    N,    N),
    ("field:delivery_method",           Y,       Y,    Y,     N,     Y,    N,    N,    N),
    ("field:visits",                    Y,       Y,    Y,     N,     Y,    N,    N,    N),
    ("field:project_code",              Y,       Y,    Y,     N,     Y,    N,    Y,    N),
    ("task:FGW-03",                     Y,       Y,    Y,     N,     Y,    N,    Y,    N),
    ("task:ZRGH-01",                    Y,       Y,    Y,     N,     Y,    N,    N,    N),
    ("event:project.entrusted",         Y,       Y,    Y,     N,     Y,    N,    Y,    N),
    ("event:stage.dispatched",          Y,       Y,    Y,     N,     Y,    N,    Y,    N),
    ("event:task.supplement_requested", Y,       Y,    Y,     N,     Y,    N,    Y,    N),
    ("event:task.answered:ZRGH-01",     Y,       Y,    Y,     N,     Y,    N,    N,    N),
    ("event:meeting.scheduled",         Y,       Y,    Y,     N,     Y,    N,    N,    N),
    ("event:complaint.filed",           Y,       N,    N,     N,     Y,    N,    N,    N),
    ("event:rating.given",              Y,       N,    N,     N,     Y,    N,    N,    N),
    ("event:notice.opened",             Y,       N,    N,     N,     Y,    N,    N,    N),
    ("event:project.handover_requested", Y,      Y,    Y,     N,     N,    N,    N,    N),
    ("event:project.assigned",          Y,       Y,    Y,     N,     Y,    N,    N,    N),
    ("event:visit.recorded",            Y,       Y,    Y,     N,     Y,    N,    N,    N),
    ("event:material.filed:FGW",        Y,       Y,    Y,     N,     Y,    N,    Y,    N),
    ("event:material.filed:ZRGH",       Y,       Y,    Y,     N,     Y,    N,    N,    N),
    ("event:shipment.sent",             Y,       Y,    Y,     N,     Y,    N,    N,    N),
    ("checklist:FGW",                   Y,       Y,    Y,     N,     Y,    N,    Y,    N),
    ("checklist:ZRGH",                  Y,       Y,    Y,     N,     Y,    N,    N,    N),
    ("results:ZRGH-01",                 Y,       Y,    Y,     N,     Y,    N,    N,    N),
    ("ratings:ZRGH",                    Y,       N,    N,     N,     Y,    N,    N,    N),
    ("shipments",                       Y,       Y,    Y,     N,     Y,    N,    N,    N),
    ("visits",                          Y,       Y,    Y,     N,     Y,    N,    N,    N),
    ("contact-card",                    Y,       Y,    Y,     N,     Y,    N,    N,    N),
]
PROJECT_GETS = ("", "/timeline", "/materials", "/materials/history", "/results", "/ratings", "/shipments",
                "/visits", "/meetings")


@pytest.fixture
def world(session, hall, clock):  # noqa: F811
    from agency.extensions import limiter
    limiter.reset()  # the shared app counts every test's sign-ins
    clock.set(w.MONDAY + w.timedelta(hours=2))
    return w.build(session, hall)


def _event(session, world, what: str) -> AuditEvent:
    """The one event of P a row names: ``event:<action>`` or ``event:<action>:<item code or department>``."""
    _, action, *which = what.split(":")
    events = session.scalars(select(AuditEvent).where(AuditEvent.project_id == world.p.id,
                                                      AuditEvent.action == action).order_by(AuditEvent.seq)).all()
    if which and which[0] in world.tasks:
        events = [e for e in events if e.object_id == world.tasks[which[0]].id]
    elif which:
        name = w.FGW_MATERIAL if which[0] == "FGW" else w.ZRGH_MATERIAL
        events = [e for e in events if (e.after or {}).get("material") == name]
    assert events, what
    return events[0]


def seen_by_api(session, world, client, what: str) -> bool:
    base = f"/projects/{world.p.id}"
    detail = client.get(base)
    if detail.status_code == 404:
        for suffix in PROJECT_GETS:  # a project it does not see: every read of it is a 404
            assert client.get(base + suffix).status_code == 404, suffix
        return False
    assert detail.status_code == 200
    body = detail.get_json()
    kind, _, name = what.partition(":")
    if kind == "project":
        return True
    if kind == "field":
        return name in body
    if kind == "task":
        return world.tasks[name].id in {t["id"] for t in body["tasks"]}
    if kind == "event":
        event = _event(session, world, what)
        return (event.action, event.detail) in {(e["action"], e["detail"]) for e in client.get(base + "/timeline").get_json()}
    if kind == "checklist":
        material = w.FGW_MATERIAL if name == "FGW" else w.ZRGH_MATERIAL
        names = {e["name"] for e in client.get(base + "/materials").get_json()}
        history = {f["material"] for f in client.get(base + "/materials/history").get_json()}
        assert (material in names) == (material in history), "the checklist and its history agree"
        return material in names
    if kind == "results":
        return world.tasks[name].id in {r["task_id"] for r in client.get(base + "/results").get_json()}
    if kind == "ratings":
        return world.rating.id in {r["id"] for r in client.get(base + "/ratings").get_json()}
    if kind in ("shipments", "visits"):
        return bool(client.get(f"{base}/{kind}").get_json())
    if kind == "contact-card":
        response = client.get(base + "/contact-card")
        assert response.status_code in (200, 404)
        return response.status_code == 200
    raise AssertionError(what)


PAGE_MARKS = {  # what the project page shows of a row, when it shows it at all
    "field:contact_phone": lambda world: "138-0000-0001",
    "field:agreement_method": lambda world: 'class="agreement-state"',
    "task:FGW-03": lambda world: f'id="task-{world.tasks["FGW-03"].id}"',
    "task:ZRGH-01": lambda world: f'id="task-{world.tasks["ZRGH-01"].id}"',
    "ratings:ZRGH": lambda world: w.RATING,
}


def seen_on_page(session, world, client, html: str | None, what: str):
    """True/False as the project page (``html``, None when it was a 404) shows it; None when the page never
    shows that kind of thing."""
    if html is None:
        return False
    if what == "project":
        return True
    if what == "contact-card":
        return client.get(f"/projects/{world.p.id}/card").status_code == 200
    if what.startswith("event:"):
        return str(escape(_event(session, world, what).detail)) in html
    if what in PAGE_MARKS:
        return PAGE_MARKS[what](world) in html
    return None


@pytest.mark.parametrize("party", PARTIES)
def test_read_matrix(session, app, api, world, party):  # noqa: F811
    """Row by row, what ``party`` reads through the API and on the project page is its column of MATRIX."""
    column = PARTIES.index(party)
    expected = {what: row[column] for what, *row in MATRIX}
    client = api(world.people[party])
    assert {what: seen_by_api(session, world, client, what) for what in expected} == expected
    pages = page_client(app)
    assert login(pages, world.people[party].username).status_code == 302
    response = pages.get(f"/projects/{world.p.id}")
    assert response.status_code in (200, 404)
    html = text(response) if response.status_code == 200 else None
    on_page = {what: seen_on_page(session, world, pages, html, what) for what in expected}
    assert {what: seen for what, seen in on_page.items() if seen is not None} == {
        what: expected[what] for what, seen in on_page.items() if seen is not None}


def test_complaint_text_reaches_only_the_enterprise_and_the_director(session, app, api, world):  # noqa: F811
    """The probe's leak in one place: the complaint's words on the liaison's API and page."""
    for party in ("fgw", "agent", "agent2"):
        client = api(world.people[party])
        assert client.get(f"/complaints/{world.complaint.id}").status_code == 404
        assert w.COMPLAINT not in client.get(f"/projects/{world.p.id}/timeline").get_data(as_text=True)
        assert w.COMPLAINT not in client.get(f"/projects/{world.p.id}").get_data(as_text=True)
    pages = page_client(app)
    login(pages, world.people["fgw"].username)
    html = text(pages.get(f"/projects/{world.p.id}"))
    assert w.COMPLAINT not in html and w.RATING not in html and w.ZRGH_OPINION not in html
    assert w.FGW_OPINION in html  # its own department's answer it does read
