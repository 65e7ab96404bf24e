"""Database upgrade and the one-process embedded run."""
import errno
import os
import socket
from contextlib import suppress

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select
from werkzeug.serving import LISTEN_QUEUE, make_server


class PortTaken(Exception):
    """The port to serve on is in use (or not ours to take)."""

    def __init__(self, host: str, port: int, reason: str):
        super().__init__(f"port {port} on {host} is not free: {reason}")
        self.host, self.port, self.reason = host, port, reason


def upgrade_database() -> None:
    upgrade()


def claim_port(host: str, port: int) -> socket.socket:
    """Bind and listen on ``host:port`` now, before anything else starts; PortTaken if it is in use.

    The socket is kept and handed to the server, so nothing can take the port in between.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug: a TIME_WAIT port is free
    try:
        listener.bind((host, port))
        listener.listen(LISTEN_QUEUE)
    except OSError as error:
        listener.close()
        reason = "already in use" if error.errno == errno.EADDRINUSE else (error.strerror or str(error))
        raise PortTaken(host, port, reason) from error
    return listener


def prepare(app: Flask) -> tuple[bool, list[tuple[str, str, str]]]:
    """Migrate, create the demo on first run; whether it was created, and the demo sign-ins that hold."""
    from agency import clock
    from agency.demo import build_demo, demo_sign_ins
    from agency.extensions import db
    from agency.people.models import User

    with app.app_context():
        upgrade_database()
        created = not db.session.scalar(select(func.count()).select_from(User))
        if created:
            build_demo(db.session, clock.now())
            db.session.commit()
        logins = demo_sign_ins(db.session)
        db.session.remove()
    return created, logins


def serve(app: Flask, host: str, port: int) -> None:
    """Web, worker thread, scheduler and outbox relay in one process (embedded defaults).

    The port is claimed first: when it is taken this raises PortTaken before the database,
    the demo or any thread is touched.
    """
    listener = claim_port(host, port)
    try:
        if "PUBLIC_BASE_URL" not in os.environ and host in ("127.0.0.1", "localhost"):
            app.config["PUBLIC_BASE_URL"] = f"http://{host}:{port}"  # tracking links and QR codes of this run
        created, logins = prepare(app)
        if created:
            print("Demo data created.")
        if app.config.get("REDIS_URL") is None and app.config.get("EMBEDDED_WORKER"):
            from workers.scheduler import start_background
            from workers.worker import start_thread
            start_thread(app)
            start_background(app)
            print("Embedded worker, scheduler and outbox relay running in this process.")
        print(f"\n  代办服务系统 running at http://{host}:{port}/\n")
        if logins:
            print("  Demo sign-ins (username / password):")
            for role, username, password in logins:
                print(f"    {role:10} {username:12} {password}")
        else:
            print("  (existing database kept; it has no demo users)")
        server = make_server(host, port, app, threaded=True, fd=listener.fileno())
    finally:
        listener.close()  # the server holds its own copy of the socket
    try:
        with suppress(KeyboardInterrupt):  # Ctrl-C is how a person stops `make run`
            server.serve_forever()
    finally:
        server.server_close()
