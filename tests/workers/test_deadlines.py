"""The deadline sweep (R5): warnings, timeout = consent, escalation, idempotence, the index."""
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select, text

from agency.audit.models import AuditEvent
from agency.audit.services import verify
from agency.clock import local
from agency.extensions import db
from agency.supervision.models import Card, Escalation
from agency.tasks.models import Task
from agency.tasks.services import answer_task, request_supplement, supply_materials
from tests.tasks import (  # noqa: F401  (fixtures)
    MONDAY,
    app,
    as_actor,
    build_hall,
    count,
    deadline_from,
    events_for,
    hall,
    hall_template,
    inbox,
    liaison_of,
    shared_app,
    start,
)
from workers.deadlines import run_sweep

KEYS = ("warned", "deemed_consent", "escalated")


def sweep_cli(app, when: str) -> dict:  # noqa: F811
    result = app.test_cli_runner().invoke(args=["agency", "sweep", "--now", when])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    return {k: counts[k] for k in KEYS}


def sweep(session, when: datetime) -> dict:
    """run_sweep's counts of the task rules (other rules may add their own counts)."""
    counts = run_sweep(session, when)
    return {k: counts[k] for k in KEYS}


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


@pytest.fixture
def stage_one(session, now, hall):  # noqa: F811
    """IND_PERMIT stage 1 dispatched Monday 23 Nov 09:00: FGW-01 due Tue 24, ZRGH-02 Wed 2 Dec, others Mon 7 Dec."""
    project, tasks = start(session, now, hall)
    return project, {t.item.code: t for t in tasks}


def test_sweep_command_prints_its_counts_as_json(app, session, stage_one):  # noqa: F811
    project, tasks = stage_one
    assert local(tasks["FGW-01"].warn_at).isoformat() == "2026-11-23T17:30:00+08:00"
    assert sweep_cli(app, "2026-11-23T12:00:00+08:00") == {"warned": 0, "deemed_consent": 0, "escalated": 0}
    assert sweep_cli(app, "2026-11-23T17:45:00+08:00") == {"warned": 1, "deemed_consent": 0, "escalated": 0}
    assert sweep_cli(app, "2026-11-24T17:30:00+08:00") == {"warned": 0, "deemed_consent": 1, "escalated": 0}
    # Wednesday 2 Dec after closing: ZRGH-02 is past its deadline (never warned: the sweep did not run in time)
    assert sweep_cli(app, "2026-12-02T17:31:00+08:00") == {"warned": 0, "deemed_consent": 1, "escalated": 0}
    assert sweep_cli(app, "2026-12-04T17:30:00+08:00") == {"warned": 2, "deemed_consent": 0, "escalated": 0}
    session.expire_all()
    assert {c: t.status for c, t in tasks.items()} == {
        "FGW-01": "deemed_consent", "ZRGH-02": "deemed_consent", "FGW-03": "pending", "ZRGH-01": "pending"}


def test_sweep_command_refuses_a_time_without_offset(app, stage_one):  # noqa: F811
    result = app.test_cli_runner().invoke(args=["agency", "sweep", "--now", "2026-11-24T18:00:00"])
    assert result.exit_code != 0
    assert count(db.session, Task, Task.status == "deemed_consent") == 0


def test_sweep_command_reads_the_injected_clock(app, session, clock, stage_one):  # noqa: F811
    clock.set("2026-11-24T17:31:00+08:00")
    result = app.test_cli_runner().invoke(args=["agency", "sweep"])
    assert json.loads(result.output)["deemed_consent"] == 1


