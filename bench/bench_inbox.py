"""The liaison inbox, ``GET /api/v1/tasks``, on a million tasks under gunicorn, loaded by wrk.

The reference is a bare Flask app returning a constant (``bench.bare_app``) under the same
gunicorn settings; both run at once on loopback and the wrk rounds alternate between them.
The liaison is 气象局's (QX): ~2.5 % of all tasks, a few hundred of them open.  A third row,
``?status=pending``, is the same endpoint restricted to pending tasks (an index scan), and a
fourth, ``?status=pending&project_id=999999999``, answers nothing: the fixed cost of an API request
(bearer token, user, one indexed query), the best the inbox could do under this stack.

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
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from bench.common import NOW, Statements, bench_database, database_url, median, populate, seed, table, timed

ROOT = Path(__file__).resolve().parent.parent
FULL = {"projects": 125_000, "due": 10_000, "enterprises": 200, "rounds": 3, "seconds": 10, "warmup": 3}
QUICK = {"projects": 2_000, "due": 200, "enterprises": 20, "rounds": 1, "seconds": 2, "warmup": 1}
GUNICORN = ["-w", "2", "-k", "gthread", "--threads", "4"]
WRK = ["-t2", "-c16", "--latency", "--timeout", "30s"]
DEPARTMENT = "QX"
# The same endpoint answering nothing through an index: the API's fixed cost per request (token, user, one query).
EMPTY = "/api/v1/tasks?status=pending&project_id=999999999"  # no such project (0 would mean "any")
WARM = "/api/v1/tasks?project_id=10"  # one task (project 10 is of type BENCH8Q): builds the worker's caches


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict, ready_path: str, headers: dict | None = None):
    """Serve ``app`` on a free loopback port; yields the base URL.

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
            yield base
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


