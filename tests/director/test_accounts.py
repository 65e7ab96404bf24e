"""The director deactivates and reactivates users and resets passwords (API, pages, CLI); what a
deactivated user carried waits on the board for reassignment (issue #12 point 4)."""
import re

import pytest
from sqlalchemy import select

from agency.audit.models import AuditEvent
from agency.people.models import ApiToken, User
from agency.people.services import authenticate
from agency.projects.services import assign_agent, entrust_project
from tests.support import PASSWORD
from tests.web.conftest import PageClient

NEW_PASSWORD = "plum-blossom-road-77"


@pytest.fixture
def carried(session, now, hall, entrust_body):
    project = entrust_project(session, now, hall["ent"], **{**entrust_body, "name": "甲项目"})
    assign_agent(session, now, hall["director"], project, hall["agent"].id)
    session.commit()
    return project


@pytest.fixture
def browser(app):
    """``browser(username)`` -> a page client signed in as the user (a clean ``g`` per request)."""
    def sign_in(username: str):
        app.test_client_class = PageClient
        client = app.test_client()
        client.post("/login", data={"csrf_token": csrf(client), "username": username, "password": PASSWORD})
        return client
    return sign_in


def csrf(client, path: str = "/login") -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def signed_in(client) -> bool:
    return client.get("/home").status_code == 200


def test_deactivation_stops_tokens_and_sessions_at_once_and_lists_the_work_to_reassign(
        session, hall, carried, api, browser):
    agent, liaison = hall["agent"], hall["zj_a"]
    director = api(hall["director"])
    agent_api, agent_page = api(agent), browser("agent")
    liaison_page = browser("zj_a")
    assert agent_api.get("/departments").status_code == 200 and signed_in(agent_page) and signed_in(liaison_page)

    response = director.post(f"/users/{agent.id}/deactivate")
    assert response.status_code == 200
    assert response.get_json() == {"id": agent.id, "username": "agent", "role": "agent", "active": False,
                                   "open_projects": [{"id": carried.id, "name": "甲项目"}], "liaison_slot": None}
    assert agent_api.get("/departments").status_code == 401  # the next request
    assert not signed_in(agent_page)
    assert authenticate(session, "agent", PASSWORD) is None

    answer = director.post(f"/users/{liaison.id}/deactivate").get_json()
    assert answer["liaison_slot"] == {"department": "ZJ", "slot": "primary"} and answer["open_projects"] == []
    assert not signed_in(liaison_page)
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "user.deactivated",
                                                   AuditEvent.object_id == agent.id)) is not None

    board = browser("director").get("/director/workload").get_data(as_text=True)
    section = board[board.index('id="to-reassign"'):board.index('id="unassigned"')]
    assert 'data-project-id="%d"' % carried.id in section and f"/director/projects/{carried.id}/assign" in section
    assert 'data-user-id="%d"' % liaison.id in section and f"/director/liaisons/{liaison.id}/release" in section

    response = director.post(f"/users/{agent.id}/reactivate")
    assert response.status_code == 200 and response.get_json()["active"] is True
    assert agent_api.get("/departments").status_code == 401  # old tokens and sessions stay dead
    assert not signed_in(agent_page)
    assert signed_in(browser("agent"))


def test_the_board_has_no_reassignment_section_while_nobody_is_deactivated(hall, carried, browser):
    assert 'id="to-reassign"' not in browser("director").get("/director/workload").get_data(as_text=True)


def test_reassigning_from_the_board_empties_the_section(session, hall, carried, api, browser):
    api(hall["director"]).post(f"/users/{hall['agent'].id}/deactivate")
    page = browser("director")
    response = page.post(f"/director/projects/{carried.id}/assign", data={
        "csrf_token": csrf(page, "/director/workload"), "agent_id": hall["agent2"].id})
    assert response.status_code == 302
    session.expire_all()
    assert carried.agent_id == hall["agent2"].id
    assert 'id="to-reassign"' not in page.get("/director/workload").get_data(as_text=True)


