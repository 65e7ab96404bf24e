"""The project API: entrust, read, assign, dispatch, withdraw, with the error shape of API.md."""
import pytest
from sqlalchemy import select

from agency.notifications.models import Message
from agency.projects.models import ContactCard, Project
from agency.tasks.models import Task
from tests.support import ready_for_dispatch
from tests.tasks import (  # noqa: F401  (fixtures)
    app,
    assert_error,
    audit_actions,
    entrust,
    hall,
    hall_template,
    inbox,
    shared_app,
    snapshot,
    start,
)


@pytest.fixture(autouse=True)
def monday(app, clock, now):  # noqa: F811  (after app, which clears AGENCY_NOW)
    clock.set(now)


def _entrust(api, user, body, **extra):
    return api(user).post("/projects", json={**body, **extra})


# -- entrust ---------------------------------------------------------------------------------------------


def test_an_enterprise_entrusts_its_own_project(api, session, hall, entrust_body):  # noqa: F811
    response = _entrust(api, hall["ent"], entrust_body)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert {k: body[k] for k in ("status", "first_contact_agent_id", "agent_id", "enterprise_id", "project_type")} == {
        "status": "entrusted", "first_contact_agent_id": None, "agent_id": None, "enterprise_id": hall["ent"].id,
        "project_type": "IND_PERMIT"}
    assert isinstance(body["id"], int) and body["tracking_code"].startswith("DB")
    assert body["agreement_accepted_at"] == "2026-11-23T09:00:00+08:00"
    assert [s["status"] for s in body["stages"]] == ["waiting", "waiting", "waiting"]
    assert body["target_days"] == 50 and body["tasks"] == []
    project = session.get(Project, body["id"])
    assert (project.name, str(project.investment_wan), project.contact_phone) == (
        entrust_body["name"], "32000.00", entrust_body["contact_phone"])
    assert session.scalar(select(ContactCard).where(ContactCard.project_id == project.id)) is None
    assert audit_actions(session, project.id) == ["project.entrusted"]


def test_an_agent_entrusts_on_behalf_of_an_enterprise_and_is_its_first_contact(api, session, hall, entrust_body):  # noqa: F811
    response = _entrust(api, hall["agent"], entrust_body, enterprise_id=hall["ent"].id)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["status"], body["first_contact_agent_id"], body["agent_id"], body["enterprise_id"]) == (
        "entrusted", hall["agent"].id, hall["agent"].id, hall["ent"].id)
    assert body["agreement_accepted_at"] is None  # the enterprise signs the agreement itself
    card = api(hall["ent"]).get(f"/projects/{body['id']}/contact-card").get_json()
    assert (card["agent_name"], card["tracking_code"], card["void"]) == ("agent", body["tracking_code"], False)


@pytest.mark.parametrize("changes, field", [
    ({"project_type": "SPACESHIP"}, "project_type"), ({"name": ""}, "name"), ({"contact_phone": "call me"}, "contact_phone"),
    ({"investment_wan": "-1"}, "investment_wan"), ({"investment_wan": "lots"}, "investment_wan"),
    ({"investment_wan": "1e20"}, "investment_wan"), ({"investment_wan": 1e20}, "investment_wan"),
    ({"investment_wan": "10000000000"}, "investment_wan"), ({"investment_wan": "9999999999.996"}, "investment_wan"),
    ({"investment_wan": "NaN"}, "investment_wan"), ({"investment_wan": "Infinity"}, "investment_wan"),
    ({"investment_wan": "-Infinity"}, "investment_wan"), ({"investment_wan": "1e999999999"}, "investment_wan")])
def test_bad_entrustment_is_400_and_changes_nothing(api, session, hall, entrust_body, changes, field):  # noqa: F811
    before = snapshot(session)
    assert_error(_entrust(api, hall["ent"], {**entrust_body, **changes}), 400, "bad_input", field)
    assert snapshot(session) == before


