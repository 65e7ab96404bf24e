"""The fixed cost of an API request (token, user, calendar) is cached per process and invalidated,
never merely expired (agency.generations): one statement when nothing changed, and a change made
by another process seen on the very next request."""
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event

from agency.extensions import db
from tests import support
from tests.calendar.arrangements import ARRANGEMENT_2027
from tests.tasks import (  # noqa: F401  (fixtures)
    LIST_NOW,
    MONDAY,
    app,
    every_state,
    hall,
    hall_template,
    shared_app,
)

INBOX = "/api/v1/tasks?status=open&limit=50"
EMPTY = "/api/v1/tasks?status=pending&project_id=999999999"  # answers nothing: the fixed cost alone
GENERATIONS = "FROM cache_generations"
PAGE = "FROM tasks JOIN departments"


@contextmanager
def sent(application):
    """The statements ``application`` sends meanwhile, and the ORM objects it builds or loads."""
    statements, objects = [], []

    def capture(conn, cursor, statement, *args):
        statements.append(statement)

    def built(target, *args):
        objects.append(target)

    with application.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    event.listen(db.Model, "init", built, propagate=True)
    event.listen(db.Model, "load", built, propagate=True)
    try:
        yield statements, objects
    finally:
        event.remove(engine, "before_cursor_execute", capture)
        event.remove(db.Model, "init", built)
        event.remove(db.Model, "load", built)


def test_a_cached_request_costs_one_statement_and_the_inbox_page_one_more(app, hall, clock):  # noqa: F811
    with app.app_context():
        every_state(app, db.session, hall)
        api = support.ApiClientFactory(app.test_client(), db.session, MONDAY)(hall["fgw_a"])
        db.session.remove()
    clock.set(LIST_NOW)
    client, headers = app.test_client(), api.headers
    inbox = client.get(INBOX, headers=headers).get_json()  # this process reads the token, user and calendar once
    assert [t for t in inbox if t["working_days_left"] is not None], "running clocks: the calendar is used"

    assert not any(t["result"] for t in inbox) and [t for t in inbox if t["deferred"]]

    with sent(app) as (statements, objects):
        assert client.get(INBOX, headers=headers).get_json() == inbox
    # the generations, the page, and the deferrals two of its tasks have (none of them has a result)
    assert len(statements) == 3, statements
    assert GENERATIONS in statements[0] and PAGE in statements[1] and "FROM deferrals" in statements[2]
    assert objects == []  # no ORM object: the caller is a snapshot, the page rows

    with sent(app) as (statements, objects):
        assert client.get(EMPTY, headers=headers).get_json() == []
    fixed = [s for s in statements if PAGE not in s]
    assert len(fixed) == 1 and GENERATIONS in fixed[0] and len(statements) == 2, statements
    assert objects == []


def test_the_first_request_of_a_process_reads_the_token_and_the_calendar(app, hall, clock):  # noqa: F811
    with app.app_context():
        every_state(app, db.session, hall)
        api = support.ApiClientFactory(app.test_client(), db.session, MONDAY)(hall["fgw_a"])
        db.session.remove()
    clock.set(LIST_NOW)
    app.extensions.pop("agency_request_cache", None)  # as a process that just started
    with sent(app) as (statements, _objects):
        assert app.test_client().get(INBOX, headers=api.headers).status_code == 200
    assert GENERATIONS in statements[0]
    assert any("api_tokens" in s for s in statements) and any("FROM calendar_overrides" in s for s in statements)


# -- two processes on one PostgreSQL database ---------------------------------------------------------


@pytest.fixture
def two(pg_app, pg_url, tmp_path, clock):
    """Two apps on the same PostgreSQL database, each with its own caches (two gunicorn workers, or a
    web worker and the CLI): (first, second, hall)."""
    second = support.make_app(pg_url, tmp_path / "second")
    with pg_app.app_context():
        hall = {name: (user.id, user.username) for name, user in support.build_hall(db.session, MONDAY).items()
                if hasattr(user, "username")}
        db.session.remove()
    clock.set(MONDAY)
    yield pg_app, second, hall
    with second.app_context():
        db.session.remove()
        db.engine.dispose()


