"""Statement-count guards (issue #14) on PostgreSQL: entrusting a project and dispatching its first stage.

The two request-equivalents of bench_workflow's "create + dispatch", each started with an empty
session and its user loaded (what authentication does), then counted through its commit.  Each count
is what the code sends today, named below with what it is made of; a change that adds a statement
fails here and must say why (and update the figure in bench/README.md).  The project is of the sample
type IND_PERMIT: its first stage's items list materials (filed and pre-reviewed before the dispatch)
and FGW-03's 项目备案证明 is deferred by itself until FGW-01's result (R15).
"""
import pytest
from sqlalchemy import func, select

from agency.audit.models import AuditEvent
from agency.audit.services import Actor
from agency.calendar.services import get_calendar
from agency.extensions import db
from agency.jobs.models import OutboxJob
from agency.materials.models import Deferral
from agency.people.access import get_project
from agency.people.models import User
from agency.projects.models import ContactCard, Project, Stage
from agency.projects.services import accept_agreement, dispatch_stage, entrust_project
from agency.tasks.models import Task
from tests import support
from tests.support import ENTRUST, StatementCounter
from tests.tasks import MONDAY, build_hall

pytestmark = pytest.mark.postgres

ENTRUST_STATEMENTS = 7
"""The agent entrusts on the enterprise's behalf and the enterprise signs the agreement, one commit: the project
type with its stage templates (1); the enterprise (1); the project (1: INSERT ... ON CONFLICT (tracking_code) DO
NOTHING RETURNING, a tracking code taken drawn again, no read before) and its stages (1); no lock nor head read for its audit chain (a row only this transaction sees: the chain is empty); the
contact card (1: INSERT ... ON CONFLICT (card_no) DO NOTHING, no SAVEPOINT and no current card to read on a new
project); the agreement signed with its audit event (1: the conditional UPDATE and the event's INSERT in one
statement, agency.audit.services.record_change); the entrustment's and the card's audit events (1: one INSERT,
agency.audit.services.record_together)."""

DISPATCH_STATEMENTS = 12
"""The agent dispatches stage 1 (4 items, one material deferred by itself), one commit, as the API's dispatch: the
project as the agent sees it, locked by the same statement (1, ``to_change``; never dispatched: no clock to probe);
then its stages and tasks and the audit chain's head (1, agency.projects.locks); the type with its stage templates (1); every item
of the type with its department (1: the stage's and the checklist's); the filed materials with their files (1;
nothing owed or issued before the first dispatch: no read); the stage opened by a conditional UPDATE (1); the
cache generations' check of the calendar (1); the project's status (1); the tasks (1: one INSERT ...
RETURNING), their delivery jobs (1), the deferral (1); the audit event (1)."""


@pytest.fixture
def pg(pg_app):
    with pg_app.app_context():
        session = db.session
        hall = build_hall(session, MONDAY)
        get_calendar(session)  # the process's calendar, loaded once (its own cache, not counted here)
        session.commit()
        counter = StatementCounter(db.engine)
        try:
            yield session, hall, counter
        finally:
            counter.close()
            session.remove()


def _request(session, counter, user_id, work):
    """A request: an empty session, its user loaded (not counted), ``work(session, user)``, one commit."""
    session.remove()
    user = session.get(User, user_id)
    counter.statements.clear()
    counter.on = True
    result = work(session, user)
    session.commit()
    counter.on = False
    return result


def test_entrust_and_dispatch_send_a_fixed_number_of_statements(pg):
    session, hall, counter = pg
    agent_id, enterprise_id = hall["agent"].id, hall["ent"].id

    def entrust(session, agent):
        project = entrust_project(session, MONDAY, agent, **ENTRUST, enterprise_id=enterprise_id)
        accept_agreement(session, MONDAY, session.get(User, enterprise_id), project)
        return project.id

    project_id = _request(session, counter, agent_id, entrust)
    assert len(counter.statements) == ENTRUST_STATEMENTS, counter.show()
    assert session.scalar(select(func.count()).select_from(ContactCard)
                          .where(ContactCard.project_id == project_id)) == 1
    assert session.scalars(select(AuditEvent.action).where(AuditEvent.project_id == project_id)
                           .order_by(AuditEvent.seq)).all() == [
        "project.entrusted", "contact_card.issued", "project.agreement_signed"]
    session.remove()

    support.ready_for_dispatch(session, MONDAY, session.get(Project, project_id))  # materials filed, pre-reviewed
    events = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.project_id == project_id))

    def dispatch(session, agent):
        project = get_project(session, agent, project_id, to_change=True)  # as the API's dispatch
        _, tasks = dispatch_stage(session, MONDAY, Actor.of(agent), project)
        return [t.id for t in tasks]

    task_ids = _request(session, counter, agent_id, dispatch)
    assert len(counter.statements) == DISPATCH_STATEMENTS, counter.show()
    session.remove()
    assert len(task_ids) == 4
    assert session.scalar(select(func.count()).select_from(OutboxJob)
                          .where(OutboxJob.func == "workers.tasks.deliver_task")) == 4
    assert session.scalar(select(func.count()).select_from(Deferral).where(Deferral.project_id == project_id)) == 1
    assert session.scalar(select(Stage.status).where(Stage.project_id == project_id, Stage.order == 1)) == "open"
    assert session.get(Project, project_id).status == "in_progress"
    assert session.scalar(select(func.count()).select_from(Task).where(Task.project_id == project_id)) == 4
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.project_id == project_id)) == events + 1
