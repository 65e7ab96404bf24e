"""What every benchmark shares: a fresh PostgreSQL database, seed data, a million tasks, timing and tables.

Each benchmark gets its own database (``agency_bench_<name>``), created or
emptied and migrated with the helpers of ``tests.support``, and dropped at the
end.  ``BENCH_POSTGRES`` points at another server (default: loopback, trust).
"""
from __future__ import annotations

import gc
import logging
import os
import statistics
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from redis import Redis
from sqlalchemy import create_engine, event, select, text, update
from sqlalchemy.orm import Session

from agency.audit.services import SYSTEM
from tests.support import SAMPLE_DIR, ensure_postgres_database, make_app, migrate

# create_app's OpenAPI spec warns about two AnswerInput schemas; not what these benchmarks are about.
warnings.filterwarnings("ignore", message="Multiple schemas resolved to the name")

PG_BASE = os.environ.get("BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
# Production runs on Redis, so do the benches; a database of its own, emptied before and after.
# BENCH_REDIS=embedded uses the in-process stand-in of development and tests instead.
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14")
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in the hall (Asia/Shanghai)
PASSWORD = "bench-pass-2026"

# Eight approval items in one stage, across several departments, every one deemable on timeout.
BENCH8 = ("FGW-02", "ZRGH-01", "ZRGH-03", "ZJ-01", "ZJ-03", "RF-01", "SL-01", "DA-01")
# A second type carrying QX-01, so the 气象局 (QX) sees ~2.5 % of all tasks: the inbox's liaison.
BENCH8Q = ("FGW-02", "ZRGH-01", "ZRGH-03", "ZJ-01", "ZJ-03", "QX-01", "SL-01", "DA-01")


# -- the database ---------------------------------------------------------------


def database_url(name: str) -> str:
    return f"{PG_BASE}/agency_bench_{name}"


@contextmanager
def bench_database(name: str) -> Iterator:
    """An app bound to a fresh, migrated ``agency_bench_<name>``; its app context is pushed.  Dropped at the end."""
    url = database_url(name)
    ensure_postgres_database(url)
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)  # alembic's "Running upgrade" lines
    try:
        migrate(url)
    finally:
        logging.disable(previous)
    redis = None if REDIS_URL == "embedded" else Redis.from_url(REDIS_URL)
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        app = make_app(url, Path(tmp), REDIS_URL=redis and REDIS_URL)
        from agency.extensions import db
        try:
            if redis:
                redis.flushdb()
            with app.app_context():
                gc.freeze()  # as the production processes do after start-up (wsgi.py, workers.runner)
                yield app
                db.session.remove()
                db.engine.dispose()
        finally:
            drop_database(url)
            if redis:
                redis.flushdb()


def drop_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    engine = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def autocommit(session: Session, sql: str) -> None:
    """VACUUM and friends, outside a transaction."""
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(sql))


# -- seed data through the services ------------------------------------------------


@dataclass
class Seed:
    director: int
    agents: list[int]
    enterprises: list[int]
    liaisons: dict[str, int]  # department code -> primary liaison's user id
    departments: dict[str, int]  # department code -> id
    types: dict[str, int] = field(default_factory=dict)  # project type code -> id


def add_project_type(session: Session, code: str, name: str, item_codes: tuple[str, ...]) -> int:
    """One stage holding every item: ``len(item_codes)`` department tasks in parallel."""
    from agency.catalog.models import ProjectType, StageTemplate
    ptype = ProjectType(code=code, name=name, target_days=20,
                        stages=[StageTemplate(order=1, name="并联审批", item_codes=list(item_codes))])
    session.add(ptype)
    session.flush()
    return ptype.id


