"""``flask --app wsgi agency ...``: setup, data, the sweep, jobs, audit."""
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from agency import clock
from agency.audit.services import SYSTEM
from agency.errors import DomainError
from agency.extensions import db

agency_cli = AppGroup("agency", help="Agency-service administration.")
calendar_cli = AppGroup("calendar", help="The working-day calendar.")
agency_cli.add_command(calendar_cli)


def _now(value: str | None) -> datetime:
    if not value:
        return clock.now()
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise click.BadParameter("give a UTC offset, e.g. 2026-11-23T17:31:00+08:00", param_hint="--now")
    return parsed.astimezone(timezone.utc)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@agency_cli.command("init")
def init_command():
    """Create or upgrade the database (migrations)."""
    from agency.setup import upgrade_database
    upgrade_database()
    click.echo("database is at the latest revision")


@agency_cli.command("create-user")
@click.option("--role", required=True, type=click.Choice(["enterprise", "agent", "liaison", "director"]))
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--department", "department_code")
@click.option("--name", default="")
@click.option("--phone", default="")
@click.option("--email", default="")
@click.option("--organization", default="")
@click.option("--slot", "liaison_slot", type=click.Choice(["primary", "backup"]))
def create_user_command(role, username, password, department_code, name, phone, email, organization, liaison_slot):
    """Create a user and print its id."""
    from agency.errors import DomainError
    from agency.people.services import create_user
    try:
        user = create_user(db.session, clock.now(), SYSTEM, role=role, username=username, password=password,
                           department_code=department_code, name=name, phone=phone, email=email,
                           organization=organization, liaison_slot=liaison_slot)
    except DomainError as error:
        db.session.rollback()
        _fail(f"{error.message} {json.dumps(error.fields, ensure_ascii=False)}")
    db.session.commit()
    click.echo(user.id)


def _account_change(username: str, change) -> None:
    """Run ``change(user)`` for the user named ``username`` as the system; commit, or fail naming why."""
    from agency.people.services import get_user_by_name
    try:
        change(get_user_by_name(db.session, username))
    except DomainError as error:
        db.session.rollback()
        _fail(f"{error.message} {json.dumps(error.fields, ensure_ascii=False) if error.fields else ''}".strip())
    db.session.commit()


@agency_cli.command("deactivate-user")
@click.argument("username")
def deactivate_user_command(username):
    """The user can no longer sign in; its sessions and API tokens stop at once."""
    from agency.director.services import work_to_reassign
    from agency.people.services import deactivate_user
    left = {}
    _account_change(username, lambda user: left.update(
        work_to_reassign(db.session, deactivate_user(db.session, clock.now(), SYSTEM, user))))
    click.echo(f"{username} deactivated")
    for project in left.get("open_projects", []):
        click.echo(f"  to reassign: project {project.id} {project.name}")
    if slot := left.get("liaison_slot"):
        click.echo(f"  to reassign: liaison slot {slot['slot']} of {slot['department']}")


@agency_cli.command("reactivate-user")
@click.argument("username")
def reactivate_user_command(username):
    """The user may sign in again (old sessions and tokens stay dead)."""
    from agency.people.services import reactivate_user
    _account_change(username, lambda user: reactivate_user(db.session, clock.now(), SYSTEM, user))
    click.echo(f"{username} reactivated")


@agency_cli.command("reset-password")
@click.argument("username")
@click.option("--password", required=True)
def reset_password_command(username, password):
    """Set a user's password (the password rule applies); its sessions and API tokens end."""
    from agency.people.services import reset_password
    _account_change(username, lambda user: reset_password(db.session, clock.now(), SYSTEM, user, password))
    click.echo(f"password of {username} reset")


def _import(kind: str, path: str) -> None:
    from agency.catalog.services import import_catalog, import_project_types
    from agency.errors import DomainError
    from agency.textfiles import decode_text
    run = import_catalog if kind == "catalog" else import_project_types
    try:
        counts = run(db.session, clock.now(), SYSTEM, decode_text(Path(path).read_bytes()))
    except DomainError as error:
        db.session.rollback()
        _fail(f"{path}: {error.message}")
    db.session.commit()
    click.echo(json.dumps(counts))


@agency_cli.command("import-catalog")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_catalog_command(path):
    """Departments and approval items from a CSV (shared/data/catalog.sample.csv format)."""
    _import("catalog", path)


@agency_cli.command("import-project-types")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_project_types_command(path):
    """Project types, stages and targets from a CSV (shared/data/project_types.sample.csv format)."""
    _import("project_types", path)


@agency_cli.command("demo")
def demo_command():
    """A ready demo: catalog, users of every role, projects in several states."""
    from agency.demo import build_demo
    logins = build_demo(db.session, clock.now())
    db.session.commit()
    click.echo("demo ready; sign in with (username / password):")
    for role, username, password in logins:
        click.echo(f"  {role:10} {username:12} {password}")


@agency_cli.command("sweep")
@click.option("--now", "now_text", help="ISO 8601 instant with offset; default: the clock")
def sweep_command(now_text):
    """Apply warnings, timeout = consent, meeting rules and overdue notices as of NOW."""
    from workers.deadlines import run_sweep
    counts = run_sweep(db.session, _now(now_text))
    click.echo(json.dumps(counts))


