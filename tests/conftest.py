"""Fixtures shared by every test.

The schema is built once per run with the Alembic migrations (SQLite template
file, copied per test so each test starts from an empty, migrated database).
PostgreSQL and Redis tests use the real services; with AGENCY_REQUIRE_SERVICES=1
(set by .ci/run) an unreachable service fails the run instead of skipping.
"""
import os
import shutil
from datetime import datetime, timedelta, timezone

import pytest

os.environ.setdefault("AGENCY_INSTANCE", os.path.join(os.path.dirname(__file__), "..", "instance", "test"))

from agency.audit.services import SYSTEM  # noqa: E402
from agency.extensions import db as _db  # noqa: E402
from config import Testing  # noqa: E402
from tests import support  # noqa: E402

SAMPLE = support.SAMPLE_DIR


def _require_services() -> bool:
    return os.environ.get("AGENCY_REQUIRE_SERVICES") == "1"


def _unavailable(what: str, error: Exception):
    if _require_services():
        pytest.fail(f"{what} is required (AGENCY_REQUIRE_SERVICES=1) but unreachable: {error}")
    pytest.skip(f"{what} unreachable: {error}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "template.db"
    support.migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def app(sqlite_template, tmp_path, monkeypatch):
    monkeypatch.delenv("AGENCY_NOW", raising=False)
    path = tmp_path / "agency.db"
    shutil.copy(sqlite_template, path)
    return support.make_app(f"sqlite:///{path}", tmp_path)


@pytest.fixture(scope="session")
def pg_url():
    """A PostgreSQL database of this run only (parallel runs never share one), dropped at the end."""
    url = os.environ.get("TEST_POSTGRES_URL", f"postgresql+psycopg://postgres@127.0.0.1:5432/agency_test_{os.getpid()}")
    try:
        support.ensure_postgres_database(url)
        support.migrate(url)
    except Exception as error:  # noqa: BLE001
        _unavailable("PostgreSQL", error)
    yield url
    if "TEST_POSTGRES_URL" not in os.environ:
        support.drop_postgres_database(url)


@pytest.fixture
def pg_app(pg_url, tmp_path, monkeypatch):
    """An app on the real PostgreSQL, emptied after the test."""
    monkeypatch.delenv("AGENCY_NOW", raising=False)
    application = support.make_app(pg_url, tmp_path)
    yield application
    with application.app_context():
        _db.session.remove()
        support.truncate_all(_db.engine)
        _db.engine.dispose()


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        from redis import Redis
        Redis.from_url(url).ping()
    except Exception as error:  # noqa: BLE001
        _unavailable("Redis", error)
    return url


@pytest.fixture
def redis_app(pg_url, redis_url, tmp_path, monkeypatch):
    """An app on the real PostgreSQL and the real Redis, both emptied around the test."""
    from redis import Redis
    monkeypatch.delenv("AGENCY_NOW", raising=False)
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    application = support.make_app(pg_url, tmp_path, REDIS_URL=redis_url)
    with application.app_context():
        yield application
        _db.session.remove()
        support.truncate_all(_db.engine)
        _db.engine.dispose()
    redis.flushdb()
    redis.close()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app
        _db.session.remove()


@pytest.fixture
def session(ctx):
    return _db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def pg_hall(pg_app, clock):
    """The hall's people on PostgreSQL (``tests.tasks.build_hall``), the clock at MONDAY, in the app's
    context: ``(session, people)``."""
    from tests.tasks import MONDAY, build_hall
    with pg_app.app_context():
        session = _db.session
        people = build_hall(session, MONDAY)
        clock.set(MONDAY)
        yield session, people
        session.remove()


@pytest.fixture
def clock(monkeypatch):
    """The injected clock: sets AGENCY_NOW, which every request and command reads."""
    return support.Clock(monkeypatch)


@pytest.fixture
def now():
    return datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Shanghai


@pytest.fixture
def catalog(session, now):
    from agency.catalog.services import import_catalog, import_project_types
    import_catalog(session, now, SYSTEM, (SAMPLE / "catalog.sample.csv").read_text(encoding="utf-8"))
    import_project_types(session, now, SYSTEM, (SAMPLE / "project_types.sample.csv").read_text(encoding="utf-8"))
    session.commit()


@pytest.fixture
def make_user(session, now):
    return support.UserFactory(session, now)


@pytest.fixture
def api(client, session, now):
    """``api(user)`` -> a client that sends the user's bearer token."""
    return support.ApiClientFactory(client, session, now)


@pytest.fixture
def run_jobs(app):
    """Run every waiting job inline (the embedded Redis stand-in); returns how many ran."""
    from workers.worker import drain
    return lambda: drain(app)


@pytest.fixture
def mail(app):
    return app.extensions["mail_outbox"]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "browser" in item.keywords and os.environ.get("AGENCY_BROWSER_TESTS") == "0":
            item.add_marker(pytest.mark.skip(reason="AGENCY_BROWSER_TESTS=0"))


__all__ = ["Testing", "timedelta"]