def test_a_deactivated_liaisons_slot_is_released_for_another(session, hall, api, browser, app):
    liaison = hall["zj_a"]
    api(hall["director"]).post(f"/users/{liaison.id}/deactivate")
    page = browser("director")
    token = csrf(page, "/director/workload")
    assert page.post(f"/director/liaisons/{hall['zj_b'].id}/release", data={"csrf_token": token}).status_code == 302
    session.expire_all()
    assert hall["zj_b"].liaison_slot == "backup"  # an active liaison keeps its slot

    assert page.post(f"/director/liaisons/{liaison.id}/release", data={"csrf_token": token}).status_code == 302
    session.expire_all()
    assert liaison.liaison_slot is None
    result = app.test_cli_runner().invoke(args=["agency", "create-user", "--role", "liaison", "--username", "zj.new",
                                                "--password", NEW_PASSWORD, "--department", "ZJ"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(User).where(User.username == "zj.new")).liaison_slot == "primary"


def test_oneself_and_the_last_active_director_cannot_be_deactivated(session, hall, api, app):
    director = hall["director"]
    response = api(director).post(f"/users/{director.id}/deactivate")
    assert response.status_code == 422 and response.get_json()["error"]["fields"] == {"user": "yourself"}
    result = app.test_cli_runner().invoke(args=["agency", "deactivate-user", "director"])
    assert result.exit_code == 1 and "最后一位在岗的大厅主任" in result.output
    session.expire_all()
    assert director.active is True

    assert api(hall["agent"]).post(f"/users/{hall['agent2'].id}/deactivate").status_code == 403
    assert api(director).post("/users/99999/deactivate").status_code == 404


def test_the_cli_deactivates_reactivates_and_resets_a_password(session, hall, carried, api, app):
    runner = app.test_cli_runner()
    token = api(hall["agent"])
    result = runner.invoke(args=["agency", "deactivate-user", "agent"])
    assert result.exit_code == 0, result.output
    assert f"project {carried.id} 甲项目" in result.output
    assert token.get("/departments").status_code == 401

    assert runner.invoke(args=["agency", "reactivate-user", "agent"]).exit_code == 0
    result = runner.invoke(args=["agency", "reset-password", "agent", "--password", "short-one"])
    assert result.exit_code == 1 and "at least 12 characters" in result.output
    assert runner.invoke(args=["agency", "reset-password", "agent", "--password", NEW_PASSWORD]).exit_code == 0
    session.expire_all()
    assert authenticate(session, "agent", NEW_PASSWORD) is not None and authenticate(session, "agent", PASSWORD) is None
    result = runner.invoke(args=["agency", "deactivate-user", "nobody"])
    assert result.exit_code == 1 and "no user 'nobody'" in result.output


def test_the_user_pages_deactivate_reset_and_revoke(session, hall, api, browser):
    agent = hall["agent"]
    token = api(agent)
    token_id = session.scalar(select(ApiToken.id).where(ApiToken.user_id == agent.id))
    page, agent_page = browser("director"), browser("agent")
    listing = page.get("/users").get_data(as_text=True)
    assert f'data-user-id="{agent.id}"' in listing and f'data-user-id="{hall["director"].id}"' in listing
    assert f"/users/{hall['director'].id}/deactivate" not in listing  # no button to deactivate oneself

    detail = page.get(f"/users/{agent.id}").get_data(as_text=True)
    assert f'data-token-id="{token_id}"' in detail
    response = page.post(f"/users/{agent.id}/tokens/{token_id}/revoke", data={"csrf_token": csrf(page, "/users")})
    assert response.status_code == 302 and token.get("/departments").status_code == 401

    refused = page.post(f"/users/{agent.id}", data={"csrf_token": csrf(page, "/users"), "password": "password1234"})
    assert refused.status_code == 400 and "这是最常见的密码之一" in refused.get_data(as_text=True)
    assert signed_in(agent_page)
    reset = page.post(f"/users/{agent.id}", data={"csrf_token": csrf(page, "/users"), "password": NEW_PASSWORD})
    assert reset.status_code == 302 and not signed_in(agent_page)

    page.post(f"/users/{agent.id}/deactivate", data={"csrf_token": csrf(page, "/users")})
    session.expire_all()
    assert agent.active is False
    refused = page.post(f"/users/{hall['director'].id}/deactivate", data={"csrf_token": csrf(page, "/users")},
                        follow_redirects=True)
    assert "不能停用自己的账号" in refused.get_data(as_text=True)
    session.expire_all()
    assert hall["director"].active is True
    assert browser("agent").get("/users").status_code in (302, 403)


@pytest.mark.postgres
def test_two_directors_deactivating_each_other_at_once_leave_one_active(pg_app, now):
    """Each locks the active directors' rows first: the second waits, then sees only itself left."""
    import threading

    from agency.audit.services import Actor
    from agency.errors import RuleViolation
    from agency.extensions import db
    from agency.people.services import deactivate_user
    from tests.support import UserFactory

    with pg_app.app_context():
        make = UserFactory(db.session, now)
        ids = [make("director", "d.one").id, make("director", "d.two").id]
        db.session.remove()
    barrier, outcomes = threading.Barrier(2), []

    def deactivate(actor_id, target_id):
        with pg_app.app_context():
            try:
                actor, target = db.session.get(User, actor_id), db.session.get(User, target_id)
                barrier.wait()
                deactivate_user(db.session, now, Actor.of(actor), target)
                db.session.commit()
                outcomes.append("deactivated")
            except RuleViolation as error:
                db.session.rollback()
                outcomes.append(error.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=deactivate, args=pair) for pair in (ids, ids[::-1])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted(["deactivated", "不能停用最后一位在岗的大厅主任"])
    with pg_app.app_context():
        assert db.session.scalars(select(User.active).where(User.id.in_(ids))).all().count(True) == 1
        db.session.remove()
