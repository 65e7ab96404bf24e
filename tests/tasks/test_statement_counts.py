"""Statement-count guards (issue #14) on PostgreSQL: one answer through the API and one delivery job.

Each count is what the code sends today, named below with what it is made of; a change that adds a
statement fails here and must say why (and update the figure in bench/README.md).  The answer's
count starts after the request is authenticated: the fixed cost of an authenticated request (token,
user) has its own guard and owner.
"""
from flask import current_app
from sqlalchemy import func, select

import pytest

from agency.audit.models import AuditEvent
from agency.extensions import db
from agency.jobs.models import OutboxJob
from agency.notifications.models import Delivery, Message
from agency.notifications.services import notify_many
from agency.tasks.models import Task
from tests import support
from tests.support import ApiClientFactory, StatementCounter
from tests.tasks import MONDAY, build_hall, start
from workers.runner import run_job

pytestmark = pytest.mark.postgres

ANSWER_STATEMENTS = 3 + 2
"""POST /tasks/{id}/answer (consent, the stage still open), after authentication.  The answer, 3: the task
as the liaison sees it, with its item and department, its row version and its project's audit head, its
project row locked by the same statement and read afresh with its people (1, ``FOR UPDATE OF projects``:
agency.people.access, ``to_change``); the conditional UPDATE of the task, made only if the task row and the
chain's head are still what that fetch saw (it may have read them before waiting for the lock), counting
the stage's other open tasks, with its audit event and the task's result (and the deferrals it settles),
each written only if the UPDATE matched, one statement (1: a data-modifying WITH,
agency.audit.services.record_change, agency.tasks.services._transition, agency.results.services.result_writes;
with other tasks open the stages are not read); the notices: delivery keys claimed by INSERT ... ON
CONFLICT, the inbox messages of the fresh ones and their e-mail job, one statement (1).  The checklist
entry the result fills is derived from it, not written.
The response, 2: the task as committed, read as one row (its project's name, stage, department,
item, last supplement request; 1) and its result (1), as the list writes a task
(agency.tasks.api.as_written: the expired Task dumped through TaskSchema read 7).  The request starts with an
empty session, as in production."""

DELIVER_TASK_STATEMENTS = 3
"""One ``workers.tasks.deliver_task`` outbox job: the job claimed and marked done, its commit told not to
wait for the disk (1: one conditional UPDATE ... RETURNING set_config(...), agency.jobs.services.claim_job;
the job is replayable, tests/jobs/test_replayable.py); delivered_at set, returning the item, project,
department and its liaisons (1: one conditional UPDATE ... FROM ... RETURNING); delivery keys, inbox
message and the e-mail job, one statement (1); and one commit."""

DELIVER_ALL_STATEMENTS = 2
"""One ``workers.notifications.deliver_all`` job of two e-mails: claimed and marked done, its commit not
waiting for the disk (1); both deliveries locked and marked sent, returning what to send (1: one
conditional UPDATE ... RETURNING); and one commit for the whole job."""


@pytest.fixture
def pg(pg_app, clock):
    counter = {}

    def start_counting():  # registered after the API's authentication hook: runs after it
        if "counter" in counter:
            counter["counter"].on = True

    pg_app.before_request(start_counting)
    with pg_app.app_context():
        session = db.session
        hall = build_hall(session, MONDAY)
        clock.set(MONDAY)
        project, tasks = start(session, MONDAY, hall)
        counter["counter"] = StatementCounter(db.engine)
        try:
            yield session, hall, project, {t.item.code: t for t in tasks}, counter["counter"], \
                ApiClientFactory(pg_app.test_client(), session, MONDAY)
        finally:
            counter["counter"].close()
            session.remove()


def test_one_answer_sends_a_fixed_number_of_statements(pg):
    session, hall, project, tasks, counter, api = pg
    task = tasks["FGW-01"]
    client = api(hall["fgw_a"])
    events_before = session.scalar(select(func.count()).select_from(AuditEvent))
    task_id = task.id
    session.expunge_all()  # a request starts with an empty session (this test's shares the app's thread)
    response = client.post(f"/tasks/{task_id}/answer", json={"decision": "consent"})
    counter.on = False
    assert response.status_code == 200, response.get_json()
    assert len(counter.statements) == ANSWER_STATEMENTS, counter.show()
    session.expire_all()
    assert session.get(Task, task_id).status == "answered"
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events_before + 1
    assert session.scalar(select(func.count()).select_from(Message)
                          .where(Message.subject.like("部门已答复%"))) == 2  # the agent and the enterprise


def test_one_delivery_job_sends_a_fixed_number_of_statements(pg):
    session, hall, project, tasks, counter, api = pg
    task = tasks["FGW-01"]
    job_id, (task_id,) = session.execute(select(OutboxJob.id, OutboxJob.args)
                                         .where(OutboxJob.func == "workers.tasks.deliver_task")
                                         .order_by(OutboxJob.id)).first()
    session.rollback()
    counter.on = True
    assert run_job(job_id) == "done"
    counter.on = False
    assert len(counter.statements) == DELIVER_TASK_STATEMENTS, counter.show()
    session.expire_all()
    assert session.get(Task, task_id).delivered_at is not None

    factory = support.UserFactory(session, MONDAY)
    owners = [factory("enterprise", email=f"owner{n}@enterprise.example.cn") for n in (1, 2)]
    notify_many(session, MONDAY, owners, "项目已受理", key="counted")
    session.commit()
    two_id, (keys_and_payloads,) = session.execute(
        select(OutboxJob.id, OutboxJob.args).where(OutboxJob.func == "workers.notifications.deliver_all")
        .order_by(OutboxJob.id.desc())).first()
    keys = [key for key, _ in keys_and_payloads]
    assert len(keys) == 2
    session.rollback()
    counter.statements.clear()
    counter.on = True
    assert run_job(two_id) == "done"
    counter.on = False
    assert len(counter.statements) == DELIVER_ALL_STATEMENTS, counter.show()
    session.expire_all()
    assert [(d.status, d.attempts) for d in session.scalars(select(Delivery).where(Delivery.key.in_(keys)))] == [
        ("sent", 1), ("sent", 1)]
    assert sorted(m["To"] for m in current_app.extensions["mail_outbox"]) == [u.email for u in owners]


READ_STATEMENTS = 2
"""GET /tasks/{id} (a pending task), after authentication: the task as the liaison sees it, with its item and
department (1, agency.people.access.get_task: the visibility check, its clocks settled in Python); the
task read as one row, as the list writes it (1, agency.tasks.api.as_written; it has no result nor deferrals,
and the calendar is the one the request read with its token).  Dumped from the Task object, 6: its
project, stage, supplement requests, result and deferrals read one by one."""


def test_one_task_read_sends_a_fixed_number_of_statements(pg):
    session, hall, project, tasks, counter, api = pg
    client = api(hall["fgw_a"])
    task_id = tasks["FGW-01"].id
    session.expunge_all()
    response = client.get(f"/tasks/{task_id}")
    counter.on = False
    assert response.status_code == 200, response.get_json()
    assert len(counter.statements) == READ_STATEMENTS, counter.show()
    assert response.get_json()["id"] == task_id and response.get_json()["status"] == "pending"
