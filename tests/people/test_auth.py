"""Signing in (pages and API), tokens, object-level access, and the security settings."""
import re
import shutil
from datetime import datetime, timezone

import pytest
from argon2 import PasswordHasher, profiles
from flask import url_for
from sqlalchemy import select

from agency import clock as agency_clock
from agency import create_app
from agency.audit.services import SYSTEM
from agency.catalog.models import ProjectType
from agency.errors import NotFound
from agency.extensions import db
from agency.people.access import get_project
from agency.people.models import User
from agency.people.services import authenticate, create_user, hash_password
from agency.projects.models import Project
from config import Production, Testing
from tests import support
from tests.support import PASSWORD

ERROR_KEYS = {"code", "message", "fields"}


def _csrf_token(client, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _sign_in(client, username: str, password: str, **extra):
    data = {"username": username, "password": password, "csrf_token": _csrf_token(client)}
    return client.post("/login", data=data, **extra)


def _app_copy(sqlite_template, tmp_path, **overrides):
    path = tmp_path / "own.db"
    shutil.copy(sqlite_template, path)
    return support.make_app(f"sqlite:///{path}", tmp_path, **overrides)


def _home(app) -> str:
    with app.test_request_context():
        return url_for("web.home")


def _set_cookie(response, name: str) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}="))


# --- pages -----------------------------------------------------------------

def test_page_sign_in_starts_a_fresh_session(app, client, make_user):
    user = make_user("agent", username="wang.agent")
    token = _csrf_token(client)
    with client.session_transaction() as sess:
        sess["planted"] = "set before sign-in"
    before = client.get_cookie("session").value

    response = client.post("/login", data={"username": "wang.agent", "password": PASSWORD, "csrf_token": token})

    assert response.status_code == 302 and response.headers["Location"] == _home(app)
    assert client.get_cookie("session").value != before
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"] == user.get_id()
    assert client.get(_home(app)).status_code == 200


@pytest.mark.parametrize("target", [
    "//evil.example.com/", "/\\evil.example.com", "/\t/evil.example.com", "https://evil.example.com/", "evil"])
