"""``make run`` (issue #13, point 10): it takes a port, says so when the port is taken before it
touches anything, and prints the demo sign-ins at every start, not only the first."""
import os
import socket
import subprocess
import sys
import threading

import pytest
from sqlalchemy import select

from agency import setup
from agency.extensions import db
from tests import support


@pytest.fixture
def taken_port():
    """A port some other program listens on (a socket bound and listening in this test)."""
    other = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    other.bind(("127.0.0.1", 0))
    other.listen(1)
    yield other.getsockname()[1]
    other.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_taken_port_stops_make_run_before_anything_starts(taken_port, tmp_path):
    """The real command in its own process, on a database that does not exist yet: it must stay so."""
    database = tmp_path / "agency.db"
    env = {**os.environ, "AGENCY_ENV": "development", "DATABASE_URL": f"sqlite:///{database}",
           "AGENCY_INSTANCE": str(tmp_path / "instance")}
    env.pop("REDIS_URL", None)
    env.pop("AGENCY_NOW", None)
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "agency", "serve", "--port", str(taken_port)],
                         cwd=support.ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run
    assert f"cannot serve on http://127.0.0.1:{taken_port}/: the port is already in use" in run.stderr
    assert f"make run PORT={taken_port + 1}" in run.stderr
    assert "Nothing was started" in run.stderr
    assert "Demo" not in run.stdout and "running at" not in run.stdout
    assert not database.exists()  # no migration, no demo


def test_a_taken_port_touches_neither_database_nor_threads(app, taken_port, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("serve went on past a taken port")

    monkeypatch.setattr(setup, "prepare", must_not_run)
    monkeypatch.setattr("workers.worker.start_thread", must_not_run)
    threads = {t.name for t in threading.enumerate()}
    result = app.test_cli_runner().invoke(args=["agency", "serve", "--port", str(taken_port)])
    assert result.exit_code == 1
    assert "already in use" in result.output
    assert {t.name for t in threading.enumerate()} == threads


def test_make_run_passes_its_port_to_serve():
    dry = subprocess.run(["make", "-n", "run", "PORT=5001"], cwd=support.ROOT, capture_output=True, text=True,
                         timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert ".venv/bin/flask --app wsgi agency serve --port 5001" in dry.stdout
    dry = subprocess.run(["make", "-n", "run"], cwd=support.ROOT, capture_output=True, text=True, timeout=60,
                         env={k: v for k, v in os.environ.items() if k != "PORT"})
    assert "agency serve --port 5000" in dry.stdout


class _Server:
    """Stands in for werkzeug's server: serving returns at once, the port it was given is recorded."""

    made: list = []

    def __init__(self, host, port, app, threaded, fd):
        self.address = socket.socket(fileno=os.dup(fd)).getsockname()
        _Server.made.append(self.address)

    def serve_forever(self):
        pass

    def server_close(self):
        pass


def test_every_start_prints_the_demo_sign_ins(app, monkeypatch):
    monkeypatch.setattr(setup, "make_server", _Server)
    port = _free_port()
    runner = app.test_cli_runner()

    first = runner.invoke(args=["agency", "serve", "--port", str(port)])
    assert first.exit_code == 0, first.output
    assert "Demo data created." in first.output
    assert f"running at http://127.0.0.1:{port}/" in first.output
    assert _Server.made[-1] == ("127.0.0.1", port)  # the server serves the socket claimed first
    assert "director     demo-pass-2026" in first.output and "agent1       demo-pass-2026" in first.output

    second = runner.invoke(args=["agency", "serve", "--port", str(port)])
    assert second.exit_code == 0, second.output
    assert "Demo data created." not in second.output
    assert "Demo sign-ins" in second.output
    assert _sign_ins(second.output) == _sign_ins(first.output)

    from agency import clock
    from agency.audit.services import SYSTEM
    from agency.people.models import User
    from agency.people.services import deactivate_user, reset_password
    with app.app_context():
        user = lambda name: db.session.scalar(select(User).where(User.username == name))  # noqa: E731
        reset_password(db.session, clock.now(), SYSTEM, user("agent1"), "a-new-secret-for-agent1")
        deactivate_user(db.session, clock.now(), SYSTEM, user("ent2"))
        db.session.commit()
        db.session.remove()
    third = runner.invoke(args=["agency", "serve", "--port", str(port)])
    assert _sign_ins(third.output) == [line for line in _sign_ins(first.output)
                                       if line.split()[1] not in ("agent1", "ent2")]  # only the ones that work


def _sign_ins(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.strip().endswith("demo-pass-2026")]
