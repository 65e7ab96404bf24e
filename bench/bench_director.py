"""The director's board, rankings and supervision on PostgreSQL at hall scale.

1,000,000 tasks, 100,000 projects, 200 agents and 40 departments are generated
into a separate database (``agency_bench``, recreated each run) with
``INSERT ... SELECT generate_series``; then each page's queries (the very
functions the pages call) are timed: median of 5 runs.

Rows are inserted in time order (projects by entrustment, tasks by start), as a
live hall writes them, so a month of tasks sits in a month of pages.

Run from the project root: ``python -m bench.bench_director``
(``BENCH_DATABASE_URL`` to point elsewhere; ``--keep`` reuses existing data).
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select, text

URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/agency_bench")
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Shanghai
TZ = ZoneInfo("Asia/Shanghai")
ROUNDS = 5
PROJECTS, TASKS, AGENTS, DEPARTMENTS, ENTERPRISES = 100_000, 1_000_000, 200, 40, 1_000

# Deterministic "random" numbers: (i * a large prime) % n.
GENERATE = [
    ("departments", f"""
INSERT INTO departments (id, code, name)
SELECT d, 'D' || lpad(d::text, 2, '0'), '部门' || d FROM generate_series(1, {DEPARTMENTS}) d"""),
    ("approval items", f"""
INSERT INTO approval_items (id, code, name, department_id, statutory_days, promised_days, immediate,
                            deemed_consent_allowed, materials)
SELECT d, 'D' || lpad(d::text, 2, '0') || '-01', '事项' || d, d, 20, 1 + d % 15, false, d % 10 <> 0, '[]'
FROM generate_series(1, {DEPARTMENTS}) d"""),
    ("project types", """
INSERT INTO project_types (id, code, name, target_days)
SELECT t, 'T' || t, '类型' || t, (ARRAY[3, 5, 30, 50, 80])[t] FROM generate_series(1, 5) t"""),
    ("stage templates", """
INSERT INTO stage_templates (project_type_id, "order", name, item_codes)
SELECT t, o, '阶段' || o, json_build_array('D' || lpad(((t * 3 + o) % 40 + 1)::text, 2, '0') || '-01')
FROM generate_series(1, 5) t, generate_series(1, 3) o"""),
    ("director", """
INSERT INTO users (id, username, password_hash, role, name, phone, email, organization, on_leave, skills, active,
                   session_nonce, created_at)
VALUES (1, 'director', 'x', 'director', '主任', '', '', '', false, '[]', true, 'n', now())"""),
    ("agents", f"""
INSERT INTO users (id, username, password_hash, role, name, phone, email, organization, on_leave, skills, active,
                   session_nonce, created_at)
SELECT 1 + a, 'agent' || a, 'x', 'agent', '代办员' || a, '0571-' || a, '', '', a % 25 = 0,
       CASE WHEN a % 3 = 0 THEN json_build_array('T' || (1 + a % 5), 'T' || (1 + (a + 2) % 5))
            ELSE '[]'::json END, true, 'n', now()
FROM generate_series(1, {AGENTS}) a"""),
    ("liaisons", f"""
INSERT INTO users (id, username, password_hash, role, name, phone, email, organization, department_id, liaison_slot,
                   on_leave, skills, active, session_nonce, created_at)
SELECT 1000 + d * 2 + s, 'liaison' || d || '-' || s, 'x', 'liaison', '联络员' || d || '-' || s, '', '', '', d,
       CASE s WHEN 0 THEN 'primary' ELSE 'backup' END, d % 13 = 0, '[]', true, 'n', now()
FROM generate_series(1, {DEPARTMENTS}) d, generate_series(0, 1) s"""),
    ("enterprises", f"""
INSERT INTO users (id, username, password_hash, role, name, phone, email, organization, on_leave, skills, active,
                   session_nonce, created_at)
SELECT 2000 + e, 'ent' || e, 'x', 'enterprise', '企业' || e, '', '', '企业' || e, false, '[]', true, 'n', now()
FROM generate_series(1, {ENTERPRISES}) e"""),
    ("projects", f"""
INSERT INTO projects (id, name, project_type_id, enterprise_id, agent_id, first_contact_agent_id, location,
                      investment_wan, contact_name, contact_phone, tracking_code, status, suspended, entrusted_at,
                      completed_at, terminated_at, termination_reason, created_at)
SELECT row_number() OVER (ORDER BY e, i), '项目' || i, 1 + i % 5, 2001 + i % {ENTERPRISES},
       CASE WHEN i % 1000 = 7 THEN NULL ELSE 2 + ((i::bigint * 2654435761) % 4294967291) % {AGENTS} END, NULL, '',
       (i::bigint * 104729) % 50000, '', '', 'B' || i, st, false, e,
       CASE WHEN st = 'completed' THEN least(e + ((i * 31) % 70 + 3) * interval '1 day', :now - interval '1 hour') END,
       CASE WHEN st = 'terminated' THEN e + interval '9 days' END, '', e
