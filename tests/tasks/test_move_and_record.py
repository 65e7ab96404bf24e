"""A task's transition and its audit event in one statement (PostgreSQL, agency.audit.services.record_change).

The event is written only if the transition was won; a transition lost writes nothing and leaves the
chain's head where it was, so the transaction's next event follows the last one written.
"""
import pytest
from sqlalchemy import select

from agency.audit.models import AuditEvent
from agency.audit.services import SYSTEM, Actor, chain_of, record, verify
from agency.errors import TransitionNotAllowed
from agency.extensions import db
from agency.tasks.models import Task
from agency.tasks.services import accept_task, answer_task
from tests.tasks import MONDAY, build_hall, start

pytestmark = pytest.mark.postgres


def _chain(session, project_id):
    return session.execute(select(AuditEvent.seq, AuditEvent.action).where(AuditEvent.chain == chain_of(project_id))
                           .order_by(AuditEvent.seq)).all()


@pytest.fixture
def dispatched(pg_app):
    """(session, project, its FGW-01 task, that department's liaison as an Actor) on PostgreSQL."""
    with pg_app.app_context():
        session = db.session
        hall = build_hall(session, MONDAY)
        project, tasks = start(session, MONDAY, hall)
        yield session, project, next(t for t in tasks if t.item.code == "FGW-01"), Actor.of(hall["fgw_a"])
        session.remove()


def test_a_lost_transition_writes_no_event_and_the_chain_goes_on(dispatched):
    session, project, task, liaison = dispatched
    before = _chain(session, project.id)

    accept_task(session, MONDAY, liaison, task)
    with pytest.raises(TransitionNotAllowed):
        accept_task(session, MONDAY, liaison, task)  # lost: the task is no longer pending
    record(session, MONDAY, SYSTEM, "project.note", project_id=project.id, detail="同一事务的下一事件")
    session.commit()

    after = _chain(session, project.id)
    assert after[:len(before)] == before
    assert [action for _, action in after[len(before):]] == ["task.accepted", "project.note"]
    assert [seq for seq, _ in after] == list(range(1, len(after) + 1))  # no gap where the loser was
    assert verify(session) is None
    assert session.get(Task, task.id).status == "accepted"


def test_an_answer_and_its_event_are_written_together(dispatched):
    session, project, task, liaison = dispatched
    answer_task(session, MONDAY, liaison, task, "consent_with_conditions", "补充环评意见")
    session.commit()
    event = session.scalars(select(AuditEvent).where(AuditEvent.chain == chain_of(project.id))
                            .order_by(AuditEvent.seq.desc())).first()
    assert (event.action, event.object_type, event.object_id) == ("task.answered", "task", task.id)
    assert event.before == {"status": "pending"}
    assert event.after == {"status": "answered", "outcome": "consent_with_conditions", "opinion": "补充环评意见"}
    assert verify(session) is None
