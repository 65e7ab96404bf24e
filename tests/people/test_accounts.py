"""Sessions end at sign-out and password change; API tokens are listed and revoked; the password rule;
failed sign-ins throttled per account and per address (issue #12 point 4)."""
import re
import shutil

import pytest
from sqlalchemy import select

from agency.audit.models import AuditEvent
from agency.errors import BadInput
from agency.extensions import db
from agency.people.models import ApiToken, User
from agency.people.services import authenticate, change_password, create_user, reset_password
from agency.audit.services import SYSTEM
from tests import support
from tests.support import PASSWORD
from tests.web.conftest import PageClient


NEW_PASSWORD = "plum-blossom-road-77"


@pytest.fixture
def app(app):
    """Page clients that start each request with a clean ``g``, as a browser would (tests/web/conftest.py)."""
    app.test_client_class = PageClient
    return app


def _csrf(client, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _sign_in(client, username: str, password: str = PASSWORD, address: str = "127.0.0.1"):
    token = _csrf(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def _token(client, username: str, password: str = PASSWORD) -> dict:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def _signed_in(client) -> bool:
    response = client.get("/home")
    assert response.status_code in (200, 302)
    return response.status_code == 200


# --- sessions ----------------------------------------------------------------------

def test_a_session_cookie_copied_before_sign_out_is_dead_after_it(app, make_user):
    make_user("agent", username="copy.agent")
    browser = app.test_client()
    assert _sign_in(browser, "copy.agent").status_code == 302
    copied = browser.get_cookie("session").value
    other_device = app.test_client()
    _sign_in(other_device, "copy.agent")
    assert _signed_in(browser) and _signed_in(other_device)

    browser.post("/logout", data={"csrf_token": _csrf(browser, "/home")})
    browser.set_cookie("session", copied)  # the stolen copy, replayed

    response = browser.get("/home")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert not _signed_in(other_device)  # sign-out ends every session of the user
    assert _sign_in(browser, "copy.agent").status_code == 302 and _signed_in(browser)


def test_a_password_change_ends_other_sessions_and_every_token_but_keeps_this_browser(app, client, session,
                                                                                    make_user):
    user = make_user("agent", username="change.agent")
    other = app.test_client()
    _sign_in(client, "change.agent")
    _sign_in(other, "change.agent")
    headers = _token(app.test_client(), "change.agent")

    response = client.post("/account/password", data={
        "csrf_token": _csrf(client, "/account"), "current_password": PASSWORD, "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD})

    assert response.status_code == 302
    assert _signed_in(client) and not _signed_in(other)
    assert client.get("/api/v1/departments", headers=headers).status_code == 401
    session.expire_all()
    assert authenticate(session, "change.agent", PASSWORD) is None
    assert authenticate(session, "change.agent", NEW_PASSWORD) == user
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "user.password_changed")) is not None


@pytest.mark.parametrize("new, message", [
    ("short-pass1", "密码至少需要 12 个字符"),
    ("1qaz2wsx3edc", "这是最常见的密码之一"),
    ("Qwerty123456", "这是最常见的密码之一"),
])
def test_the_password_page_says_why_a_password_is_refused(client, session, make_user, new, message):
    user = make_user("agent", username="weak.agent")
    before = user.password_hash
    _sign_in(client, "weak.agent")
    response = client.post("/account/password", data={
        "csrf_token": _csrf(client, "/account"), "current_password": PASSWORD, "password": new, "confirm": new})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, user.id).password_hash == before and _signed_in(client)


def test_a_wrong_current_password_changes_nothing(client, session, make_user):
    user = make_user("agent", username="wrong.agent")
    before = (user.password_hash, user.session_nonce)
    _sign_in(client, "wrong.agent")
    response = client.post("/account/password", data={
        "csrf_token": _csrf(client, "/account"), "current_password": "not-my-password",
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400 and "当前密码不正确" in response.get_data(as_text=True)
    session.expire_all()
    fresh = session.get(User, user.id)
    assert (fresh.password_hash, fresh.session_nonce) == before


# --- the password rule ------------------------------------------------------------------

@pytest.mark.parametrize("password, message", [
    ("elevenchars", "at least 12 characters"),
    ("PASSWORD1234", "most common passwords"),  # on the list, whatever the case
    ("qazwsxedcrfv", "most common passwords"),
    ("lantern-on-west-lake", None),
])
def test_the_password_rule_on_create(session, now, password, message):
    if message is None:
        assert create_user(session, now, SYSTEM, role="agent", username="rule.agent", password=password).id
        return
    with pytest.raises(BadInput) as caught:
        create_user(session, now, SYSTEM, role="agent", username="rule.agent", password=password)
    assert message in caught.value.fields["password"]
    assert session.scalar(select(User).where(User.username == "rule.agent")) is None


def test_the_demo_and_test_passwords_are_accepted():
    from agency.demo import PASSWORD as DEMO
    from agency.people.passwords import password_problem
    assert password_problem(DEMO) is None and password_problem(PASSWORD) is None


def test_a_reset_applies_the_rule_and_existing_passwords_keep_working(session, now, make_user):
    user = make_user("agent", username="old.agent")
    user.password_hash = support_hash("old-8char")  # set before the rule: still signs in
    session.commit()
    assert authenticate(session, "old.agent", "old-8char") == user
    with pytest.raises(BadInput) as caught:
        reset_password(session, now, SYSTEM, user, "too-short")
    assert caught.value.fields == {"password": "at least 12 characters"}
    with pytest.raises(BadInput) as caught:
        change_password(session, now, user, "old-8char", "password1234")
    assert "common" in caught.value.fields["password"]


def support_hash(password: str) -> str:
    from agency.people.services import hash_password
    return hash_password(password)


def test_the_api_password_change_says_why_and_ends_every_token(client, session, make_user):
    make_user("agent", username="api.pw")
    headers, other = _token(client, "api.pw"), _token(client, "api.pw")
    for bad, field in (("short", "password"), ("123456789qwerty", "password")):
        response = client.put("/api/v1/auth/password", headers=headers,
                              json={"current_password": PASSWORD, "password": bad})
        assert response.status_code == 400
        assert set(response.get_json()["error"]["fields"]) == {field}
    response = client.put("/api/v1/auth/password", headers=headers,
                          json={"current_password": "nope", "password": NEW_PASSWORD})
    assert response.status_code == 400 and "current_password" in response.get_json()["error"]["fields"]

    assert client.put("/api/v1/auth/password", headers=headers,
                      json={"current_password": PASSWORD, "password": NEW_PASSWORD}).status_code == 204
    assert client.get("/api/v1/departments", headers=headers).status_code == 401
    assert client.get("/api/v1/departments", headers=other).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "api.pw", "password": NEW_PASSWORD}).status_code == 200


# --- tokens -------------------------------------------------------------------------

def test_delete_auth_token_revokes_the_token_of_the_request_only(client, make_user):
    make_user("agent", username="tok.agent")
    first, second = _token(client, "tok.agent"), _token(client, "tok.agent")
    response = client.delete("/api/v1/auth/token", headers=first)
    assert response.status_code == 204 and response.get_data() == b""
    assert client.get("/api/v1/departments", headers=first).status_code == 401
    assert client.get("/api/v1/departments", headers=second).status_code == 200


def test_get_auth_tokens_lists_the_live_tokens_of_the_caller_without_their_values(client, session, make_user,
                                                                                 clock):
    make_user("agent", username="list.agent")
    make_user("agent", username="else.agent")
    clock.set("2026-11-23T09:00:00+08:00")
    old = _token(client, "list.agent")
    clock.advance(hours=11)
    dead, current = _token(client, "list.agent"), _token(client, "list.agent")
    _token(client, "else.agent")
    client.delete("/api/v1/auth/token", headers=dead)
    clock.advance(hours=1, minutes=1)  # the first has expired

    response = client.get("/api/v1/auth/tokens", headers=current)
    assert response.status_code == 200 and client.get("/api/v1/departments", headers=old).status_code == 401
    listed = response.get_json()
    assert len(listed) == 1
    assert set(listed[0]) == {"id", "created", "expires", "current"}
    assert listed[0]["current"] is True
    assert listed[0]["created"] == "2026-11-23T20:00:00+08:00" and listed[0]["expires"] == "2026-11-24T08:00:00+08:00"
    digest = session.get(ApiToken, listed[0]["id"]).token_hash
    assert current["Authorization"].split()[1] not in response.get_data(as_text=True)
    assert digest not in response.get_data(as_text=True)


def test_delete_a_token_by_id_owner_or_director_only(client, session, make_user):
    owner, stranger, director = (make_user("agent", username="own.agent"), make_user("agent", username="str.agent"),
                                 make_user("director", username="dir.boss"))
    mine, spare = _token(client, "own.agent"), _token(client, "own.agent")
    theirs, boss = _token(client, "str.agent"), _token(client, "dir.boss")
    ids = [t["id"] for t in client.get("/api/v1/auth/tokens", headers=mine).get_json()]
    spare_id = next(i for i in ids if i != next(t["id"] for t in client.get(
        "/api/v1/auth/tokens", headers=mine).get_json() if t["current"]))

    response = client.delete(f"/api/v1/auth/tokens/{spare_id}", headers=theirs)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/departments", headers=spare).status_code == 200
    assert client.delete(f"/api/v1/auth/tokens/{spare_id}", headers=mine).status_code == 204
    assert client.get("/api/v1/departments", headers=spare).status_code == 401

    mine_id = next(t["id"] for t in client.get("/api/v1/auth/tokens", headers=mine).get_json())
    assert client.delete(f"/api/v1/auth/tokens/{mine_id}", headers=boss).status_code == 204
    assert client.get("/api/v1/departments", headers=mine).status_code == 401
    assert client.delete("/api/v1/auth/tokens/99999", headers=boss).status_code == 404
    assert client.get("/api/v1/departments", headers=theirs).status_code == 200


def test_the_account_page_lists_and_revokes_ones_own_tokens(app, client, session, make_user):
    make_user("agent", username="page.agent")
    headers = _token(app.test_client(), "page.agent")
    token_id = session.scalar(select(ApiToken.id).join(User).where(User.username == "page.agent"))
    _sign_in(client, "page.agent")
    html = client.get("/account").get_data(as_text=True)
    assert f'data-token-id="{token_id}"' in html and headers["Authorization"].split()[1] not in html

    response = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": _csrf(client, "/account")})
    assert response.status_code == 302
    assert client.get("/api/v1/departments", headers=headers).status_code == 401
    assert f'data-token-id="{token_id}"' not in client.get("/account").get_data(as_text=True)


def test_one_cannot_revoke_anothers_token_from_the_account_page(app, client, session, make_user):
    make_user("agent", username="a.agent")
    make_user("agent", username="b.agent")
    headers = _token(app.test_client(), "b.agent")
    token_id = session.scalar(select(ApiToken.id).join(User).where(User.username == "b.agent"))
    _sign_in(client, "a.agent")
    response = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": _csrf(client, "/account")})
    assert response.status_code == 404
    assert client.get("/api/v1/departments", headers=headers).status_code == 200


# --- throttling failed sign-ins ----------------------------------------------------------

@pytest.fixture
def limited(sqlite_template, tmp_path, clock):
    """``limited(account=..., address=...)`` -> an app with those limits and users ann, bob, cat."""
    def build(account: str, address: str):
        path = tmp_path / "limited.db"
        shutil.copy(sqlite_template, path)
        app = support.make_app(f"sqlite:///{path}", tmp_path, LOGIN_ACCOUNT_RATE_LIMIT=account,
                               LOGIN_RATE_LIMIT=address)
        app.test_client_class = PageClient
        with app.app_context():
            make = support.UserFactory(db.session, clock.value)
            for name in ("ann", "bob", "cat"):
                make("agent", username=name)
            db.session.remove()
        return app
    clock.set("2026-11-23T09:00:10+08:00")
    return build


def test_one_account_is_protected_from_many_addresses(limited, clock):
    app = limited(account="3 per 5 minutes", address="100 per minute")
    pages = app.test_client()
    for n in range(3):
        assert _sign_in(pages, "ann", "guess", address=f"10.0.0.{n}").status_code == 200
    refused = _sign_in(pages, "ann", PASSWORD, address="10.0.9.9")
    assert refused.status_code == 429 and "登录失败次数过多" in refused.get_data(as_text=True)
    answer = app.test_client().post("/api/v1/auth/token", json={"username": "ANN", "password": PASSWORD},
                                    environ_base={"REMOTE_ADDR": "10.0.9.8"})
    assert answer.status_code == 429 and 0 < int(answer.headers["Retry-After"]) <= 300
    assert _sign_in(app.test_client(), "bob", PASSWORD, address="10.0.0.1").status_code == 302  # others unaffected

    clock.advance(minutes=5)  # the next window of the account
    assert _sign_in(app.test_client(), "ann", PASSWORD, address="10.0.9.9").status_code == 302


def test_successful_sign_ins_do_not_count_against_the_address(limited):
    app = limited(account="3 per 5 minutes", address="3 per minute")
    for n in range(6):
        assert _sign_in(app.test_client(), ("ann", "bob", "cat")[n % 3]).status_code == 302
        token = app.test_client().post("/api/v1/auth/token", json={"username": "bob", "password": PASSWORD})
        assert token.status_code == 200


def test_one_persons_typos_do_not_lock_out_the_office(limited, clock):
    app = limited(account="2 per 5 minutes", address="3 per minute")
    office = "192.0.2.10"
    assert [_sign_in(app.test_client(), "ann", "typo", office).status_code for _ in range(2)] == [200, 200]
    # ann is stopped by her account's limit; those attempts are not counted against the office's address
    assert [_sign_in(app.test_client(), "ann", "typo", office).status_code for _ in range(5)] == [429] * 5
    assert _sign_in(app.test_client(), "bob", PASSWORD, office).status_code == 302
    assert _sign_in(app.test_client(), "bob", "typo", office).status_code == 200  # the office's 3rd failure
    assert _sign_in(app.test_client(), "cat", PASSWORD, office).status_code == 429  # now the address waits
    assert _sign_in(app.test_client(), "cat", PASSWORD, "198.51.100.7").status_code == 302
    clock.advance(minutes=1)
    assert _sign_in(app.test_client(), "cat", PASSWORD, office).status_code == 302


@pytest.mark.redis
def test_failed_sign_ins_are_counted_in_redis_for_every_process(sqlite_template, tmp_path, redis_url, clock):
    """Two apps (two web processes) on one Redis share the counters."""
    import uuid
    name = f"r{uuid.uuid4().hex[:10]}"
    apps = []
    for n in range(2):
        path = tmp_path / f"p{n}.db"
        shutil.copy(sqlite_template, path)
        apps.append(support.make_app(f"sqlite:///{path}", tmp_path, RATELIMIT_STORAGE_URI=redis_url,
                                     LOGIN_ACCOUNT_RATE_LIMIT="2 per 5 minutes", LOGIN_RATE_LIMIT="100 per minute"))
    clock.set("2026-11-23T09:00:00+08:00")
    first, second = (a.test_client() for a in apps)
    from agency.extensions import limiter
    for app, client in ((apps[0], first), (apps[1], second)):
        limiter.init_app(app)  # the extension is global: bind its storage to this app's Redis again
        assert client.post("/api/v1/auth/token", json={"username": name, "password": "x"}).status_code == 401
    limiter.init_app(apps[0])
    assert first.post("/api/v1/auth/token", json={"username": name, "password": "x"}).status_code == 429