@agency_cli.command("reconcile")
@click.option("--now", "now_text")
def reconcile_command(now_text):
    """Put back on their queues jobs that were written but never ran."""
    from workers.reconcile import reconcile
    click.echo(json.dumps({"requeued": reconcile(db.session, _now(now_text))}))


@agency_cli.command("relay")
@click.option("--once", is_flag=True, help="relay every committed job not yet on RQ, print how many, and exit")
def relay_command(once):
    """The outbox relay alone: put committed jobs on RQ as they are written (the scheduler runs one too)."""
    from workers.relay import Relay, relay_all
    if once:
        click.echo(json.dumps({"relayed": relay_all(db.session, clock.now())}))
        return
    Relay(current_app._get_current_object()).run()  # in this thread, until the process is stopped


@agency_cli.command("worker")
@click.option("--burst", is_flag=True, help="run every waiting job (and unrun outbox rows) and exit")
def worker_command(burst):
    """Run a worker on every queue."""
    from workers.worker import run_worker
    ran = run_worker(current_app._get_current_object(), burst=burst)
    if burst:
        click.echo(json.dumps({"ran": ran}))


@agency_cli.command("scheduler")
def scheduler_command():
    """The one scheduler process (production): sweep, reminders, reports, reconcile, and the outbox relay."""
    from workers.scheduler import run_blocking
    run_blocking(current_app._get_current_object())


@agency_cli.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=click.IntRange(1, 65535))
def serve_command(host, port):
    """Everything in one process on embedded defaults: web, worker thread, scheduler.

    The port is claimed first: a taken port exits 1 before the database, the demo or a thread is touched.
    """
    from agency.setup import PortTaken, serve
    try:
        serve(current_app._get_current_object(), host, port)
    except PortTaken as taken:
        _fail(f"cannot serve on http://{taken.host}:{taken.port}/: the port is {taken.reason} "
              f"(another `make run`?). Nothing was started. Stop that program or pick another port, "
              f"e.g. make run PORT={taken.port + 1}")


@agency_cli.command("verify-audit")
@click.option("--project", "project_id", type=int)
@click.option("--anchor", "anchor_text", metavar="ID:HASH",
              help="a checkpoint as a daily report printed it: it must still be there, unchanged")
def verify_audit_command(project_id, anchor_text):
    """Exit 0 if every hash chain holds, else 1 naming the first broken event."""
    from agency.audit.services import verify
    anchor = None
    if anchor_text:
        checkpoint_id, _, digest = anchor_text.partition(":")
        if not checkpoint_id.isdigit() or len(digest) != 64:
            raise click.BadParameter("give the checkpoint's id and hash, e.g. 12:3f5a...", param_hint="--anchor")
        anchor = (int(checkpoint_id), digest.lower())
    broken = verify(db.session, project_id, anchor)
    if broken:
        _fail(f"audit chain broken: {broken}")
    click.echo("audit chains intact")


@agency_cli.command("checkpoint-audit")
@click.option("--now", "now_text", help="ISO 8601 instant with offset; default: the clock")
def checkpoint_audit_command(now_text):
    """Anchor the heads of the audit chains that moved since the last checkpoint; print its id and hash."""
    from agency.audit.checkpoints import checkpoint_audit, latest_checkpoint
    checkpoint = checkpoint_audit(db.session, _now(now_text))
    db.session.commit()
    if checkpoint is not None:
        click.echo(f"checkpoint {checkpoint.id}:{checkpoint.hash} ({len(checkpoint.heads)} chains moved)")
    elif (latest := latest_checkpoint(db.session)) is not None:
        click.echo(f"no chain moved; latest checkpoint {latest.id}:{latest.hash}")
    else:
        click.echo("no audit events yet; no checkpoint")


@calendar_cli.command("add-working-days")
@click.option("--start", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--days", required=True, type=click.IntRange(min=0))
def add_working_days_command(start, days):
    """Print the date DAYS working days after START (the start day does not count)."""
    from agency.calendar.services import get_calendar
    try:
        click.echo(get_calendar(db.session).add_working_days(start.date(), days).isoformat())
    except DomainError as error:  # a date outside the calendar's range
        _fail(error.message)


@calendar_cli.command("import")
@click.argument("year", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def calendar_import_command(year, path):
    """Import a year's official arrangement (CSV: date,kind,name with kind holiday|workday)."""
    from agency.calendar.services import CalendarError, import_arrangement, parse_arrangement_csv
    from agency.textfiles import UnreadableFile, decode_text
    try:
        result = import_arrangement(db.session, clock.now(), year,
                                    parse_arrangement_csv(decode_text(Path(path).read_bytes())))
    except CalendarError as error:
        db.session.rollback()
        _fail(f"{path}: {error}")
    except UnreadableFile as error:
        _fail(f"{path}: {error.message}")
    db.session.commit()
    kept = f"; kept director overrides on {len(result.kept_overrides)} date(s)" if result.kept_overrides else ""
    click.echo(f"{year}: {result.imported} dates imported{kept}")


def init_app(app: Flask) -> None:
    app.cli.add_command(agency_cli)
