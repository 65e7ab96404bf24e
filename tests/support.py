"""Helpers behind the fixtures: app building, schema, factories, the clock."""
import os
import re
from datetime import datetime, timedelta
from pathlib import Path

from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text

from agency import create_app
from agency.audit.services import SYSTEM
from config import Testing

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT.parent / "shared" / "data"
if not SAMPLE_DIR.exists():
    SAMPLE_DIR = ROOT / "agency" / "data"
PASSWORD = "correct-horse-42"


USER_DATA_SPAN = re.compile(r'<span class="user-data">(.*?)</span>', re.S)
USER_DATA_CLASS = re.compile(r' class="user-data"|(?<=[" ])user-data(?=")| user-data(?=[ "])')


def unmark(html: str) -> str:
    """A page without the user-data marks (``|user_data``, ``class="user-data"``): they exist for the
    one-language check (tests/web/test_one_language.py), and the other tests read the text around them."""
    html = USER_DATA_SPAN.sub(r"\1", html)
    return USER_DATA_CLASS.sub("", html).replace(' class=""', "")


class UnmarkedClient(FlaskClient):
    """The test client of every test app: HTML pages come back without the user-data marks (``unmark``)."""
    keep_marks = False

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        if not self.keep_marks and response.mimetype == "text/html":
            response.set_data(unmark(response.get_data(as_text=True)))
        return response


def make_app(database_url: str, tmp_path: Path, **overrides):
    from workers.queues import reset_embedded
    reset_embedded()
    config = type("TestConfig", (Testing,), {
        "SQLALCHEMY_DATABASE_URI": database_url, "UPLOAD_DIR": str(tmp_path / "uploads"),
        "REPORT_DIR": str(tmp_path / "reports"), "SECRET_KEY": "test-secret", **overrides,
    })
    app = create_app(config)
    app.test_client_class = UnmarkedClient
    return app


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


def relay() -> int:
    """Put the committed outbox rows on RQ as the relay thread does (``workers.relay``); how many.
    In the app's context; what a test runs where the relay process would have run by then."""
    from agency import clock
    from agency.extensions import db
    from workers.relay import relay_all
    return relay_all(db.session, clock.now())


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


def import_sample_catalog(session, now) -> None:
    from agency.catalog.services import import_catalog, import_project_types
    import_catalog(session, now, SYSTEM, (SAMPLE_DIR / "catalog.sample.csv").read_text(encoding="utf-8"))
    import_project_types(session, now, SYSTEM,
                         (SAMPLE_DIR / "project_types.sample.csv").read_text(encoding="utf-8"))
    session.commit()


def build_hall(session, now) -> dict:
    """The sample catalog and the people of the ``hall`` fixture, committed.

    In this hall FGW-01 is a one-working-day item, not immediate (即办件) as in the sample catalog:
    the task, sweep and project tests follow it as the clock due the next working day (dispatched
    Monday, warned Monday 17:30, due Tuesday 17:30).  Immediate items (GA-01, SW-01, RS-01, ZJ-04
    stay immediate here) have their own tests: tests/tasks/test_immediate.py.
    """
    from agency.catalog.models import ApprovalItem, Department
    import_sample_catalog(session, now)
    session.scalar(select(ApprovalItem).where(ApprovalItem.code == "FGW-01")).immediate = False
    session.commit()
    make = UserFactory(session, now)
    people = {
        "director": make("director", "director", email="director@hall.test"),
        "agent": make("agent", "agent", email="agent@hall.test", phone="0571-1"),
        "agent2": make("agent", "agent2", email="agent2@hall.test", phone="0571-2"),
        "ent": make("enterprise", "ent", email="ent@corp.test", organization="甲公司"),
        "ent2": make("enterprise", "ent2", email="ent2@corp.test", organization="乙公司"),
    }
    for department in session.scalars(select(Department)).all():
        code = department.code.lower()
        people[f"{code}_a"] = make("liaison", f"{code}_a", department_code=department.code,
                                   liaison_slot="primary", email=f"{code}_a@hall.test")
        people[f"{code}_b"] = make("liaison", f"{code}_b", department_code=department.code,
                                   liaison_slot="backup", email=f"{code}_b@hall.test")
    return people