def test_page_sign_in_never_redirects_off_site(app, client, make_user, target):
    make_user("agent", username="li.agent")
    response = _sign_in(client, "li.agent", PASSWORD, query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == _home(app)


def test_page_sign_in_returns_to_a_local_page(client, make_user):
    make_user("agent", username="chen.agent")
    response = _sign_in(client, "chen.agent", PASSWORD, query_string={"next": "/catalog?department=ZJ"})
    assert response.headers["Location"] == "/catalog?department=ZJ"


def test_wrong_password_shows_the_form_again_with_a_message(client, make_user):
    make_user("agent", username="zhao.agent")
    response = _sign_in(client, "zhao.agent", "not-the-password")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "用户名或密码不正确" in page and 'name="password"' in page
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_a_form_post_without_csrf_token_is_rejected(client, make_user):
    make_user("agent", username="qian.agent")
    client.get("/login")
    response = client.post("/login", data={"username": "qian.agent", "password": PASSWORD})
    assert response.status_code == 400
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


# --- API tokens --------------------------------------------------------------

def test_api_token_for_good_credentials_opens_the_api(client, make_user):
    user = make_user("director", username="sun.director")
    response = client.post("/api/v1/auth/token", json={"username": "sun.director", "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"token", "role", "user_id"}
    assert (body["role"], body["user_id"]) == ("director", user.id)
    answer = client.get("/api/v1/departments", headers={"Authorization": f"Bearer {body['token']}"})
    assert answer.status_code == 200 and answer.get_json() == []


@pytest.mark.parametrize("username, password", [("zhou.agent", "wrong-password"), ("nobody", PASSWORD)])
def test_api_token_for_bad_credentials_is_401(client, make_user, username, password):
    make_user("agent", username="zhou.agent")
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert set(error) == ERROR_KEYS
    assert (error["code"], error["fields"]) == ("unauthorized", {})
    assert "token" not in response.get_json()


def test_api_token_with_missing_fields_is_400_naming_them(client):
    response = client.post("/api/v1/auth/token", json={})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert set(error) == ERROR_KEYS and error["code"] == "bad_input"
    assert set(error["fields"]) == {"username", "password"}

    response = client.post("/api/v1/auth/token", json={"username": "wu"})
    assert set(response.get_json()["error"]["fields"]) == {"password"}


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic d3U6cGFzcw=="])
def test_an_api_call_without_a_valid_token_is_401(client, header):
    response = client.get("/api/v1/departments", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert set(error) == ERROR_KEYS
    assert error["code"] == "unauthorized" and error["message"]


def test_an_expired_token_is_401(client, make_user, clock):
    make_user("agent", username="zheng.agent")
    clock.set("2026-11-23T09:00:00+08:00")
    token = client.post("/api/v1/auth/token", json={"username": "zheng.agent", "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    clock.advance(hours=11, minutes=59)
    assert client.get("/api/v1/departments", headers=headers).status_code == 200
    clock.advance(minutes=1)  # API_TOKEN_HOURS = 12
    response = client.get("/api/v1/departments", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_revoked_token_or_a_deactivated_user_is_401_and_a_cached_token_costs_one_statement(client, session,
                                                                                              make_user, clock):
    from sqlalchemy import event

    from agency.people.models import ApiToken
    user = make_user("agent", username="qian.agent")
    clock.set("2026-11-23T09:00:00+08:00")
    headers = {"Authorization": "Bearer " + client.post(
        "/api/v1/auth/token", json={"username": "qian.agent", "password": PASSWORD}).get_json()["token"]}

    def statements() -> list[str]:
        sent = []
        session.commit()  # a request of its own transaction (the test's app context outlives requests)

        def capture(conn, cursor, statement, *args):
            sent.append(statement)

        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            assert client.get("/api/v1/departments", headers=headers).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        return sent

    first = statements()
    assert "FROM cache_generations" in first[0]  # what the caches were built under (agency.generations)
    assert "FROM users JOIN api_tokens" in first[1]  # then the token and its user at once
    assert not any("api_tokens" in s or "FROM users" in s for s in first[2:]), first
    again = statements()  # the same token: the generations only
    assert "FROM cache_generations" in again[0]
    assert not any("api_tokens" in s or "users" in s for s in again), again
    user.active = False
    session.commit()
    assert client.get("/api/v1/departments", headers=headers).status_code == 401
    user.active = True
    session.commit()
    assert client.get("/api/v1/departments", headers=headers).status_code == 200
    session.scalar(select(ApiToken).where(ApiToken.user_id == user.id)).revoked_at = agency_clock.now()
    session.commit()
    assert client.get("/api/v1/departments", headers=headers).status_code == 401


# --- object-level access ----------------------------------------------------

def test_another_enterprise_project_is_not_found(session, now, catalog, make_user):
    owner, other = make_user("enterprise"), make_user("enterprise")
    director, agent, liaison = make_user("director"), make_user("agent"), make_user("liaison", department_code="ZJ")
    project = Project(name="厂房新建", project_type=session.scalar(select(ProjectType).where(ProjectType.code == "IND_PERMIT")),
                      enterprise_id=owner.id, tracking_code="DB0001", entrusted_at=now, created_at=now)
    session.add(project)
    session.commit()

    assert get_project(session, owner, project.id) is project
    assert get_project(session, director, project.id) is project
    for stranger in (other, agent, liaison):
        with pytest.raises(NotFound) as caught:
            get_project(session, stranger, project.id)
        assert caught.value.status == 404
    with pytest.raises(NotFound):
        get_project(session, owner, project.id + 1000)  # unknown looks the same


# --- rate limiting ------------------------------------------------------------

def test_sign_in_is_rate_limited(sqlite_template, tmp_path, monkeypatch):
    monkeypatch.delenv("AGENCY_NOW", raising=False)
    app = _app_copy(sqlite_template, tmp_path, LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        support.UserFactory(db.session, datetime(2026, 11, 23, tzinfo=timezone.utc))("agent", username="feng.agent")
        db.session.remove()
    pages, api = app.test_client(), app.test_client()

    assert [_sign_in(pages, f"nobody{n}", "wrong").status_code for n in range(3)] == [200, 200, 200]
    assert _sign_in(pages, "feng.agent", PASSWORD).status_code == 429  # even with the right password

    # the page and the API count the same failures of an address
    answer = api.post("/api/v1/auth/token", json={"username": "feng.agent", "password": PASSWORD})
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
    assert answer.get_json()["error"]["code"] == "too_many_requests"


# --- headers, cookies, password hashing ---------------------------------------

def test_security_headers_on_pages_and_api(client):
    for response in (client.get("/login"), client.get("/api/v1/departments")):
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]


def test_session_cookie_is_httponly_and_samesite_lax(client):
    cookie = _set_cookie(client.get("/login"), "session")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in development and tests


def test_passwords_are_argon2id(make_user):
    assert make_user("agent").password_hash.startswith("$argon2id$")


def test_an_unknown_user_costs_the_same_argon2_work(session, make_user, monkeypatch):
    make_user("agent", username="han.agent")
    authenticate(session, "nobody", "whatever-1")  # warm-up
    work = []
    for name in ("hash", "verify"):
        original = getattr(PasswordHasher, name)
        monkeypatch.setattr(PasswordHasher, name,
                            lambda self, *args, _name=name, _original=original: work.append(_name) or _original(self, *args))

    assert authenticate(session, "han.agent", "wrong-password") is None
    known, work[:] = list(work), []
    assert authenticate(session, "nobody", "wrong-password") is None
    assert work == known == ["verify"]


@pytest.fixture
def production_app(sqlite_template, tmp_path):
    path = tmp_path / "prod.db"
    shutil.copy(sqlite_template, path)
    config = type("ProductionOnSqlite", (Production,), {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "prod-test-secret", "AUDIT_KEYS": Testing.AUDIT_KEYS, "REDIS_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://", "MAIL_BACKEND": "memory"})
    return create_app(config)


def test_production_profile(production_app, clock):
    assert Production.SESSION_COOKIE_SECURE is True and Production.REMEMBER_COOKIE_SECURE is True
    response = production_app.test_client().get("/login")
    assert "Secure" in _set_cookie(response, "session")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")

    clock.set("2020-01-01T09:00:00+08:00")
    with production_app.app_context():
        assert agency_clock.now().year != 2020  # production ignores AGENCY_NOW
        assert production_app.config["PASSWORD_HASH_PROFILE"] == "RFC_9106_LOW_MEMORY"
        digest = hash_password(PASSWORD)
        assert digest.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        user = create_user(db.session, datetime(2026, 11, 23, tzinfo=timezone.utc), SYSTEM,
                           role="director", username="prod.director", password=PASSWORD)
        assert user.password_hash.startswith("$argon2id$v=19$m=65536,")
        # a hash made with weaker parameters is upgraded at the next sign-in
        user.password_hash = PasswordHasher.from_parameters(profiles.CHEAPEST).hash(PASSWORD)
        assert authenticate(db.session, "prod.director", PASSWORD) is user
        assert db.session.get(User, user.id).password_hash.startswith("$argon2id$v=19$m=65536,")
        assert authenticate(db.session, "prod.director", "wrong-password") is None
        db.session.remove()
