"""The liaison inbox, ``GET /api/v1/tasks``, on a million tasks under gunicorn, loaded by wrk.

The reference is a bare Flask app returning a constant (``bench.bare_app``) under the same
gunicorn settings, measured in the same run, its rounds interleaved with the others.  The
liaison is 气象局's (QX): ~2.5 % of all tasks, a few hundred of them open.  Rows: the liaison's
inbox through the API, ``?status=open&limit=50`` (the first page of 50); the list
of every status (``?limit=50``, first page); and ``?status=pending&project_id=999999999``, which answers
nothing: the fixed cost of an API request (bearer token and user, one indexed query).  Beside
each row, the CPU the gunicorn workers and the database's backends spent per request.

Goal: at least half the bare endpoint's requests/s, p99 under 50 ms.
Run from the project root: ``python -m bench.bench_inbox [--quick]``.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, text

from bench.common import (NOW, Statements, _kind, bench_database, database_url, median, populate, seed, table,
                          timed)

ROOT = Path(__file__).resolve().parent.parent
FULL = {"projects": 125_000, "due": 10_000, "enterprises": 200, "rounds": 3, "seconds": 10, "warmup": 3}
QUICK = {"projects": 2_000, "due": 200, "enterprises": 20, "rounds": 1, "seconds": 2, "warmup": 1}
GUNICORN = ["-w", "2", "-k", "gthread", "--threads", "4"]
WRK = ["-t2", "-c16", "--latency", "--timeout", "30s"]
DEPARTMENT = "QX"
DATABASE = database_url("inbox").rpartition("/")[2]  # the one bench_database("inbox") creates
INBOX = "/api/v1/tasks?status=open&limit=50"  # the liaison inbox: the first page of 50 open tasks
LIST = "/api/v1/tasks?limit=50"  # every status, soonest deadline first: the first page of 50
# The same endpoint answering nothing through an index: the API's fixed cost per request (token, user, one query).
EMPTY = "/api/v1/tasks?status=pending&project_id=999999999"  # no such project (0 would mean "any")
WARM = "/api/v1/tasks?project_id=10"  # one task (project 10 is of type BENCH8Q): builds the worker's caches
PATHS = {"inbox": INBOX, "list": LIST, "empty": EMPTY}
# The floor under any database-backed endpoint of this app: ``floor_app`` (the agency app itself plus two routes).
FLOOR = {"constant": "/bench/constant", "select1": "/bench/select1"}
PAGE = "FROM tasks JOIN departments"  # in the list's statement (agency.tasks.schemas.task_rows)


def floor_app():
    """``wsgi:app`` with two routes outside the API (no token): a constant, and ``SELECT 1`` through the
    session (BEGIN, SELECT, ROLLBACK), as gunicorn's ``bench.bench_inbox:floor_app()``.

    Between the bare app and these, the cost of the agency app's own hooks; between these and the
    empty answer, the cost of an API request beyond one round trip to the database.
    """
    from flask import jsonify

    from agency import create_app
    from agency.extensions import db
    app = create_app()
    app.add_url_rule(FLOOR["constant"], "bench_constant", lambda: jsonify({"ok": True}))
    app.add_url_rule(FLOOR["select1"], "bench_select1", lambda: jsonify(db.session.execute(text("SELECT 1")).scalar()))
    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict, ready_path: str, headers: dict | None = None):
    """Serve ``app`` on a free loopback port; yields the base URL and the server's process group.

    Stopped at the end (``stop``): requests wrk left in flight must not keep the CPU busy
    during the next measurement.
    """
    port = free_port()
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *GUNICORN, "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, text=True, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    request = urllib.request.Request(base + ready_path, headers=headers or {})
                    with urllib.request.urlopen(request, timeout=30) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(f"gunicorn {app} did not start: {log.read()[-2000:]}") from None
                    time.sleep(0.2)
            yield base, process.pid  # the URL, and the process group (start_new_session) for CPU figures
        finally:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    """SIGINT to the master; after a short grace, SIGKILL to its process group (the workers it forked).

    Worker threads still busy with requests wrk abandoned would otherwise keep running.
    """
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=1)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the group this Popen created (start_new_session)
    except ProcessLookupError:
        pass
    process.wait()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(url: str, seconds: int, headers: dict | None = None) -> dict:
    """Requests/s, latency percentiles in ms, and anything that was not a 2xx answer."""
    command = ["wrk", *WRK, f"-d{seconds}s", *[a for k, v in (headers or {}).items() for a in ("-H", f"{k}: {v}")],
               url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=True).stdout

    def latency(label: str) -> float:
        value, unit = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE).groups()
        return float(value) * _UNITS[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "p50": latency("50%"), "p99": latency("99%"),
            "errors": int(errors.group(1)) if errors else 0, "socket_errors": sockets.group(1) if sockets else ""}


def explain(session, sql: str, parameters) -> tuple[str, float]:
    """The plan's top lines (without subplans) and its execution time (ms), for a statement as sent."""
    lines = session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, parameters).scalars().all()
    session.rollback()
    ms = float(re.search(r"Execution Time: ([\d.]+) ms", lines[-1]).group(1))
    main_plan = lines[:next((i for i, line in enumerate(lines) if "SubPlan" in line), len(lines))]
    nodes = [line.strip().split("  (")[0] for line in main_plan if "->" in line or line == lines[0]]
    return " / ".join(n.lstrip("-> ") for n in nodes[:4]), ms


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(group: int, database: str) -> tuple[float, float]:
    """CPU seconds used so far by process group ``group`` (gunicorn and its workers) and by the
    PostgreSQL backends connected to ``database`` (from /proc: 0 for a server on another machine)."""
    app = backends = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        ticks = int(stat[11]) + int(stat[12])  # utime + stime (fields 14 and 15 of proc(5))
        if int(stat[2]) == group:
            app += ticks
        elif command.startswith(b"postgres: ") and f" {database} ".encode() in command:
            backends += ticks
    return app / _TICK, backends / _TICK