def test_investment_is_bounded_by_its_column_with_a_clear_error(api, session, hall, entrust_body):  # noqa: F811
    too_big = _entrust(api, hall["ent"], {**entrust_body, "investment_wan": "1e20"})
    assert too_big.get_json()["error"]["fields"] == {"investment_wan": ["0 to 9999999999.99 (万元)"]}
    nan = _entrust(api, hall["ent"], {**entrust_body, "investment_wan": "NaN"})
    assert nan.get_json()["error"]["fields"] == {"investment_wan": ["a finite number of 万元 is required"]}
    largest = _entrust(api, hall["ent"], {**entrust_body, "investment_wan": "9999999999.99"})
    assert largest.status_code == 201, largest.get_json()
    assert largest.get_json()["investment_wan"] == "9999999999.99"
    session.expire_all()
    assert str(session.get(Project, largest.get_json()["id"]).investment_wan) == "9999999999.99"


def test_an_agent_must_name_a_real_enterprise(api, session, hall, entrust_body):  # noqa: F811
    before = snapshot(session)
    assert_error(_entrust(api, hall["agent"], entrust_body), 400, "bad_input", "enterprise_id")
    assert_error(_entrust(api, hall["agent"], entrust_body, enterprise_id=hall["agent2"].id), 400, "bad_input",
                 "enterprise_id")
    assert_error(_entrust(api, hall["ent"], entrust_body, enterprise_id=hall["ent2"].id), 400, "bad_input",
                 "enterprise_id")
    fields = assert_error(_entrust(api, hall["agent"], {**entrust_body, "project_type": "NOPE"},
                                   enterprise_id=hall["ent"].id), 400, "bad_input")
    assert set(fields) == {"project_type"}
    assert_error(_entrust(api, hall["fgw_a"], entrust_body), 403, "forbidden")
    assert_error(_entrust(api, hall["director"], entrust_body), 403, "forbidden")
    assert snapshot(session) == before


# -- reading -----------------------------------------------------------------------------------------------


def test_projects_are_scoped_to_the_caller(api, session, now, hall):  # noqa: F811
    mine, tasks = start(session, now, hall)
    theirs = entrust(session, now, hall, by="ent2", enterprise="ent2", name="乙公司厂房")

    def ids(user, path="/projects"):
        return sorted(p["id"] for p in api(hall[user]).get(path).get_json())

    assert ids("ent") == [mine.id] and ids("ent2") == [theirs.id]
    assert ids("agent") == [mine.id] and ids("agent2") == []
    assert ids("director") == sorted([mine.id, theirs.id])
    assert ids("fgw_a") == [mine.id] and ids("zj_a") == []
    assert ids("director", "/projects?status=in_progress") == [mine.id]
    assert ids("director", "/projects?status=entrusted") == [theirs.id]
    assert_error(api(hall["director"]).get("/projects?status=lost"), 400, "bad_input", "status")
    before = snapshot(session)
    for path in ("", "/timeline", "/contact-card"):
        assert_error(api(hall["ent"]).get(f"/projects/{theirs.id}{path}"), 404, "not_found")
        assert_error(api(hall["ent2"]).get(f"/projects/{mine.id}{path}"), 404, "not_found")
        assert_error(api(hall["agent2"]).get(f"/projects/{mine.id}{path}"), 404, "not_found")
    assert_error(api(hall["ent"]).get("/projects/999999"), 404, "not_found")
    assert snapshot(session) == before
    detail = api(hall["ent"]).get(f"/projects/{mine.id}").get_json()
    assert [(s["order"], s["status"]) for s in detail["stages"]] == [(1, "open"), (2, "waiting"), (3, "waiting")]
    assert sorted(t["item"] for t in detail["tasks"]) == ["FGW-01", "FGW-03", "ZRGH-01", "ZRGH-02"]
    assert detail["working_days_elapsed"] == 0


# -- dispatch ----------------------------------------------------------------------------------------------