def seed(session: Session, enterprises: int = 200, agents: int = 20) -> Seed:
    """Sample catalog and project types, the two bench types, and users, through the services."""
    from agency.catalog.models import Department
    from agency.catalog.services import import_catalog, import_project_types
    from agency.people.services import create_user

    import_catalog(session, NOW, SYSTEM, (SAMPLE_DIR / "catalog.sample.csv").read_text(encoding="utf-8"))
    import_project_types(session, NOW, SYSTEM, (SAMPLE_DIR / "project_types.sample.csv").read_text(encoding="utf-8"))
    # The bench types' items ask for no material: filing and pre-review (R14) are measured by bench_materials,
    # not inside the workflow's dispatch, which only reads the (empty) checklist.
    from agency.catalog.models import ApprovalItem
    session.execute(update(ApprovalItem).where(ApprovalItem.code.in_(set(BENCH8) | set(BENCH8Q))).values(materials=[]))
    departments = {d.code: d.id for d in session.scalars(select(Department))}

    def user(role: str, username: str, **fields) -> int:
        return create_user(session, NOW, SYSTEM, role=role, username=username, password=PASSWORD,
                           name=username, phone="13800000000", email=f"{username}@bench.example.cn", **fields).id

    result = Seed(
        director=user("director", "director"),
        agents=[user("agent", f"agent{i}") for i in range(agents)],
        enterprises=[user("enterprise", f"ent{i}", organization=f"企业{i}有限公司") for i in range(enterprises)],
        liaisons={code: user("liaison", f"liaison_{code.lower()}", department_code=code) for code in departments},
        departments=departments,
    )
    result.types["BENCH8"] = add_project_type(session, "BENCH8", "基准项目(8部门并联)", BENCH8)
    result.types["BENCH8Q"] = add_project_type(session, "BENCH8Q", "基准项目(含防雷)", BENCH8Q)
    session.commit()
    return result


# -- a million tasks in SQL --------------------------------------------------------

RUNNING_SHARE = 25  # one project in 25 is running (stage open); the rest are completed or terminated


