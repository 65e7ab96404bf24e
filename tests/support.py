"""Helpers behind the fixtures: app building, schema, factories, the clock."""
import os
from datetime import datetime, timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from agency import create_app
from agency.audit.services import SYSTEM
from config import Testing

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT.parent / "shared" / "data"
if not SAMPLE_DIR.exists():
    SAMPLE_DIR = ROOT / "agency" / "data"
PASSWORD = "correct-horse-42"


def make_app(database_url: str, tmp_path: Path, **overrides):
    from workers.queues import reset_embedded
    reset_embedded()
    config = type("TestConfig", (Testing,), {
        "SQLALCHEMY_DATABASE_URI": database_url, "UPLOAD_DIR": str(tmp_path / "uploads"),
        "REPORT_DIR": str(tmp_path / "reports"), "SECRET_KEY": "test-secret", **overrides,
    })
    return create_app(config)


def migrate(database_url: str) -> None:
    app = make_app(database_url, Path("/tmp"))
    with app.app_context():
        upgrade()
        from agency.extensions import db
        db.engine.dispose()


def ensure_postgres_database(url: str) -> None:
    """Create the test database if needed and empty it, so each run migrates from nothing."""
    base, _, name = url.rpartition("/")
    engine = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def drop_postgres_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    engine = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> "
                          "pg_backend_pid()"), {"n": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    engine.dispose()


def truncate_all(engine) -> None:
    from agency.extensions import db
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


class Clock:
    """Moves AGENCY_NOW; every request, job and command reads it at each use."""

    def __init__(self, monkeypatch):
        self._mp = monkeypatch
        self.value: datetime | None = None

    def set(self, value: datetime | str) -> datetime:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        self.value = value
        self._mp.setenv("AGENCY_NOW", value.isoformat())
        return value

    def advance(self, **delta) -> datetime:
        return self.set(self.value + timedelta(**delta))


class UserFactory:
    def __init__(self, session, now):
        self.session, self.now, self.count = session, now, 0

    def __call__(self, role: str, username: str | None = None, **fields):
        from agency.people.services import create_user
        self.count += 1
        user = create_user(self.session, self.now, SYSTEM, role=role,
                           username=username or f"{role}{self.count}", password=PASSWORD, **fields)
        self.session.commit()
        return user


class ApiClientFactory:
    def __init__(self, client, session, now):
        self.client, self.session, self.now = client, session, now

    def __call__(self, user):
        from agency.people.services import issue_token
        token = issue_token(self.session, self.now - timedelta(days=1), user, hours=24 * 3650)
        self.session.commit()
        return ApiClient(self.client, token)


class ApiClient:
    def __init__(self, client, token: str):
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def __getattr__(self, method):
        call = getattr(self.client, method)
        return lambda path, **kw: call("/api/v1" + path, headers={**self.headers, **kw.pop("headers", {})}, **kw)


def env_flag(name: str) -> bool:
    return os.environ.get(name) == "1"