@pytest.fixture
def carried(session, now, hall):  # noqa: F811
    """ent's IND_PERMIT project, carried by agent (its first contact), nothing dispatched yet."""
    return entrust(session, now, hall)


def test_the_agent_dispatches_stage_one(api, session, hall, carried, run_jobs):  # noqa: F811
    response = api(hall["agent"]).post(f"/projects/{carried.id}/dispatch", json={})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["stage"]["order"], body["stage"]["status"]) == (1, "open")
    assert {(t["item"], t["department"], t["status"], t["deadline"]) for t in body["tasks"]} == {
        ("FGW-01", "FGW", "pending", "2026-11-24T17:30:00+08:00"),
        ("FGW-03", "FGW", "pending", "2026-12-07T17:30:00+08:00"),
        ("ZRGH-01", "ZRGH", "pending", "2026-12-07T17:30:00+08:00"),
        ("ZRGH-02", "ZRGH", "pending", "2026-12-02T17:30:00+08:00")}
    assert session.get(Project, carried.id).status == "in_progress"
    run_jobs()
    assert inbox(session, hall["fgw_a"]) == ["新办件：企业投资项目备案", "新办件：固定资产投资项目节能审查"]
    assert len(inbox(session, hall["zrgh_a"])) == 2
    assert inbox(session, hall["fgw_b"]) == [] and inbox(session, hall["zj_a"]) == []


def test_dispatch_of_chosen_items(api, session, hall, carried):  # noqa: F811
    body = api(hall["agent"]).post(f"/projects/{carried.id}/dispatch", json={"items": ["ZRGH-01", "FGW-01"]}).get_json()
    assert sorted(t["item"] for t in body["tasks"]) == ["FGW-01", "ZRGH-01"]


@pytest.mark.parametrize("items", [["FGW-01", "ZJ-02"], ["NOPE-01"], [], "FGW-01"])
def test_dispatch_of_unknown_items_is_400_and_changes_nothing(api, session, hall, carried, items):  # noqa: F811
    before = snapshot(session)
    assert_error(api(hall["agent"]).post(f"/projects/{carried.id}/dispatch", json={"items": items}), 400,
                 "bad_input", "items")
    assert snapshot(session) == before


def test_who_may_dispatch(api, session, hall, carried):  # noqa: F811
    before = snapshot(session)
    assert_error(api(hall["agent2"]).post(f"/projects/{carried.id}/dispatch", json={}), 404, "not_found")
    assert_error(api(hall["director"]).post(f"/projects/{carried.id}/dispatch", json={}), 403, "forbidden")
    assert_error(api(hall["ent"]).post(f"/projects/{carried.id}/dispatch", json={}), 403, "forbidden")
    assert_error(api(hall["fgw_a"]).post(f"/projects/{carried.id}/dispatch", json={}), 403, "forbidden")
    assert snapshot(session) == before


def test_dispatch_while_a_stage_runs_is_409(api, session, hall, carried):  # noqa: F811
    assert api(hall["agent"]).post(f"/projects/{carried.id}/dispatch", json={}).status_code == 200
    before = snapshot(session)
    assert_error(api(hall["agent"]).post(f"/projects/{carried.id}/dispatch", json={}), 409, "conflict")
    assert snapshot(session) == before


def test_an_enterprise_project_waits_for_the_director_to_assign_an_agent(api, session, now, hall):  # noqa: F811
    project = entrust(session, now, hall, by="ent")
    assert_error(api(hall["agent"]).post(f"/projects/{project.id}/dispatch", json={}), 404, "not_found")
    body = api(hall["director"]).post(f"/projects/{project.id}/assign", json={"agent_id": hall["agent"].id}).get_json()
    assert (body["agent_id"], body["first_contact_agent_id"]) == (hall["agent"].id, None)
    ready_for_dispatch(session, now, project)  # the assigned agent pre-reviews what the enterprise filed
    assert api(hall["agent"]).post(f"/projects/{project.id}/dispatch", json={}).status_code == 200