def populate(session: Session, s: Seed, projects: int, due: int, now: datetime = NOW) -> dict:
    """``projects`` projects of one stage with 8 tasks each, built by INSERT ... SELECT generate_series.

    - every fifth project is of type BENCH8Q (its QX-01 task goes to 气象局), the rest BENCH8;
    - one project in 25 is running: of its 8 tasks 3 pending, 3 accepted, 2 answered, deadlines
      2-30 days after ``now`` (warn_at one day before);
    - one in 50 is terminated (tasks cancelled); the others completed 1-24 months ago (answered,
      a tenth of the last tasks deemed consent), all deadlines in the past;
    - exactly ``due`` running tasks, picked at random, get a deadline in the 3 days before
      ``now`` and were warned already, so at ``now`` the sweep deems exactly those.
    """
    from agency.catalog.models import ApprovalItem
    items = {i.code: i for i in session.scalars(select(ApprovalItem))}
    slots = [(s.types[code], k, items[c].id, items[c].department_id, items[c].promised_days)
             for code, codes in (("BENCH8", BENCH8), ("BENCH8Q", BENCH8Q)) for k, c in enumerate(codes)]
    params = {"n": projects, "t": now, "due": due, "ta": s.types["BENCH8"], "tq": s.types["BENCH8Q"],
              "ents": s.enterprises, "agents": s.agents}
    statements = [
        "SET session_replication_role = replica",  # no FK triggers during the bulk load (consistent by construction)
        ("CREATE TEMP TABLE bench_slots (type_id int, k int, item_id int, department_id int, promised_days int)"
        " ON COMMIT DROP"),
        "INSERT INTO bench_slots VALUES " + ", ".join(f"({a}, {b}, {c}, {d}, {e})" for a, b, c, d, e in slots),
        "CREATE TEMP TABLE bench_projects (p int, type_id int, state text, started timestamptz) ON COMMIT DROP",
        """INSERT INTO bench_projects
           SELECT p, CASE WHEN p % 5 = 0 THEN :tq ELSE :ta END AS type_id,
                  CASE WHEN (p / 5) % 25 = 2 THEN 'running' WHEN p % 50 = 7 THEN 'terminated'
                       ELSE 'completed' END AS state,
                  CASE WHEN (p / 5) % 25 = 2 THEN :t - interval '10 days'
                       ELSE :t - interval '1 day' * (30 + (p * 7) % 700) END AS started
           FROM generate_series(1, :n) AS p""",
        """INSERT INTO projects (id, name, project_type_id, enterprise_id, agent_id, first_contact_agent_id, location,
                                 investment_wan, contact_name, contact_phone, tracking_code, status, suspended,
                                 agreement_accepted_at, entrusted_at, completed_at, terminated_at,
                                 termination_reason, created_at)
           SELECT p, '基准项目' || p, type_id, (CAST(:ents AS int[]))[1 + p % cardinality(CAST(:ents AS int[]))],
                  (CAST(:agents AS int[]))[1 + p % cardinality(CAST(:agents AS int[]))],
                  (CAST(:agents AS int[]))[1 + p % cardinality(CAST(:agents AS int[]))],
                  '开发区', (p % 1000) * 10, '联系人', '13800000000', 'BX' || lpad(p::text, 8, '0'),
                  CASE state WHEN 'running' THEN 'in_progress' WHEN 'terminated' THEN 'terminated'
                             ELSE 'completed' END, false, started, started,
                  CASE WHEN state = 'completed' THEN started + interval '20 days' END,
                  CASE WHEN state = 'terminated' THEN started + interval '3 days' END,
                  CASE WHEN state = 'terminated' THEN '企业撤回委托' ELSE '' END, started
           FROM bench_projects""",
        """INSERT INTO stages (id, project_id, "order", name, status, dispatched_at, closed_at)
           SELECT p, p, 1, '并联审批', CASE state WHEN 'running' THEN 'open' WHEN 'terminated' THEN 'cancelled'
                                               ELSE 'closed' END,
                  started, CASE WHEN state = 'completed' THEN started + interval '20 days' END
           FROM bench_projects""",
        """INSERT INTO tasks (id, project_id, stage_id, department_id, item_id, status, outcome, outcome_reason,
                              opinion, promised_days, started_at, deadline, warn_at, delivered_at, accepted_at,
                              answered_at, supplement_count, cancel_reason, created_at)
           SELECT (p - 1) * 8 + k + 1, p, p, department_id, item_id, status,
                  CASE WHEN status IN ('answered', 'deemed_consent') THEN 'consent' END,
                  CASE WHEN status = 'deemed_consent' THEN 'timeout' END,
                  '', promised_days, started, deadline, deadline - interval '1 day', started,
                  CASE WHEN status IN ('accepted', 'answered') THEN started + interval '1 day' END,
                  CASE WHEN status IN ('answered', 'deemed_consent') THEN LEAST(deadline, started + interval '5 days')
                  END,
                  0, CASE WHEN status = 'cancelled' THEN '企业撤回委托' ELSE '' END, started
           FROM (SELECT p, k, s.department_id, s.item_id, s.promised_days, started,
                        CASE WHEN state = 'running' THEN (CASE WHEN (p + k) % 8 < 3 THEN 'pending'
                                                               WHEN (p + k) % 8 < 6 THEN 'accepted'
                                                               ELSE 'answered' END)
                             WHEN state = 'terminated' THEN 'cancelled'
                             WHEN k = 7 AND p % 10 = 3 THEN 'deemed_consent'
                             ELSE 'answered' END AS status,
                        CASE WHEN state = 'running'
                             THEN :t + interval '2 days' + interval '1 hour' * (((p - 1) * 8 + k) % 672)
                             ELSE started + interval '14 days' END AS deadline
                 FROM bench_projects JOIN bench_slots s USING (type_id)) AS t""",
        """UPDATE tasks SET deadline = :t - interval '1 minute' * (1 + id % 4320),
                            warn_at = :t - interval '1 day' - interval '1 minute' * (1 + id % 4320),
                            warned_at = :t - interval '1 day' - interval '1 minute' * (1 + id % 4320)
           WHERE id IN (SELECT id FROM tasks WHERE status IN ('pending', 'accepted') ORDER BY md5(id::text)
                        LIMIT :due)""",
        "SET session_replication_role = DEFAULT",
    ]
    for sql in statements:
        session.execute(text(sql), params)
    for table in ("projects", "stages", "tasks"):
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    session.commit()
    autocommit(session, "VACUUM ANALYZE")
    return dict(session.execute(text(
        "SELECT count(*) AS tasks, count(*) FILTER (WHERE status IN ('pending', 'accepted')) AS running, "
        "count(*) FILTER (WHERE status IN ('pending', 'accepted') AND deadline <= :t) AS due FROM tasks"),
        {"t": now}).mappings().one())