def test_warning_once_when_one_working_day_is_left(session, hall, stage_one, run_jobs, mail):  # noqa: F811
    project, tasks = stage_one
    task = tasks["ZRGH-02"]  # 7 working days: due Wed 2 Dec 17:30, warned from Tue 1 Dec 17:30
    assert sweep(session, at("2026-12-01T17:29:00+08:00")) == {"warned": 0, "deemed_consent": 1, "escalated": 0}
    warned_at = at("2026-12-01T17:40:00+08:00")
    assert run_sweep(session, warned_at)["warned"] == 1
    session.expire_all()
    assert task.warned_at == warned_at and task.status == "pending"
    cards = session.scalars(select(Card).where(Card.task_id == task.id)).all()
    assert [(c.color, c.reason, c.department_id) for c in cards] == [("yellow", "warning", task.department_id)]
    assert any(s.startswith("预警") for s in inbox(session, liaison_of(hall, task)))
    assert any(s.startswith("预警") for s in inbox(session, hall["agent"]))
    # a later sweep before the deadline: no second warning, no second card
    assert run_sweep(session, at("2026-12-02T09:00:00+08:00"))["warned"] == 0
    assert count(session, Card, Card.task_id == task.id) == 1
    assert events_for(session, "task.warned", task.id) == 1
    run_jobs()
    assert [m["To"] for m in mail if m["Subject"].startswith("预警")].count("zrgh_a@hall.test") == 1


def test_restarted_clock_is_warned_again(session, hall, stage_one):  # noqa: F811
    project, tasks = stage_one
    task = tasks["FGW-01"]
    run_sweep(session, at("2026-11-23T17:31:00+08:00"))
    request_supplement(session, at("2026-11-24T09:00:00+08:00"), as_actor(liaison_of(hall, task)), task, ["营业执照"])
    supply_materials(session, at("2026-11-25T09:00:00+08:00"), as_actor(hall["ent"]), task)  # due Thu 26 Nov
    session.commit()
    assert task.warned_at is None
    assert run_sweep(session, at("2026-11-25T17:31:00+08:00"))["warned"] == 1
    assert count(session, Card, Card.task_id == task.id, Card.reason == "warning") == 2


def test_timeout_is_deemed_consent_with_a_red_card_and_notices(session, hall, stage_one, run_jobs, mail):  # noqa: F811
    project, tasks = stage_one
    task = tasks["FGW-01"]
    run_jobs()
    mail.clear()
    before = at("2026-11-24T17:29:59+08:00")
    assert run_sweep(session, before)["deemed_consent"] == 0
    when = at("2026-11-24T17:30:00+08:00")  # the deadline itself
    assert sweep(session, when) == {"warned": 0, "deemed_consent": 1, "escalated": 0}
    session.expire_all()
    assert (task.status, task.outcome, task.outcome_reason, task.answered_at) == (
        "deemed_consent", "consent", "timeout", when)
    cards = session.scalars(select(Card).where(Card.task_id == task.id, Card.color == "red")).all()
    assert [(c.reason, c.department_id, c.project_id, c.at) for c in cards] == [
        ("timeout", task.department_id, project.id, when)]
    for person in ("agent", "ent"):
        assert [s for s in inbox(session, hall[person]) if s.startswith("超时默认同意")] == [
            f"超时默认同意：{task.item.name}"]
    run_jobs()
    to = sorted(m["To"] for m in mail if m["Subject"].startswith("超时默认同意"))
    assert to == ["agent@hall.test", "ent@corp.test"]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "task.deemed_consent"))
    assert (event.actor_role, event.object_id, event.after) == (
        "system", task.id, {"status": "deemed_consent", "reason": "timeout"})
    assert verify(session) is None


def test_forbidden_deemed_consent_is_escalated_never_deemed(session, now, hall):  # noqa: F811
    project, first = start(session, now, hall)
    for task in first:
        answer_task(session, now + timedelta(hours=1), as_actor(liaison_of(hall, task)), task, "consent")
        session.commit()
    second = {t.item.code: t for t in session.scalars(select(Task).where(Task.project_id == project.id,
                                                                         Task.status == "pending"))}
    assert "ZJ-02" in second and not second["ZJ-02"].item.deemed_consent_allowed
    for code, task in second.items():
        if code != "ZJ-02":
            answer_task(session, now + timedelta(hours=2), as_actor(liaison_of(hall, task)), task, "consent")
            session.commit()
    zj02 = second["ZJ-02"]
    late = zj02.deadline + timedelta(minutes=1)
    assert sweep(session, late) == {"warned": 0, "deemed_consent": 0, "escalated": 1}
    session.expire_all()
    assert (zj02.status, zj02.escalated_at, zj02.outcome) == ("pending", late, None)
    escalation = session.scalar(select(Escalation).where(Escalation.task_id == zj02.id))
    assert (escalation.project_id, escalation.reason, escalation.resolved_at) == (
        project.id, "timeout_deemed_consent_forbidden", None)
    assert any(s.startswith("超时督办") for s in inbox(session, hall["director"]))
    # never deemed, however late the sweep, and escalated once
    assert sweep(session, late) == {"warned": 0, "deemed_consent": 0, "escalated": 0}
    assert sweep(session, late + timedelta(days=60)) == {"warned": 0, "deemed_consent": 0, "escalated": 0}
    assert (count(session, Escalation), events_for(session, "task.escalated", zj02.id)) == (1, 1)
    assert events_for(session, "task.deemed_consent", zj02.id) == 0
    # its liaison must answer; then the stage closes and stage 3 is dispatched
    answer_task(session, late + timedelta(days=61), as_actor(liaison_of(hall, zj02)), zj02, "consent")
    session.commit()
    session.expire_all()
    assert [s.status for s in project.stages] == ["closed", "closed", "open"]