def explain(session, statement) -> tuple[str, float]:
    """The plan's top lines and its execution time (ms), for a compiled SQLAlchemy statement."""
    sql = str(statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    lines = session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars().all()
    session.rollback()
    ms = float(re.search(r"Execution Time: ([\d.]+) ms", lines[-1]).group(1))
    nodes = [line.strip().split("  (")[0] for line in lines if "->" in line or line == lines[0]]
    return " / ".join(n.lstrip("-> ") for n in nodes[:4]), ms


def main(quick: bool = False) -> None:
    from agency.extensions import db
    from agency.people.access import visible_tasks
    from agency.people.models import User
    from agency.people.services import issue_token
    from agency.tasks.models import OPEN_CLAUSE, Task

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

        # The query of the handler, and the same restricted to open tasks: plans and times.
        inbox = visible_tasks(liaison).order_by(Task.deadline, Task.id).limit(1000)
        plan, plan_ms = explain(session, inbox)
        open_plan, open_ms = explain(session, visible_tasks(liaison).where(OPEN_CLAUSE)
                                     .order_by(Task.deadline, Task.id).limit(1000))
        session.remove()

        # One request in process: statements sent, and what the liaison is shown.
        previous = os.environ.get("AGENCY_NOW")
        os.environ["AGENCY_NOW"] = NOW.isoformat()
        try:
            client, responses = app.test_client(), []
            client.get("/api/v1/tasks?status=pending", headers=headers)  # warm: calendar, compiled statements
            with Statements(db.engine) as one:
                one_ms = timed(lambda: responses.append(client.get("/api/v1/tasks", headers=headers))) * 1000
            with Statements(db.engine) as pending_one:
                pending_ms = timed(lambda: responses.append(
                    client.get("/api/v1/tasks?status=pending", headers=headers))) * 1000
            response, pending_response = responses
        finally:
            if previous is None:
                os.environ.pop("AGENCY_NOW")
            else:
                os.environ["AGENCY_NOW"] = previous
        assert response.status_code == 200 and pending_response.status_code == 200, response.get_data(as_text=True)
        shown = response.get_json()
        shown_open = sum(t["status"] in ("pending", "accepted", "supplement") for t in shown)

        # gunicorn + wrk.  The bare app stays up (its requests end with wrk).  The agency app is started
        # afresh, warmed on a one-task answer, then measured on the empty answer and ?status=pending,
        # and killed; then again for the inbox: requests wrk leaves in flight (seconds of work each)
        # must not spill into the next measurement.  The bare app goes first or last, by round.
        with tempfile.TemporaryDirectory(prefix="bench-inbox-") as instance:
            env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "AGENCY_ENV")}
            env.update(DATABASE_URL=database_url("inbox"), AGENCY_ENV="development", AGENCY_NOW=NOW.isoformat(),
                       SECRET_KEY="bench-secret", AGENCY_INSTANCE=instance, PYTHONPATH=str(ROOT))
            paths = {"bare": "/", "empty": EMPTY, "pending": "/api/v1/tasks?status=pending", "inbox": "/api/v1/tasks"}
            results: dict[str, list[dict]] = {name: [] for name in paths}

            def agency(*names: str) -> None:
                with gunicorn("wsgi:app", env, WARM, headers) as base:
                    wrk(base + WARM, size["warmup"], headers)  # each worker and thread: calendar, pool
                    for name in names:
                        results[name].append(wrk(base + paths[name], size["seconds"], headers))

            with gunicorn("bench.bare_app:app", env, "/") as bare:
                wrk(bare + "/", size["warmup"])
                for round_ in range(size["rounds"]):
                    if round_ % 2 == 0:
                        results["bare"].append(wrk(bare + "/", size["seconds"]))
                    agency("empty", "pending")
                    agency("inbox")
                    if round_ % 2 == 1:
                        results["bare"].append(wrk(bare + "/", size["seconds"]))
        session.remove()

    bad = {name: [(r["errors"], r["socket_errors"]) for r in rs if r["errors"] or r["socket_errors"]]
           for name, rs in results.items()}
    def summary(rounds: list[dict]) -> dict:
        answered = [r for r in rounds if r["requests"]] or [{"p50": 0.0, "p99": 0.0}]  # latency only where some
        return {"rps": median([r["rps"] for r in rounds]),
                "p50": median([r["p50"] for r in answered]), "p99": median([r["p99"] for r in answered])}

    m = {name: summary(rounds) for name, rounds in results.items()}
    bare_rps = m["bare"]["rps"]

    def latency(r, key):  # no answer within the run: wrk has no latency to give
        return f"{r[key]:,.1f} ms" if r["rps"] else f"> {size['seconds']} s"

    def row(label, name, goal=True):
        r = m[name]
        met = r["rps"] >= bare_rps / 2 and 0 < r["p99"] < 50
        return (label, f"{r['rps']:,.1f}", latency(r, "p50"), latency(r, "p99"),
                f"{r['rps'] / bare_rps:.1%}" if name != "bare" else "100%",
                (">= 50% of bare, p99 < 50 ms" if goal else "") if name != "bare" else "reference",
                ("yes" if met else "no") if name != "bare" and goal else "")

    table(
        f"Liaison inbox under gunicorn ({' '.join(GUNICORN)}), wrk {' '.join(WRK[:2])} -d{size['seconds']}s; "
        f"median of {size['rounds']} round(s)",
        ("endpoint", "requests/s", "p50", "p99", "of bare", "goal", "met"),
        [row("bare Flask app, constant JSON", "bare"),
         row(f"GET /api/v1/tasks ({DEPARTMENT} liaison)", "inbox"),
         row("GET /api/v1/tasks?status=pending", "pending", goal=False),
         row("GET /api/v1/tasks, empty answer (fixed cost)", "empty", goal=False)],
        [(f"data: {volume[0]:,} tasks of {DEPARTMENT} among {size['projects'] * 8:,}, {volume[1]:,} open "
         f"({volume[2]:,} pending)"),
         f"the inbox answers {len(shown):,} tasks, {shown_open} of them open: the 1000 soonest deadlines are "
         f"closed tasks" if shown_open < len(shown) / 2 else f"the inbox answers {len(shown):,} tasks, "
         f"{shown_open} open",
         (f"one request in process: inbox {one_ms:,.0f} ms, {one.total:,} statements "
         f"({one.total_seconds * 1000:,.0f} ms in SQL); ?status=pending {pending_ms:,.0f} ms, "
         f"{pending_one.total:,} statements ({pending_one.total_seconds * 1000:,.0f} ms in SQL)"),
         "  inbox, by kind: " + ", ".join(f"{n:,} x {kind}" for kind, n, _ in one.by_kind()[:8]),
         f"inbox query plan ({plan_ms:.1f} ms): {plan}",
         f"open-only query plan ({open_ms:.1f} ms): {open_plan}",
         *([f"errors (non-2xx, socket): {bad}"] if any(bad.values()) else [])],
    )


if __name__ == "__main__":
    main("--quick" in sys.argv)
