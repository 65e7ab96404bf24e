"""The liaison inbox, ``GET /api/v1/tasks``, on a million tasks under gunicorn, loaded by wrk (issue #14).

The reference is floor (b): a bare Flask app (``bench.bare_app``, ``/page``) running the inbox
page's own statement, as the agency app sends it, through SQLAlchemy Core and ``jsonify``; under
the same gunicorn worker class, measured in the same run, the rounds alternating who goes first.
Both worker classes are measured: sync (``-w 2``) and gthread (``-w 2 --threads 4``).  The liaison
is 气象局's (QX): ~2.5 % of all tasks, a few hundred of them open.  Rows: the liaison's inbox
through the API, ``?status=open&limit=50`` (the first page of 50); the list of every status
(``?limit=50``, first page); and ``?status=pending&project_id=999999999``, which answers nothing:
the fixed cost of an API request (token, user, calendar, and one indexed query).  Beside each row,
the CPU the gunicorn workers and the database's backends spent per request.  In process (the
test client against floor (b)'s app called the same way), the median time of each.

Goals (#14.1): the inbox at >= 70 % of floor (b)'s requests/s under the same worker class, p99 at
most twice floor (b)'s at 16 connections; in process at least 50 % of the same floor.
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
WORKERS = {"sync": ["-w", "2", "-k", "sync"], "gthread": ["-w", "2", "-k", "gthread", "--threads", "4"]}
WRK = ["-t2", "-c16", "--latency", "--timeout", "30s"]
DEPARTMENT = "QX"
DATABASE = database_url("inbox").rpartition("/")[2]  # the one bench_database("inbox") creates
INBOX = "/api/v1/tasks?status=open&limit=50"  # the liaison inbox: the first page of 50 open tasks
LIST = "/api/v1/tasks?limit=50"  # every status, soonest deadline first: the first page of 50
# The same endpoint answering nothing through an index: the API's fixed cost per request (token, user, one query).
EMPTY = "/api/v1/tasks?status=pending&project_id=999999999"  # no such project (0 would mean "any")
WARM = "/api/v1/tasks?project_id=10"  # one task (project 10 is of type BENCH8Q): builds the worker's caches
PATHS = {"inbox": INBOX, "list": LIST, "empty": EMPTY}
FLOOR = "/page"  # floor (b): bench.bare_app
PAGE = "FROM tasks JOIN departments"  # in the list's statement (agency.tasks.schemas.task_rows)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict, ready_path: str, headers: dict | None = None, workers: tuple = ()):
    """Serve ``app`` on a free loopback port; yields the base URL and the server's process group.

    Stopped at the end (``stop``): requests wrk left in flight must not keep the CPU busy
    during the next measurement.
    """
    port = free_port()
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *workers, "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
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


def in_process(app, floor, headers: dict, times: int) -> dict:
    """Each path through the agency app's test client (no gunicorn), and the inbox page through
    floor (b)'s, alternating who goes first: the median time of a request, its statements, the
    list statement as sent (for EXPLAIN and floor (b)), and what it answered."""
    from agency.extensions import db
    client, bare = app.test_client(), floor.test_client()
    local = {}
    for name, path in PATHS.items():
        sent = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            if PAGE in statement:
                sent.append((statement, parameters))

        for _ in range(10):  # warm: token, calendar, compiled and prepared statements
            client.get(path, headers=headers)
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            with Statements(db.engine) as one:
                response = client.get(path, headers=headers)
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        assert response.status_code == 200, response.get_data(as_text=True)
        local[name] = {"statements": one, "sql": sent[-1] if sent else None, "shown": response.get_json(),
                       "link": "Link" in response.headers}
    ours, floors = {name: [] for name in PATHS}, []
    for _ in range(10):
        bare.get(FLOOR)
    for round_ in range(times):
        pair = [(floors, lambda: bare.get(FLOOR))] + [
            (ours[name], lambda path=path: client.get(path, headers=headers)) for name, path in PATHS.items()]
        for into, fn in pair if round_ % 2 == 0 else pair[::-1]:
            into.append(timed(fn) * 1000)
    for name in PATHS:
        local[name]["ms"] = median(ours[name])
    local["floor"] = {"ms": median(floors)}
    return local


def main(quick: bool = False) -> None:
    import json

    from agency.extensions import db
    from agency.people.models import User
    from agency.people.services import issue_token
    from bench import bare_app

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

        # The inbox's page statement as the agency app sends it: floor (b) runs the same.
        previous = os.environ.get("AGENCY_NOW")
        os.environ["AGENCY_NOW"] = NOW.isoformat()
        try:
            response = app.test_client().get(INBOX, headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)
            page_sql = []

            def capture(conn, cursor, statement, parameters, context, executemany):
                if PAGE in statement:
                    page_sql.append((statement, parameters))

            event.listen(db.engine, "before_cursor_execute", capture)
            try:
                app.test_client().get(INBOX, headers=headers)
            finally:
                event.remove(db.engine, "before_cursor_execute", capture)
            sql, parameters = page_sql[-1]
            json.dumps(parameters)  # floor (b) takes them as JSON
            floor = bare_app.create(database_url("inbox"), sql, parameters)
            local = in_process(app, floor, headers, 20 if quick else 200)
        finally:
            if previous is None:
                os.environ.pop("AGENCY_NOW")
            else:
                os.environ["AGENCY_NOW"] = previous
        plans = {name: explain(session, *r["sql"]) for name, r in local.items() if r.get("sql")}
        session.remove()

        # gunicorn + wrk, per worker class.  Each round starts both servers afresh (killed with their
        # process groups: requests wrk leaves in flight must not spill into the next measurement),
        # warms them, and measures floor (b) first or last by round, the agency paths in an order
        # that turns with the rounds.
        with tempfile.TemporaryDirectory(prefix="bench-inbox-") as instance:
            env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "AGENCY_ENV")}
            env.update(DATABASE_URL=database_url("inbox"), AGENCY_ENV="development", AGENCY_NOW=NOW.isoformat(),
                       SECRET_KEY="bench-secret", AGENCY_INSTANCE=instance, PYTHONPATH=str(ROOT),
                       BENCH_PAGE_SQL=sql, BENCH_PAGE_PARAMS=json.dumps(parameters))
            results: dict[tuple, list[dict]] = {(kind, name): [] for kind in WORKERS for name in ("floor", *PATHS)}
            for round_ in range(size["rounds"]):
                kinds = list(WORKERS) if round_ % 2 == 0 else list(WORKERS)[::-1]
                for kind in kinds:
                    workers = tuple(WORKERS[kind])
                    with gunicorn("bench.bare_app:app", env, FLOOR, workers=workers) as (bare, bare_group), \
                            gunicorn("wsgi:app", env, WARM, headers, workers=workers) as (base, group):
                        wrk(bare + FLOOR, size["warmup"])
                        wrk(base + WARM, size["warmup"], headers)  # each worker and thread: token, calendar, pool
                        names = list(PATHS)[round_ % len(PATHS):] + list(PATHS)[:round_ % len(PATHS)]
                        if round_ % 2 == 0:
                            results[kind, "floor"].append(measured(bare + FLOOR, size["seconds"], None, bare_group))
                        for name in names:
                            results[kind, name].append(measured(base + PATHS[name], size["seconds"], headers, group))
                        if round_ % 2 == 1:
                            results[kind, "floor"].append(measured(bare + FLOOR, size["seconds"], None, bare_group))
        session.remove()

    report(size, results, local, plans, volume)


def report(size: dict, results: dict[tuple, list[dict]], local: dict, plans: dict, volume) -> None:
    bad = {key: [(r["errors"], r["socket_errors"]) for r in rs if r["errors"] or r["socket_errors"]]
           for key, rs in results.items()}

    def summary(rounds: list[dict]) -> dict:
        answered = [r for r in rounds if r["requests"]] or [{"p50": 0.0, "p99": 0.0}]  # latency only where some
        return {"rps": median([r["rps"] for r in rounds]),
                "p50": median([r["p50"] for r in answered]), "p99": median([r["p99"] for r in answered]),
                "app_cpu": median([r["app_cpu"] for r in rounds]), "db_cpu": median([r["db_cpu"] for r in rounds])}

    m = {key: summary(rounds) for key, rounds in results.items()}

    def latency(r, key):  # no answer within the run: wrk has no latency to give
        return f"{r[key]:,.1f} ms" if r["rps"] else f"> {size['seconds']} s"

    def row(kind, label, name):
        r, floor = m[kind, name], m[kind, "floor"]
        goal = met = ""
        if name == "inbox":
            goal = f">= 70% of floor (b), p99 <= {2 * floor['p99']:.1f} ms"
            met = "yes" if r["rps"] >= 0.7 * floor["rps"] and 0 < r["p99"] <= 2 * floor["p99"] else "no"
        return (f"{kind}: {label}", f"{r['rps']:,.1f}", latency(r, "p50"), latency(r, "p99"),
                f"{r['rps'] / floor['rps']:.1%}" if name != "floor" else "100%",
                f"{r['p99'] / floor['p99']:.2f}x" if name != "floor" and floor["p99"] else "",
                f"{r['app_cpu']:.2f} + {r['db_cpu']:.2f} ms",
                " / ".join(f"{x['rps']:,.0f}" for x in results[kind, name]), goal or ("reference" if name == "floor"
                                                                                    else ""), met)

    def shown(name: str) -> str:
        tasks = local[name]["shown"]
        opened = sum(t["status"] in ("pending", "accepted", "supplement") for t in tasks)
        return f"{len(tasks)} tasks ({opened} open){', Link: next page' if local[name]['link'] else ''}"

    def statements(name: str) -> str:
        one, counts = local[name]["statements"], Counter()
        for statement, n in one.kinds.items():
            counts["SELECT tasks (the page)" if PAGE in statement else _kind(statement)] += n
        kinds = ", ".join(f"{n} x {kind}" for kind, n in counts.most_common())
        return (f"{local[name]['ms']:,.2f} ms, {one.total} statements ({one.total_seconds * 1000:,.1f} ms "
                f"in SQL): {kinds}")

    rows = []
    for kind in WORKERS:
        rows += [row(kind, "floor (b): bare Flask, the page's SQL, Core + jsonify", "floor"),
                 row(kind, f"GET {INBOX} ({DEPARTMENT} liaison's inbox)", "inbox"),
                 row(kind, f"GET {LIST} (every status)", "list"),
                 row(kind, "GET /api/v1/tasks, empty answer (fixed cost)", "empty")]
    best = max(WORKERS, key=lambda kind: m[kind, "inbox"]["rps"])
    floor_ms, inbox_ms = local["floor"]["ms"], local["inbox"]["ms"]
    table(
        f"Liaison inbox under gunicorn (-w 2, sync or gthread --threads 4), wrk {' '.join(WRK[:2])} "
        f"-d{size['seconds']}s; median of {size['rounds']} round(s)",
        ("endpoint", "requests/s", "p50", "p99", "of floor (b)", "p99 / floor's", "CPU/request: app + db",
         "each round", "goal", "met"),
        rows,
        [(f"data: {volume[0]:,} tasks of {DEPARTMENT} among {size['projects'] * 8:,}, {volume[1]:,} open "
          f"({volume[2]:,} pending)"),
         f"the inbox measures best under {best} workers "
         f"({m[best, 'inbox']['rps']:,.0f} requests/s against {m[[k for k in WORKERS if k != best][0], 'inbox']['rps']:,.0f})",
         f"in process: inbox {inbox_ms:.2f} ms, floor (b) {floor_ms:.2f} ms: {floor_ms / inbox_ms:.1%} of the floor "
         f"(goal >= 50%: {'yes' if floor_ms / inbox_ms >= 0.5 else 'no'})",
         f"first pages shown: inbox {shown('inbox')}; every status {shown('list')}; empty {shown('empty')}",
         "one request in process (median), statements of one:",
         *(f"  {name}: {statements(name)}" for name in PATHS),
         *(f"plan of the {name} page ({ms:.2f} ms): {plan}" for name, (plan, ms) in plans.items()),
         *([f"errors (non-2xx, socket): {bad}"] if any(bad.values()) else [])],
    )


if __name__ == "__main__":
    main("--quick" in sys.argv)
