"""`flask agency create-user` and `flask agency calendar add-working-days`."""
import pytest
from sqlalchemy import func, select

from agency.people.models import User
from agency.people.services import authenticate


def _agency(app, *args):
    return app.test_cli_runner().invoke(args=["agency", *args])


def _users(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(User))


def test_create_user_prints_the_id_and_the_user_can_sign_in(app, session, catalog, client):
    result = _agency(app, "create-user", "--role", "liaison", "--username", "zj.a", "--password", "liaison-pass-1",
                     "--department", "ZJ", "--name", "住建A角", "--phone", "13800000001")
    assert result.exit_code == 0, result.output
    user_id = int(result.output.strip())

    user = session.get(User, user_id)
    assert (user.role, user.username, user.name, user.department.code, user.liaison_slot) == (
        "liaison", "zj.a", "住建A角", "ZJ", "primary")
    assert authenticate(session, "zj.a", "liaison-pass-1") is user
    token = client.post("/api/v1/auth/token", json={"username": "zj.a", "password": "liaison-pass-1"})
    assert token.status_code == 200 and token.get_json()["user_id"] == user_id


@pytest.mark.parametrize("args, exit_code, message", [
    (["--role", "mayor", "--username", "x.user", "--password", "long-enough-1"], 2, "Invalid value for '--role'"),
    (["--role", "liaison", "--username", "x.user", "--password", "long-enough-1"], 1, "a liaison needs a department"),
    (["--role", "liaison", "--username", "x.user", "--password", "long-enough-1", "--department", "NOPE"], 1,
     "unknown department 'NOPE'"),
    (["--role", "agent", "--username", "x.user", "--password", "short"], 1, "at least 12 characters"),
    (["--role", "agent", "--username", "x.user", "--password", "elevenchars"], 1, "at least 12 characters"),
    (["--role", "agent", "--username", "x.user", "--password", "QWERTY123456"], 1, "most common passwords"),
    (["--role", "agent", "--username", "x.user", "--password", "long-enough-1", "--department", "ZJ"], 1,
     "only a liaison belongs to a department"),
])
def test_create_user_refuses_bad_input_and_creates_nothing(app, session, catalog, args, exit_code, message):
    before = _users(session)
    result = _agency(app, "create-user", *args)
    assert result.exit_code == exit_code
    assert message in result.output
    assert _users(session) == before
    assert session.scalar(select(User).where(User.username == "x.user")) is None


def test_create_user_refuses_a_duplicate_username(app, session, make_user):
    existing = make_user("agent", username="taken.name")
    before = _users(session)
    result = _agency(app, "create-user", "--role", "director", "--username", "taken.name", "--password", "long-enough-1")
    assert result.exit_code == 1
    assert "already taken" in result.output
    assert _users(session) == before
    assert session.get(User, existing.id).role == "agent"


@pytest.mark.parametrize("start, days, expected", [
    ("2026-09-30", 3, "2026-10-10"),  # National Day week off, Saturday 10 October worked (调休)
    ("2026-11-20", 1, "2026-11-23"),  # Friday + 1 = Monday
    ("2026-11-23", 0, "2026-11-23"),
])
def test_calendar_add_working_days(app, start, days, expected):
    result = _agency(app, "calendar", "add-working-days", "--start", start, "--days", str(days))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == expected


def test_calendar_add_working_days_refuses_a_bad_date(app):
    result = _agency(app, "calendar", "add-working-days", "--start", "30/09/2026", "--days", "3")
    assert result.exit_code == 2
    assert "--start" in result.output
