"""Database upgrade and the one-process embedded run."""
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select


def upgrade_database() -> None:
    upgrade()


def serve(app: Flask, host: str, port: int) -> None:
    """Web, worker thread and scheduler in one process (embedded defaults)."""
    from agency import clock
    from agency.demo import build_demo
    from agency.extensions import db
    from agency.people.models import User
    from workers.scheduler import start_background
    from workers.worker import start_thread

    with app.app_context():
        upgrade_database()
        if not db.session.scalar(select(func.count()).select_from(User)):
            logins = build_demo(db.session, clock.now())
            db.session.commit()
            print("Demo data created.")
        else:
            logins = None
    if app.config.get("REDIS_URL") is None and app.config.get("EMBEDDED_WORKER"):
        start_thread(app)
        start_background(app)
        print("Embedded worker and scheduler running in this process.")
    print(f"\n  代办服务系统 running at http://{host}:{port}/\n")
    if logins:
        print("  Demo sign-ins (username / password):")
        for role, username, password in logins:
            print(f"    {role:10} {username:12} {password}")
    else:
        print("  (existing database kept; demo users, if created earlier, use password 'demo-pass-2026')")
    from werkzeug.serving import run_simple
    run_simple(host, port, app, threaded=True, use_reloader=False)