def test_sweep_twice_at_the_same_instant_does_nothing_the_second_time(session, now, hall, stage_one):  # noqa: F811
    project, tasks = stage_one
    when = at("2026-12-04T17:31:00+08:00")  # FGW-01, ZRGH-02 overdue; FGW-03, ZRGH-01 in their last day
    assert sweep(session, when) == {"warned": 2, "deemed_consent": 2, "escalated": 0}
    snapshot = (count(session, Card), count(session, AuditEvent), count(session, Escalation))
    second = run_sweep(session, when)
    assert all(v == 0 for v in second.values())
    assert (count(session, Card), count(session, AuditEvent), count(session, Escalation)) == snapshot


def test_a_task_in_supplement_is_never_deemed(session, hall, stage_one):  # noqa: F811
    project, tasks = stage_one
    task = tasks["FGW-01"]
    request_supplement(session, at("2026-11-23T10:00:00+08:00"), as_actor(liaison_of(hall, task)), task, ["营业执照"])
    session.commit()
    assert run_sweep(session, at("2026-12-31T17:31:00+08:00"))["deemed_consent"] == 3  # the three others
    session.expire_all()
    assert task.status == "supplement"
    assert count(session, Card, Card.task_id == task.id) == 0
    supplied = at("2027-01-04T09:00:00+08:00")  # the clock restarts with one full working day
    supply_materials(session, supplied, as_actor(hall["agent"]), task)
    session.commit()
    assert task.deadline == deadline_from(session, supplied, 1)
    assert run_sweep(session, task.deadline - timedelta(seconds=1))["deemed_consent"] == 0
    assert run_sweep(session, task.deadline)["deemed_consent"] == 1


def test_the_sweep_works_in_batches(session, now, hall, monkeypatch):  # noqa: F811
    import workers.deadlines
    monkeypatch.setattr(workers.deadlines, "BATCH", 2)
    tasks = []
    for _ in range(3):
        tasks += start(session, now, hall, project_type="STARTUP")[1]  # 4 one-day items each
    counts = run_sweep(session, at("2026-11-24T17:30:00+08:00"))
    assert counts["deemed_consent"] == 12 and counts["warned"] == 0
    session.expire_all()
    assert {t.status for t in tasks} == {"deemed_consent"}
    assert count(session, Card, Card.color == "red") == 12


class Statements:
    """The SQL statements the engine sends while the block runs."""

    def __enter__(self):
        self.sent = []
        event.listen(db.engine, "before_cursor_execute", self._capture)
        return self

    def _capture(self, conn, cursor, statement, parameters, context, executemany):
        self.sent.append((statement, parameters))

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._capture)


@pytest.mark.postgres
def test_deeming_more_tasks_sends_no_more_statements(pg_app):
    """On PostgreSQL a batch costs the same statements for 2 due tasks as for 6: nothing is done row by row.

    (SQLite, the embedded default, writes the rows of a flush one INSERT each.)
    """
    with pg_app.app_context():
        session = db.session
        hall = build_hall(session, MONDAY)
        now, sent = MONDAY, []
        for projects in (2, 6):
            due = [start(session, now, hall)[1] for _ in range(projects)]  # FGW-01 of each is due first
            instant = min(t.deadline for tasks in due for t in tasks)
            with Statements() as statements:
                counts = run_sweep(session, instant)
            assert counts["deemed_consent"] == projects
            sent.append(len(statements.sent))
            session.expire_all()
            assert {t.status for tasks in due for t in tasks if t.item.code == "FGW-01"} == {"deemed_consent"}
            now = instant  # the next round's projects start after this one's are closed
        assert sent[0] == sent[1], sent
        assert count(session, AuditEvent, AuditEvent.action == "task.deemed_consent") == 8
        assert count(session, Card, Card.reason == "timeout") == 8
        assert verify(session) is None
        session.remove()