# -- timing, statement counting, tables --------------------------------------------


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call takes, starting with no garbage left by what ran before it.

    Benches alternate runners in one process: without the collection first, a runner would pay for
    the cycles another left behind (bench_workflow's answers took 1.3x as long beside SpiffWorkflow's
    runs as beside the floor's alone).  Each runner still pays the collections its own work triggers.
    """
    gc.collect()
    begin = time.perf_counter()
    fn()
    return time.perf_counter() - begin


def median(values) -> float:
    return statistics.median(values)


class Statements:
    """Counts the SQL statements an engine sends, and the time each kind takes, by the statement's opening words."""

    def __init__(self, engine):
        self.engine, self.total, self.kinds, self.seconds = engine, 0, Counter(), Counter()

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.total += 1
        self.kinds[statement] += 1
        self.seconds[statement] += time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())

    def __enter__(self) -> Self:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def by_kind(self) -> list[tuple[str, int, float]]:
        """(``SELECT projects``, count, seconds), most frequent first."""
        kinds: dict[str, list] = {}
        for statement, count in self.kinds.items():
            entry = kinds.setdefault(_kind(statement), [0, 0.0])
            entry[0] += count
            entry[1] += self.seconds[statement]
        return sorted(((k, n, t) for k, (n, t) in kinds.items()), key=lambda e: -e[1])


@contextmanager
def relay_process(database: str, tmp: Path) -> Iterator[None]:
    """The outbox relay as production runs it, in a process of its own (``flask agency relay``), on the
    bench's database and Redis: jobs written by jobs (a task's delivery writes its e-mail job) reach RQ."""
    import subprocess
    import sys
    env = {**os.environ, "AGENCY_ENV": "development", "DATABASE_URL": database, "REDIS_URL": REDIS_URL,
           "MAIL_BACKEND": "memory", "SECRET_KEY": "bench", "AGENCY_INSTANCE": str(tmp / "instance"),
           "UPLOAD_DIR": str(tmp / "uploads"), "REPORT_DIR": str(tmp / "reports")}
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "agency", "relay"],
                               cwd=Path(__file__).resolve().parent.parent, env=env)
    try:
        yield
    finally:
        process.terminate()
        process.wait(10)


def relay_timed() -> tuple[int, float]:
    """One relay pass over what the bench committed (``workers.relay.relay_all``; in production the
    relay is a thread of the scheduler process, or a process of its own): jobs put on RQ, seconds."""
    from agency import clock
    from agency.extensions import db
    from workers.relay import relay_all
    begin = time.perf_counter()
    count = relay_all(db.session, clock.now())
    seconds = time.perf_counter() - begin
    db.session.remove()
    return count, seconds


def _kind(statement: str) -> str:
    words = statement.replace("\n", " ").split()
    verb = words[0].upper() if words else "?"
    target = "?"
    markers = ("INTO",) if verb == "INSERT" else ("FROM", "UPDATE")
    for marker in markers:
        if marker in (w.upper() for w in words):
            index = [w.upper() for w in words].index(marker)
            if verb == "UPDATE":
                index = 0
            if index + 1 < len(words):
                target = words[index + 1].strip('"(,')
            break
    if "pg_advisory_xact_lock" in statement:
        return "SELECT pg_advisory_xact_lock"
    if verb == "WITH":  # data-modifying CTEs (the notices): the tables written
        upper = [w.upper() for w in words]
        written = [words[i + 1].strip('"(,') for i, w in enumerate(upper[:-1]) if w == "INTO"]
        if written:
            return "WITH: INSERT " + " + ".join(written)
    if "FOR UPDATE" in statement.upper():
        return f"{verb} {target} FOR UPDATE"
    return f"{verb} {target}"


def table(title: str, header: tuple[str, ...], rows: list[tuple], notes: list[str] = ()) -> None:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    print("-" * len(title))
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    for note in notes:
        print(note)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.2f} ms"