FROM (SELECT i, CASE WHEN i % 10 < 6 THEN 'completed' WHEN i % 10 < 9 THEN 'in_progress'
                     WHEN i % 20 = 9 THEN 'terminated' ELSE 'entrusted' END AS st,
             :now - (((i * 7919) % 380) + 5) * interval '1 day' - (i % 9) * interval '1 hour' AS e
      FROM generate_series(1, {PROJECTS}) i) g
ORDER BY e, i"""),
    ("stages", """
INSERT INTO stages (id, project_id, "order", name, status, dispatched_at, closed_at)
SELECT (p.id - 1) * 3 + o, p.id, o, '阶段' || o,
       CASE p.status WHEN 'completed' THEN 'closed' WHEN 'terminated' THEN 'cancelled' WHEN 'entrusted' THEN 'waiting'
            ELSE CASE WHEN o < 1 + p.id % 3 THEN 'closed' WHEN o = 1 + p.id % 3 THEN 'open' ELSE 'waiting' END END,
       p.entrusted_at + (o - 1) * interval '10 days', NULL
FROM projects p, generate_series(1, 3) o"""),
    ("tasks", f"""
INSERT INTO tasks (id, project_id, stage_id, department_id, item_id, status, outcome, outcome_reason, opinion,
                   promised_days, started_at, deadline, warn_at, answered_at, supplement_count, cancel_reason,
                   created_at)
SELECT row_number() OVER (ORDER BY started, j), pid, sid, dep, dep, st,
       CASE WHEN st = 'answered' THEN CASE WHEN j % 50 = 0 THEN 'refuse' ELSE 'consent' END
            WHEN st = 'deemed_consent' THEN 'consent' END,
       CASE WHEN st = 'deemed_consent' THEN CASE WHEN j % 2 = 0 THEN 'timeout' ELSE 'absence' END END,
       '', pd, started, started + pd * interval '33 hours', started + pd * interval '33 hours' - interval '1 day',
       CASE WHEN st IN ('answered', 'deemed_consent')
            THEN least(started + ((j * 7) % (pd * 2) + 1) * interval '19 hours', :now - interval '1 minute') END,
       CASE WHEN j % 40 = 0 THEN 2 WHEN j % 9 = 0 THEN 1 ELSE 0 END, '', started
FROM (
  SELECT j, p.id AS pid, s.id AS sid, 1 + (j * 13) % {DEPARTMENTS} AS dep, 1 + j % 15 AS pd,
         CASE WHEN p.status = 'completed' THEN CASE WHEN j % 17 = 0 THEN 'deemed_consent' ELSE 'answered' END
              WHEN p.status IN ('terminated', 'entrusted') OR s.status = 'waiting' THEN 'cancelled'
              WHEN s.status = 'closed' THEN 'answered'
              WHEN j % 2 = 0 THEN 'answered'
              ELSE (ARRAY['pending', 'accepted', 'supplement'])[1 + j % 3] END AS st,
         CASE WHEN s.status = 'open' THEN :now - ((j * 3) % 20) * interval '1 day' - (j % 7) * interval '1 hour'
              ELSE s.dispatched_at + (j % 5) * interval '1 hour' END AS started
  FROM generate_series(1, {TASKS}) j
  JOIN projects p ON p.id = 1 + (j - 1) % {PROJECTS}
  JOIN stages s ON s.id = (p.id - 1) * 3 + 1 + ((j - 1) / {PROJECTS}) % 3
) g
ORDER BY started, j"""),
    ("cards", """
INSERT INTO cards (key, color, reason, department_id, agent_id, project_id, task_id, detail, at)
SELECT 'bench:' || k, CASE WHEN k % 3 = 0 THEN 'red' ELSE 'yellow' END,
       CASE WHEN k % 3 = 0 THEN 'timeout' WHEN k % 2 = 0 THEN 'warning' ELSE 'second_supplement' END,
       t.department_id, NULL, t.project_id, t.id, '', :now - ((k * 7) % 400) * interval '1 day' - (k % 11) * interval '1 hour'
FROM generate_series(1, 60000) k JOIN tasks t ON t.id = k * 16"""),
    ("ratings", """
INSERT INTO ratings (project_id, task_id, department_id, agent_id, level, comment, rated_by_id, created_at)
SELECT p.id, NULL, NULL, p.agent_id, 1 + (p.id * 7) % 5, '', p.enterprise_id, p.completed_at + interval '1 day'
FROM projects p WHERE p.status = 'completed' AND p.agent_id IS NOT NULL
UNION ALL
SELECT t.project_id, t.id, t.department_id, NULL, 1 + (t.id * 3) % 5, '', 2001, t.answered_at + interval '2 hours'
FROM tasks t WHERE t.id % 20 = 0 AND t.status = 'answered'"""),
    ("escalations", """