# -- assignment ----------------------------------------------------------------------------------------------


def test_reassignment_voids_the_old_contact_card_and_issues_a_new_one(api, session, hall, carried, clock):  # noqa: F811
    old = session.scalar(select(ContactCard).where(ContactCard.project_id == carried.id))
    old_id, old_no = old.id, old.card_no
    clock.set("2026-11-24T10:00:00+08:00")
    response = api(hall["director"]).post(f"/projects/{carried.id}/assign", json={"agent_id": hall["agent2"].id})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["agent_id"], body["first_contact_agent_id"]) == (hall["agent2"].id, hall["agent"].id)
    session.expire_all()
    cards = session.scalars(select(ContactCard).where(ContactCard.project_id == carried.id)
                            .order_by(ContactCard.id)).all()
    assert [(c.id, c.void, c.agent_id) for c in cards] == [(old_id, True, hall["agent"].id),
                                                           (cards[1].id, False, hall["agent2"].id)]
    assert cards[0].voided_at.isoformat() == "2026-11-24T02:00:00+00:00"
    card = api(hall["ent"]).get(f"/projects/{carried.id}/contact-card").get_json()
    assert (card["card_no"], card["agent_name"], card["agent_phone"], card["void"]) == (
        cards[1].card_no, "agent2", "0571-2", False)
    assert card["card_no"] != old_no
    assert audit_actions(session, carried.id)[-2:] == ["project.assigned", "contact_card.issued"]
    assert any(s.startswith("联系卡已更换") for s in inbox(session, hall["ent"]))
    assert any(s.startswith("新指派项目") for s in inbox(session, hall["agent2"]))
    # the new agent carries it; the first contact still sees it but no longer dispatches it
    assert_error(api(hall["agent"]).post(f"/projects/{carried.id}/dispatch", json={}), 403, "forbidden")
    assert api(hall["agent"]).get(f"/projects/{carried.id}").status_code == 200
    assert api(hall["agent2"]).post(f"/projects/{carried.id}/dispatch", json={}).status_code == 200


def test_bad_assignments(api, session, hall, carried):  # noqa: F811
    before = snapshot(session)
    assign = f"/projects/{carried.id}/assign"
    assert_error(api(hall["director"]).post(assign, json={"agent_id": hall["ent"].id}), 400, "bad_input", "agent_id")
    assert_error(api(hall["director"]).post(assign, json={"agent_id": 999999}), 400, "bad_input", "agent_id")
    assert_error(api(hall["director"]).post(assign, json={}), 400, "bad_input", "agent_id")
    assert_error(api(hall["agent"]).post(assign, json={"agent_id": hall["agent2"].id}), 403, "forbidden")
    assert_error(api(hall["director"]).post("/projects/999999/assign", json={"agent_id": hall["agent"].id}), 404,
                 "not_found")
    # assigning the agent it already has changes nothing
    assert api(hall["director"]).post(assign, json={"agent_id": hall["agent"].id}).status_code == 200
    assert snapshot(session) == before


# -- withdraw -----------------------------------------------------------------------------------------------