ENTRUST = {"name": "年产十万台精密机床项目", "project_type": "IND_PERMIT", "location": "经开区创业路8号",
           "investment_wan": "32000", "contact_name": "张经理", "contact_phone": "138-0000-0001"}


# -- the preconditions of a dispatch (R2, R14, R17): one fixture for every test that dispatches ----------

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PROJECT_CODE = "2026-330106-34-03-000001"


def ready_for_dispatch(session, now, project) -> None:
    """Meet what a dispatch of ``project`` needs, as its people would, committed; idempotent.

    The enterprise signs the agreement and gives the project code where its type needs one, and files
    every required material of the checklist, once, for every stage (as the reform wants: all at the
    start); the carrying agent, if there is one yet, accepts them in pre-review.  Materials that a
    result of the project will supply are left to it (filled, or deferred by themselves).
    """
    import io

    from agency.materials.services import checklist, file_material, prereview
    from agency.projects.services import accept_agreement, set_project_code
    from agency.people.access import is_assigned_agent
    session.refresh(project)
    if project.agreement_accepted_at is None:
        accept_agreement(session, now, project.enterprise, project)
    if project.project_type.needs_project_code and not project.project_code:
        set_project_code(session, now, project.enterprise, project, PROJECT_CODE)
    ours = [e for e in checklist(session, project) if not e.optional and not e.issuers]
    for entry in ours:
        if entry.status in ("missing", "returned"):
            file_material(session, now, project.enterprise, project, entry.name, f"{entry.name}.pdf",
                          io.BytesIO(PDF_BYTES))
    agent = project.agent or project.first_contact_agent
    unreviewed = [e.name for e in ours if e.status != "accepted"]
    if unreviewed and agent is not None and is_assigned_agent(agent, project):
        prereview(session, now, agent, project, [{"name": n, "accepted": True} for n in unreviewed])
    session.commit()


def run_together(app, *jobs) -> list:
    """Run each ``job(session, barrier)`` in its own thread and app context, released together by the barrier;
    their results (an exception for a job that raised), in order.  For the race tests on the real databases."""
    import threading

    from agency.extensions import db
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(i, job):
        with app.app_context():
            try:
                results[i] = job(db.session, barrier)
            except BaseException as error:  # noqa: BLE001 - reported to the test
                db.session.rollback()
                results[i] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a racing thread hangs (deadlock?)"
    return results


def waits_for_a_lock(url, query_like: str) -> bool:
    """Whether a statement whose text is ``LIKE query_like`` waits for a lock on the PostgreSQL database at
    ``url``, polled (up to 20,000 times) until one does: a race test's way of knowing the other side blocks."""
    from sqlalchemy import create_engine, text
    watcher = create_engine(url)
    try:
        with watcher.connect() as conn:
            for _ in range(20_000):
                if conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                    "AND query LIKE :query"), {"query": query_like}):
                    return True
                conn.rollback()  # the activity is read afresh by each transaction
        return False
    finally:
        watcher.dispose()


def committed_or_conflict(session, change, outcome=None):
    """The body of a race test's job: ``change()`` committed, then ``outcome`` (else what ``change``
    returned); ``"conflict"`` when the change was refused as one (TransitionNotAllowed, 409), rolled back."""
    from agency.errors import TransitionNotAllowed
    try:
        result = change()
        session.commit()
    except TransitionNotAllowed as error:
        session.rollback()
        assert error.status == 409
        return "conflict"
    return result if outcome is None else outcome


class StatementCounter:
    """The SQL statements an engine sends while ``on`` (the statement-count guards of issue #14)."""

    def __init__(self, engine):
        from sqlalchemy import event
        self.statements, self.on, self.engine = [], False, engine
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            self.statements.append(statement)

    def show(self) -> str:
        """The statements counted, one line each (a failing guard's message)."""
        return "\n".join(" ".join(s.split())[:160] for s in self.statements)

    def close(self):
        from sqlalchemy import event
        event.remove(self.engine, "before_cursor_execute", self._count)