def _token(application, user: tuple[int, str]) -> dict:
    from agency.people.models import User
    with application.app_context():
        headers = support.ApiClientFactory(application.test_client(), db.session, MONDAY)(
            db.session.get(User, user[0])).headers
        db.session.remove()
    return headers


def _cached(application, headers) -> None:
    """A request that this process answers from its caches: the generations' read only (and the page)."""
    with sent(application) as (statements, objects):
        assert application.test_client().get(EMPTY, headers=headers).status_code == 200
    assert [s for s in statements if PAGE not in s] == [statements[0]] and GENERATIONS in statements[0], statements
    assert objects == []


def _warm(application, headers) -> None:
    assert application.test_client().get(EMPTY, headers=headers).status_code == 200
    _cached(application, headers)



@pytest.mark.postgres
def test_a_token_revoked_in_one_process_is_refused_by_the_other_at_once(two):
    first, second, hall = two
    mine, spare = _token(first, hall["fgw_a"]), _token(first, hall["fgw_a"])
    _warm(second, mine)
    _warm(second, spare)
    tokens = first.test_client().get("/api/v1/auth/tokens", headers=mine).get_json()
    spare_id = next(t["id"] for t in tokens if not t["current"])
    assert first.test_client().delete(f"/api/v1/auth/tokens/{spare_id}", headers=mine).status_code == 204

    assert second.test_client().get(EMPTY, headers=spare).status_code == 401
    assert second.test_client().get(EMPTY, headers=mine).status_code == 200
    _cached(second, mine)  # cached again under the new generation


@pytest.mark.postgres
def test_a_user_deactivated_or_whose_password_is_reset_by_the_cli_is_refused_at_once(two):
    first, second, hall = two
    liaison, director = hall["fgw_a"], hall["director"]
    headers, boss = _token(first, liaison), _token(first, director)
    username = liaison[1]
    _warm(second, headers)
    _warm(second, boss)
    cli = first.test_cli_runner()
    assert cli.invoke(args=["agency", "deactivate-user", username]).exit_code == 0
    assert second.test_client().get(EMPTY, headers=headers).status_code == 401
    assert second.test_client().get(EMPTY, headers=boss).status_code == 200

    assert cli.invoke(args=["agency", "reactivate-user", username]).exit_code == 0
    assert second.test_client().get(EMPTY, headers=headers).status_code == 401  # its tokens stay dead
    headers = _token(first, liaison)
    _warm(second, headers)
    result = cli.invoke(args=["agency", "reset-password", username, "--password", "Another-pass-2026"])
    assert result.exit_code == 0, result.output
    assert second.test_client().get(EMPTY, headers=headers).status_code == 401


@pytest.mark.postgres
def test_a_director_deactivating_a_user_through_the_api_is_seen_by_the_other_process(two):
    first, second, hall = two
    headers, boss = _token(first, hall["agent"]), _token(first, hall["director"])
    _warm(second, headers)
    answer = first.test_client().post(f"/api/v1/users/{hall['agent'][0]}/deactivate", headers=boss)
    assert answer.status_code == 200, answer.get_json()
    assert second.test_client().get(EMPTY, headers=headers).status_code == 401


@pytest.mark.postgres
def test_a_calendar_change_in_one_process_is_used_by_the_other_at_once(two, tmp_path):
    first, second, hall = two
    headers = _token(first, hall["fgw_a"])
    url = "/api/v1/calendar/working-days?start=2027-02-19&days=1"  # a Friday; the arrangement works Saturday 20th
    before = second.test_client().get(url, headers=headers).get_json()
    assert before == {"date": "2027-02-22", "confirmed": False}
    _cached(second, headers)

    arrangement = tmp_path / "2027.csv"
    arrangement.write_text(ARRANGEMENT_2027, encoding="utf-8")
    result = first.test_cli_runner().invoke(args=["agency", "calendar", "import", "2027", str(arrangement)])
    assert result.exit_code == 0, result.output
    assert second.test_client().get(url, headers=headers).get_json() == {"date": "2027-02-20", "confirmed": True}

    from agency.calendar.services import set_override
    with first.app_context():  # the director makes the Saturday a holiday after all
        set_override(db.session, MONDAY, date(2027, 2, 20), False, "改期")
        db.session.commit()
    assert second.test_client().get(url, headers=headers).get_json() == {"date": "2027-02-22", "confirmed": True}
