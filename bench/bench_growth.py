"""Growth (issue #14.4): the inbox, the sweep with nothing due and one answer cost the same at 100,000
and at 1,000,000 tasks (within 1.2x).

Two databases of the same shape (``bench.common.populate``: 12,500 and 125,000 projects of 8
tasks), both alive during the run; every measure alternates between them, round by round, and
reports the median of each.  In process (no gunicorn): the QX liaison's inbox
(``GET /api/v1/tasks?status=open&limit=50``, test client, token cached), ``run_sweep`` at an instant
where nothing is due, and one answer (``POST /api/v1/tasks/{id}/answer`` with consent, each time a
different accepted task of a running project, not due, by its department's liaison), each with the statements one sends.

Run from the project root: ``python -m bench.bench_growth [--quick]``.
"""
from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from datetime import timedelta

from sqlalchemy import text

from bench.common import NOW, Statements, bench_database, median, populate, seed, table, timed

FULL = {"sizes": {"100k": 12_500, "1M": 125_000}, "enterprises": 200, "rounds": 60, "answers": 30}
QUICK = {"sizes": {"10k": 1_250, "100k": 12_500}, "enterprises": 20, "rounds": 20, "answers": 10}
DUE_SHARE = 100  # one task in 100 past its deadline at NOW (10,000 of a million, as bench_sweep)
DEPARTMENT = "QX"
INBOX = "/api/v1/tasks?status=open&limit=50"
QUIET = NOW - timedelta(days=4)  # before every deadline and warn_at of the data (bench_sweep)
GOAL = 1.2


class Hall:
    """One database: its app, the liaison's token, the tasks it may answer."""

    def __init__(self, app, projects: int, size: dict):
        from agency.extensions import db
        from agency.people.models import User
        from agency.people.services import issue_token
        self.app = app
        with app.app_context():
            session = db.session
            s = seed(session, enterprises=size["enterprises"])
            self.volume = populate(session, s, projects, projects * 8 // DUE_SHARE)
            tokens = {}  # department id -> its primary liaison's bearer token header
            for user_id in s.liaisons.values():
                liaison = session.get(User, user_id)
                tokens[liaison.department_id] = {"Authorization": "Bearer " + issue_token(
                    session, NOW - timedelta(days=1), liaison, hours=24 * 3650)}
            self.headers = tokens[s.departments[DEPARTMENT]]
            session.commit()
            # accepted tasks of running projects, not due: each answered once, by its department's liaison
            self.answerable = [(task_id, tokens[department]) for task_id, department in session.execute(text(
                "SELECT id, department_id FROM tasks WHERE status = 'accepted' AND deadline > :t "
                "ORDER BY id LIMIT :n"), {"t": NOW + timedelta(days=2), "n": size["answers"] + 5})]
            session.remove()
        self.client = app.test_client()

    def inbox(self):
        response = self.client.get(INBOX, headers=self.headers)
        assert response.status_code == 200, response.get_data(as_text=True)

    def sweep(self):
        from agency.extensions import db
        from workers.deadlines import run_sweep
        with self.app.app_context():
            result = run_sweep(db.session, QUIET)
            db.session.rollback()
            db.session.remove()
        assert not any(result.values()), result

    def answer(self):
        task_id, headers = self.answerable.pop(0)
        response = self.client.post(f"/api/v1/tasks/{task_id}/answer", json={"decision": "consent"}, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)

    def statements(self, fn) -> int:
        from agency.extensions import db
        with self.app.app_context():
            engine = db.engine
        with Statements(engine) as one:
            fn()
        return one.total


def main(quick: bool = False) -> None:
    size = QUICK if quick else FULL
    previous = os.environ.get("AGENCY_NOW")
    os.environ["AGENCY_NOW"] = NOW.isoformat()
    try:
        with ExitStack() as stack:
            halls = {}
            for label, projects in size["sizes"].items():
                app = stack.enter_context(bench_database(f"growth_{label.lower()}"))
                halls[label] = Hall(app, projects, size)
            for hall in halls.values():  # warm: token, calendar, statements
                for _ in range(5):
                    hall.inbox()
                    hall.sweep()
                hall.answer()
            times = {(label, op): [] for label in halls for op in ("inbox", "sweep", "answer")}
            for round_ in range(size["rounds"]):
                order = list(halls) if round_ % 2 == 0 else list(halls)[::-1]
                for label in order:
                    hall = halls[label]
                    times[label, "inbox"].append(timed(hall.inbox) * 1000)
                    times[label, "sweep"].append(timed(hall.sweep) * 1000)
                    if round_ < size["answers"]:
                        times[label, "answer"].append(timed(hall.answer) * 1000)
            counts = {(label, op): halls[label].statements(getattr(halls[label], op))
                      for label in halls for op in ("inbox", "sweep", "answer")}
            volumes = {label: hall.volume for label, hall in halls.items()}
    finally:
        if previous is None:
            os.environ.pop("AGENCY_NOW", None)
        else:
            os.environ["AGENCY_NOW"] = previous

    small, large = list(size["sizes"])
    rows = []
    for op, label in (("inbox", f"GET {INBOX} ({DEPARTMENT} liaison)"), ("sweep", "run_sweep, nothing due"),
                      ("answer", "POST /api/v1/tasks/{id}/answer (consent)")):
        a, b = median(times[small, op]), median(times[large, op])
        rows.append((label, f"{a:,.2f} ms", f"{b:,.2f} ms", f"{b / a:.2f}x", f"{counts[small, op]} / {counts[large, op]}",
                     f"<= {GOAL}x", "yes" if b / a <= GOAL else "no"))
    table(f"Growth: the same requests at {small} and {large} tasks, in process, median of alternating rounds",
          ("measure", small, large, "ratio", "statements", "goal", "met"), rows,
          [f"{label}: {v['tasks']:,} tasks, {v['running']:,} running, {v['due']:,} due at NOW"
           for label, v in volumes.items()])


if __name__ == "__main__":
    main("--quick" in sys.argv)