def test_a_clock_restarted_after_the_sweep_read_it_is_not_deemed(session, now, hall, stage_one):  # noqa: F811
    """The sweep read the task as due; before it took the lock the clock restarted: the UPDATE leaves it."""
    from agency.tasks.services import apply_timeouts
    project, tasks = stage_one
    task = tasks["FGW-01"]
    instant = task.deadline
    task_id = task.id
    liaison = liaison_of(hall, task)
    request_supplement(session, now, as_actor(liaison), task, ["营业执照"])
    supply_materials(session, instant - timedelta(minutes=1), as_actor(hall["agent"]), task)  # a new deadline
    session.commit()
    assert apply_timeouts(session, instant, [session.get(Task, task_id)]) == {"deemed_consent": 0, "escalated": 0}
    session.commit()
    session.expire_all()
    assert session.get(Task, task_id).status == "accepted"
    assert count(session, Card, Card.task_id == task_id) == 0
    assert events_for(session, "task.deemed_consent", task_id) == 0


# -- PostgreSQL: the due query goes through the partial index -------------------------------------------


def _bulk_tasks(session, project, stage, item, n: int, deadline: datetime) -> None:
    rows = [{"project_id": project.id, "stage_id": stage.id, "department_id": item.department_id, "item_id": item.id,
             "status": ("pending", "accepted", "answered")[i % 3], "opinion": "", "promised_days": 5,
             "supplement_count": 0, "cancel_reason": "", "started_at": MONDAY, "deadline": deadline,
             "warn_at": deadline - timedelta(days=1), "created_at": MONDAY} for i in range(n)]
    session.execute(Task.__table__.insert(), rows)


@pytest.mark.postgres
def test_nothing_due_is_one_statement_of_index_probes(pg_app):
    with pg_app.app_context():
        session = db.session
        hall = build_hall(session, MONDAY)
        project, tasks = start(session, MONDAY, hall, project_type="REAL_ESTATE")
        _bulk_tasks(session, project, tasks[0].stage, tasks[0].item, 4000, MONDAY + timedelta(days=400))
        session.commit()
        session.execute(text("ANALYZE tasks"))
        session.commit()
        with Statements() as statements:
            counts = run_sweep(session, MONDAY + timedelta(minutes=5))
        assert not any(counts.values()), counts
        ((probe, parameters),) = statements.sent
        with db.engine.connect() as conn:
            plan = "\n".join(conn.exec_driver_sql("EXPLAIN " + probe, parameters).scalars())
        assert "ix_tasks_due" in plan and "ix_tasks_warn" in plan, plan
        assert "Seq Scan on tasks" not in plan, plan
        session.remove()


@pytest.mark.postgres
def test_the_due_query_uses_the_partial_index(pg_app):
    with pg_app.app_context():
        session = db.session
        hall = build_hall(session, MONDAY)
        project, tasks = start(session, MONDAY, hall, project_type="REAL_ESTATE")
        task = tasks[0]
        _bulk_tasks(session, project, task.stage, task.item, 4000, MONDAY + timedelta(days=400))
        session.commit()
        session.execute(text("ANALYZE tasks"))
        session.commit()

        statements = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            if "FROM tasks" in statement and "deadline <=" in statement and "escalated_at IS NULL" in statement:
                statements.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            counts = run_sweep(session, task.deadline)
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        assert counts["deemed_consent"] == 1
        assert statements, "the sweep ran no due query"
        statement, parameters = statements[0]
        with db.engine.connect() as conn:
            plan = "\n".join(conn.exec_driver_sql("EXPLAIN " + statement, parameters).scalars())
        assert "ix_tasks_due" in plan, plan
        session.remove()