def measured(url: str, seconds: int, headers: dict | None, group: int) -> dict:
    """``wrk`` on ``url``, with the CPU the server (``group``) and the database's backends spent per request."""
    before = cpu_seconds(group, DATABASE)
    result = wrk(url, seconds, headers)
    after = cpu_seconds(group, DATABASE)
    done = max(result["requests"], 1)
    result["app_cpu"], result["db_cpu"] = ((a - b) * 1000 / done for a, b in zip(after, before))
    return result


def in_process(app, headers: dict, path: str, times: int) -> dict:
    """``path`` through the test client (no gunicorn): the median time of a request, its statements,
    the list statement as sent (for EXPLAIN), and what it answered."""
    from agency.extensions import db
    client, sent = app.test_client(), []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if PAGE in statement:
            sent.append((statement, parameters))

    for _ in range(10):  # warm: calendar, compiled and prepared statements
        client.get(path, headers=headers)
    durations = [timed(lambda: client.get(path, headers=headers)) * 1000 for _ in range(times)]
    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with Statements(db.engine) as one:
            response = client.get(path, headers=headers)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"ms": median(durations), "statements": one, "sql": sent[-1] if sent else None,
            "shown": response.get_json(), "link": "Link" in response.headers}


def main(quick: bool = False) -> None:
    from agency.extensions import db
    from agency.people.models import User
    from agency.people.services import issue_token

    size = QUICK if quick else FULL
    with bench_database("inbox") as app:
        session = db.session
        s = seed(session, enterprises=size["enterprises"])
        populate(session, s, size["projects"], size["due"])
        liaison = session.get(User, s.liaisons[DEPARTMENT])
        token = issue_token(session, NOW - timedelta(days=1), liaison, hours=24 * 3650)
        session.commit()
        headers = {"Authorization": f"Bearer {token}"}
        volume = session.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE status IN ('pending', 'accepted', 'supplement')), "
            "count(*) FILTER (WHERE status = 'pending') FROM tasks WHERE department_id = :d"),
            {"d": liaison.department_id}).one()
        session.remove()

        # Each request in process: its time, statements sent, what the liaison is shown; plans.
        previous = os.environ.get("AGENCY_NOW")
        os.environ["AGENCY_NOW"] = NOW.isoformat()
        try:
            local = {name: in_process(app, headers, path, 20 if quick else 100) for name, path in PATHS.items()}
        finally:
            if previous is None:
                os.environ.pop("AGENCY_NOW")
            else:
                os.environ["AGENCY_NOW"] = previous
        plans = {name: explain(session, *r["sql"]) for name, r in local.items() if r["sql"]}
        session.remove()

        # gunicorn + wrk.  The bare app stays up (its requests end with wrk) and goes first or last,
        # by round.  The agency app is started afresh for each round (killed with its process group:
        # requests wrk leaves in flight must not spill into the next measurement), warmed on a
        # one-task answer, then measured on each path, in an order that turns with the rounds.
        with tempfile.TemporaryDirectory(prefix="bench-inbox-") as instance:
            env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "AGENCY_ENV")}
            env.update(DATABASE_URL=database_url("inbox"), AGENCY_ENV="development", AGENCY_NOW=NOW.isoformat(),
                       SECRET_KEY="bench-secret", AGENCY_INSTANCE=instance, PYTHONPATH=str(ROOT))
            results: dict[str, list[dict]] = {name: [] for name in ("bare", *PATHS, *FLOOR)}
            with gunicorn("bench.bare_app:app", env, "/") as (bare, bare_group):
                wrk(bare + "/", size["warmup"])
                for round_ in range(size["rounds"]):
                    if round_ % 2 == 0:
                        results["bare"].append(measured(bare + "/", size["seconds"], None, bare_group))
                    with gunicorn("wsgi:app", env, WARM, headers) as (base, group):
                        wrk(base + WARM, size["warmup"], headers)  # each worker and thread: calendar, pool
                        names = list(PATHS)[round_ % len(PATHS):] + list(PATHS)[:round_ % len(PATHS)]
                        for name in names:
                            results[name].append(measured(base + PATHS[name], size["seconds"], headers, group))
                    with gunicorn("bench.bench_inbox:floor_app()", env, FLOOR["constant"]) as (base, group):
                        wrk(base + FLOOR["select1"], size["warmup"])
                        for name in FLOOR:
                            results[name].append(measured(base + FLOOR[name], size["seconds"], None, group))
                    if round_ % 2 == 1:
                        results["bare"].append(measured(bare + "/", size["seconds"], None, bare_group))
        session.remove()

    report(size, results, local, plans, volume)