INSERT INTO escalations (task_id, project_id, reason, at, resolution)
SELECT t.id, t.project_id, 'timeout_deemed_consent_forbidden', t.deadline, ''
FROM tasks t WHERE t.status IN ('pending', 'accepted') AND t.deadline < :now AND t.id % 97 = 0"""),
]


def recreate_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    engine = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def make_app(url: str):
    from agency import create_app
    from config import Testing
    folder = tempfile.mkdtemp(prefix="bench-director-")
    config = type("BenchConfig", (Testing,), {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                                               "REPORT_DIR": folder, "UPLOAD_DIR": folder})
    return create_app(config)


def load(app) -> None:
    from flask_migrate import upgrade

    from agency.extensions import db
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            for name, sql in GENERATE:
                begin = time.perf_counter()
                count = conn.execute(text(sql), {"now": NOW}).rowcount
                print(f"  {name:<16} {count:>10,} rows  {time.perf_counter() - begin:6.1f} s", flush=True)
            for table in ("users", "departments", "projects", "stages", "tasks", "cards", "ratings", "escalations",
                          "stage_templates"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    runs, result = [], None
    for _ in range(ROUNDS):
        begin = time.perf_counter()
        result = fn()
        runs.append((time.perf_counter() - begin) * 1000)
    return statistics.median(runs), result


def pages(session):
    """page -> [(query name, function)], the calls each page makes (agency.director.views, supervision.views)."""
    from agency.calendar.services import get_calendar
    from agency.director import services, workload
    from agency.supervision import board, figures
    from agency.supervision.figures import Period

    today = NOW.astimezone(TZ).date()
    month = Period(today.replace(day=1), today)
    year = Period(today - timedelta(days=364), today)
    trend = Period(today - timedelta(days=today.weekday() + 7 * 11), today)
    calendar = get_calendar(session)

    def board_page():  # as agency.director.views.workload_board
        loads, agents = workload.agent_loads(session), workload.available_agents(session)
        workload.workload(session, loads)
        projects, _ = workload.unassigned_projects(session)
        return [workload.suggest_agent(session, p, loads, agents=agents) for p in projects]

    unassigned = workload.unassigned_projects(session, limit=1)[0][0]
    return {
        "director.workload": [
            ("loads, projects by stage, 100 unassigned with suggestions", board_page),
            ("departments without a reachable liaison", lambda: services.unreachable_departments(session)),
        ],
        "GET /projects/{id}/assignment-suggestion": [
            ("suggest_agent", lambda: workload.suggest_agent(session, unassigned)),
        ],
        "director.rankings (this month)": [
            ("department_figures", lambda: figures.department_figures(session, calendar, month, TZ)),
            ("agent_figures", lambda: figures.agent_figures(session, calendar, month, TZ)),
            ("project_type_figures", lambda: figures.project_type_figures(session, calendar, month, TZ)),
            ("weekly_trend (12 weeks)", lambda: figures.weekly_trend(session, trend, TZ)),
        ],
        "director.rankings (a whole year)": [
            ("department_figures", lambda: figures.department_figures(session, calendar, year, TZ)),
            ("agent_figures", lambda: figures.agent_figures(session, calendar, year, TZ)),
            ("project_type_figures", lambda: figures.project_type_figures(session, calendar, year, TZ)),
        ],
        "supervision.board (this month)": [
            ("cards_by_department", lambda: board.cards_by_department(session, month, TZ)),
            ("cards_by_agent", lambda: board.cards_by_agent(session, month, TZ)),
            ("recent_cards (200, with tasks)", lambda: board.recent_cards(session, month, TZ)),
            ("tasks_due_today (200 soonest + count)", lambda: board.tasks_due_today(session, NOW, TZ)[0]),
            ("open_escalations", lambda: board.open_escalations(session)),
        ],
    }


def main(argv: list[str]) -> None:
    from agency.extensions import db
    from agency.tasks.models import Task
    keep = "--keep" in argv
    app = make_app(URL)
    if not keep:
        print(f"generating into {URL.rpartition('@')[2]} ...", flush=True)
        with app.app_context():
            db.engine.dispose()
        recreate_database(URL)
        begin = time.perf_counter()
        load(app)
        print(f"  loaded in {time.perf_counter() - begin:.1f} s\n")
    with app.app_context():
        session = db.session
        tasks = session.scalar(select(func.count()).select_from(Task))
        print(f"{tasks:,} tasks; now = {NOW.astimezone(TZ):%Y-%m-%d %H:%M} Asia/Shanghai; median of {ROUNDS} runs (ms)\n")
        print(f"{'page / query':<58} {'median ms':>10} {'rows':>8}")
        totals = []
        for page, queries in pages(session).items():
            print(page)
            page_total = 0.0
            for name, fn in queries:
                ms, result = timed(fn)
                session.expunge_all()
                page_total += ms
                rows = len(result) if hasattr(result, "__len__") else 1
                print(f"  {name:<56} {ms:>10.1f} {rows:>8,}")
            print(f"  {'page total':<56} {page_total:>10.1f}")
            totals.append((page, page_total))
        print("\npage totals (sum of the medians):")
        for page, total in totals:
            print(f"  {page:<56} {total:>10.1f}")
        session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