def test_withdraw_terminates_and_cancels_open_tasks(api, session, now, hall, clock):  # noqa: F811
    project, tasks = start(session, now, hall)
    answered = next(t for t in tasks if t.item.code == "FGW-01")
    assert api(hall["fgw_a"]).post(f"/tasks/{answered.id}/answer", json={"decision": "consent"}).status_code == 200
    before = snapshot(session)
    for user in ("agent", "director", "fgw_a"):
        assert_error(api(hall[user]).post(f"/projects/{project.id}/withdraw", json={"reason": "x"}), 403, "forbidden")
    assert_error(api(hall["ent2"]).post(f"/projects/{project.id}/withdraw", json={"reason": "x"}), 404, "not_found")
    assert_error(api(hall["ent"]).post(f"/projects/{project.id}/withdraw", json={}), 400, "bad_input", "reason")
    assert_error(api(hall["ent"]).post(f"/projects/{project.id}/withdraw", json={"reason": "  "}), 400, "bad_input",
                 "reason")
    assert snapshot(session) == before
    clock.set("2026-11-25T09:00:00+08:00")
    response = api(hall["ent"]).post(f"/projects/{project.id}/withdraw", json={"reason": "市场变化"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["terminated_at"], body["termination_reason"]) == (
        "terminated", "2026-11-25T09:00:00+08:00", "企业撤回委托：市场变化")
    assert {t["item"]: t["status"] for t in body["tasks"]} == {
        "FGW-01": "answered", "FGW-03": "cancelled", "ZRGH-01": "cancelled", "ZRGH-02": "cancelled"}
    session.expire_all()
    assert {t.cancel_reason for t in session.scalars(select(Task).where(Task.status == "cancelled"))} == {
        "企业撤回委托：市场变化"}
    assert any(s.startswith("项目已终止") for s in inbox(session, hall["agent"]))
    before = snapshot(session)
    assert_error(api(hall["ent"]).post(f"/projects/{project.id}/withdraw", json={"reason": "again"}), 409, "conflict")
    assert_error(api(hall["fgw_a"]).post(f"/tasks/{tasks[1].id}/answer", json={"decision": "consent"}), 409,
                 "conflict")
    assert_error(api(hall["agent"]).post(f"/projects/{project.id}/dispatch", json={}), 409, "conflict")
    assert snapshot(session) == before


# -- R8: the backup liaison -----------------------------------------------------------------------------------


def test_a_new_task_goes_to_the_backup_while_the_primary_is_on_leave(api, session, now, hall, carried, run_jobs):  # noqa: F811
    from agency.audit.services import SYSTEM
    from agency.people.services import set_leave
    set_leave(session, now, SYSTEM, hall["fgw_a"], True)
    session.commit()
    assert api(hall["agent"]).post(f"/projects/{carried.id}/dispatch", json={}).status_code == 200
    run_jobs()
    assert inbox(session, hall["fgw_a"]) == []
    assert inbox(session, hall["fgw_b"]) == ["新办件：企业投资项目备案", "新办件：固定资产投资项目节能审查"]
    assert len(inbox(session, hall["zrgh_a"])) == 2 and inbox(session, hall["zrgh_b"]) == []
    links = session.scalars(select(Message.link).where(Message.user_id == hall["fgw_b"].id)).all()
    assert all(link.startswith("/tasks/") for link in links)
    # the backup can act on it: the department's task, whoever of A and B answers
    task_id = int(links[0].rsplit("/", 1)[1])
    assert api(hall["fgw_b"]).post(f"/tasks/{task_id}/accept").status_code == 200


def test_with_both_liaisons_away_the_director_is_told(api, session, now, hall, carried, run_jobs):  # noqa: F811
    from agency.audit.services import SYSTEM
    from agency.people.services import set_leave
    for name in ("fgw_a", "fgw_b"):
        set_leave(session, now, SYSTEM, hall[name], True)
    session.commit()
    assert api(hall["agent"]).post(f"/projects/{carried.id}/dispatch", json={}).status_code == 200
    run_jobs()
    assert inbox(session, hall["fgw_a"]) == [] and inbox(session, hall["fgw_b"]) == []
    assert inbox(session, hall["director"]).count("无可用联络员：发展和改革局") == 2


def test_a_task_withdrawn_before_its_delivery_is_not_announced(api, session, hall, carried, run_jobs):  # noqa: F811
    assert api(hall["agent"]).post(f"/projects/{carried.id}/dispatch", json={}).status_code == 200
    assert api(hall["ent"]).post(f"/projects/{carried.id}/withdraw", json={"reason": "撤回"}).status_code == 200
    run_jobs()
    for name in ("fgw_a", "fgw_b", "zrgh_a", "zrgh_b", "director"):
        assert not any(s.startswith(("新办件", "无可用联络员")) for s in inbox(session, hall[name])), name