def report(size: dict, results: dict[str, list[dict]], local: dict, plans: dict, volume) -> None:
    bad = {name: [(r["errors"], r["socket_errors"]) for r in rs if r["errors"] or r["socket_errors"]]
           for name, rs in results.items()}

    def summary(rounds: list[dict]) -> dict:
        answered = [r for r in rounds if r["requests"]] or [{"p50": 0.0, "p99": 0.0}]  # latency only where some
        return {"rps": median([r["rps"] for r in rounds]),
                "p50": median([r["p50"] for r in answered]), "p99": median([r["p99"] for r in answered]),
                "app_cpu": median([r["app_cpu"] for r in rounds]), "db_cpu": median([r["db_cpu"] for r in rounds])}

    m = {name: summary(rounds) for name, rounds in results.items()}
    bare_rps = m["bare"]["rps"]

    def latency(r, key):  # no answer within the run: wrk has no latency to give
        return f"{r[key]:,.1f} ms" if r["rps"] else f"> {size['seconds']} s"

    def row(label, name, goal=True):
        r = m[name]
        met = r["rps"] >= bare_rps / 2 and 0 < r["p99"] < 50
        return (label, f"{r['rps']:,.1f}", latency(r, "p50"), latency(r, "p99"),
                f"{r['rps'] / bare_rps:.1%}" if name != "bare" else "100%",
                f"{r['app_cpu']:.2f} + {r['db_cpu']:.2f} ms",
                " / ".join(f"{x['rps']:,.0f}" for x in results[name]),
                (">= 50% of bare, p99 < 50 ms" if goal else "") if name != "bare" else "reference",
                ("yes" if met else "no") if name != "bare" and goal else "")

    def shown(name: str) -> str:
        tasks = local[name]["shown"]
        opened = sum(t["status"] in ("pending", "accepted", "supplement") for t in tasks)
        return f"{len(tasks)} tasks ({opened} open){', Link: next page' if local[name]['link'] else ''}"

    def statements(name: str) -> str:
        one, counts = local[name]["statements"], Counter()
        for statement, n in one.kinds.items():
            counts["SELECT tasks (the page)" if PAGE in statement else _kind(statement)] += n
        kinds = ", ".join(f"{n} x {kind}" for kind, n in counts.most_common())
        return (f"{local[name]['ms']:,.1f} ms, {one.total} statements ({one.total_seconds * 1000:,.1f} ms "
                f"in SQL): {kinds}")

    table(
        f"Liaison inbox under gunicorn ({' '.join(GUNICORN)}), wrk {' '.join(WRK[:2])} -d{size['seconds']}s; "
        f"median of {size['rounds']} round(s)",
        ("endpoint", "requests/s", "p50", "p99", "of bare", "CPU/request: app + db", "each round", "goal", "met"),
        [row("bare Flask app, constant JSON", "bare"),
         row(f"GET {INBOX} ({DEPARTMENT} liaison's inbox)", "inbox"),
         row(f"GET {LIST} (every status)", "list"),
         row("GET /api/v1/tasks, empty answer (fixed cost)", "empty", goal=False),
         row("agency app, constant JSON (floor)", "constant", goal=False),
         row("agency app, SELECT 1 through the session (floor)", "select1", goal=False)],
        [(f"data: {volume[0]:,} tasks of {DEPARTMENT} among {size['projects'] * 8:,}, {volume[1]:,} open "
          f"({volume[2]:,} pending)"),
         f"first pages shown: inbox {shown('inbox')}; every status {shown('list')}; empty {shown('empty')}",
         "one request in process (median), statements of one:",
         *(f"  {name}: {statements(name)}" for name in PATHS),
         *(f"plan of the {name} page ({ms:.2f} ms): {plan}" for name, (plan, ms) in plans.items()),
         *([f"errors (non-2xx, socket): {bad}"] if any(bad.values()) else [])],
    )


if __name__ == "__main__":
    main("--quick" in sys.argv)
