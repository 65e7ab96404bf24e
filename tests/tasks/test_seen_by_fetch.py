"""A transition trusting what the request's fetch saw, checked by its own statement (PostgreSQL, real threads).

The API's accept and answer fetch the task with its project locked (``get_task(..., to_change=True)``)
and, on PostgreSQL, do not read the project's stages again once the lock is held: the transition is made
only if the task's row version and the audit chain's head are still what the fetch saw
(``agency.tasks.services._transition``).  The fetch may have read them before waiting for the lock, while
another transaction changed them; then the transition falls back to reading under the lock.  These tests
make that other transaction commit while the answer's fetch waits, and check the outcome is the one a
fresh read gives: the right "before" in the audit event, an unbroken chain, the stage rule on current rows.
"""
import threading

import pytest
from sqlalchemy import select, update

from agency.audit.models import AuditEvent
from agency.audit.services import SYSTEM, Actor, chain_of, record, verify
from agency.errors import TransitionNotAllowed
from agency.extensions import db
from agency.people.access import Caller, get_task
from agency.projects.locks import lock_project
from agency.projects.models import Project, Stage
from agency.tasks.models import Task
from agency.tasks.services import accept_task, answer_task
from tests import support
from tests.tasks import MONDAY, liaison_of, start

pytestmark = pytest.mark.postgres

ROUNDS = 4


@pytest.fixture
def hall(pg_hall):
    return pg_hall


def _caller(hall, task) -> Caller:
    return Caller("liaison", liaison_of(hall, task).id, task.department_id)


def _dispatched(session, hall):
    """A project just dispatched, committed: its first task's id, the project's id, and that task's liaison."""
    project, tasks = start(session, MONDAY, hall)
    found = tasks[0].id, project.id, _caller(hall, tasks[0])
    session.commit()
    return found


def _events(session, project_id):
    return session.scalars(select(AuditEvent).where(AuditEvent.chain == chain_of(project_id))
                           .order_by(AuditEvent.seq)).all()


def _while_the_fetch_waits(app, project_id, change, act):
    """``change(session)`` made under the project's lock and committed only once ``act(session)`` (in another
    thread) waits for that lock in its fetch, so the fetch's snapshot predates the change; ``act``'s result."""
    url = db.engine.url
    locked, results = threading.Event(), {}

    def hold(session):
        try:
            lock_project(session, project_id)
            change(session)
        finally:
            locked.set()
        # the fetch's text is longer than pg_stat_activity keeps: its beginning tells it
        assert support.waits_for_a_lock(url, "SELECT projects.id%"), "the fetch never waited for the lock"

    def wait_and_act(session):
        locked.wait(30)
        return act(session)

    threads = [_committing_thread(app, results, "holder", hold), _committing_thread(app, results, "act", wait_and_act)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive(), "a thread hangs"
    if isinstance(results["holder"], BaseException):
        raise results["holder"]
    if isinstance(results["act"], BaseException):
        raise results["act"]
    return results["act"]


def _committing_thread(app, results, name, work) -> threading.Thread:
    """A thread running ``work(session)`` in its own app context and committing: ``results[name]`` is what it
    returned, or the exception it raised (rolled back)."""
    def run():
        with app.app_context():
            try:
                results[name] = work(db.session)
                db.session.commit()
            except BaseException as error:  # noqa: BLE001 - reported to the test
                db.session.rollback()
                results[name] = error
            finally:
                db.session.remove()
    return threading.Thread(target=run)


def _answer(hall, task_id, caller, decision="consent", opinion=""):
    def act(session):
        task = get_task(session, caller, task_id, to_change=True)  # as the API's answer: waits here
        answer_task(session, MONDAY, Actor(caller.id, "liaison"), task, decision, opinion)
        return task.status
    return act


def test_a_task_accepted_while_the_answer_waited_is_answered_from_accepted(pg_app, hall):
    """The head moved (the acceptance's event) and so did the row: the answer reads both again."""
    session, people = hall
    for _ in range(ROUNDS):
        task_id, project_id, caller = _dispatched(session, people)

        def accept(other):
            accept_task(other, MONDAY, Actor(caller.id, "liaison"), other.get(Task, task_id))

        assert _while_the_fetch_waits(pg_app, project_id, accept, _answer(people, task_id, caller)) == "answered"
        session.expire_all()
        answered = [e for e in _events(session, project_id) if e.action == "task.answered"]
        assert [e.before for e in answered] == [{"status": "accepted"}]  # not the "pending" the fetch saw
        assert verify(session, project_id) is None


def test_a_task_changed_without_an_event_while_the_answer_waited_is_read_again(pg_app, hall):
    """Only the row moved (no event: the chain's head is as the fetch saw it): its version tells."""
    session, people = hall
    for _ in range(ROUNDS):
        task_id, project_id, caller = _dispatched(session, people)

        def accept_silently(other):  # as a writer that records nothing would
            other.execute(update(Task).where(Task.id == task_id).values(status="accepted", accepted_at=MONDAY))

        assert _while_the_fetch_waits(pg_app, project_id, accept_silently,
                                      _answer(people, task_id, caller)) == "answered"
        session.expire_all()
        (answered,) = [e for e in _events(session, project_id) if e.action == "task.answered"]
        assert answered.before == {"status": "accepted"}
        assert verify(session, project_id) is None


def test_an_event_written_while_the_answer_waited_is_followed(pg_app, hall):
    """Only the head moved: the answer's event follows the new head, not the one the fetch saw."""
    session, people = hall
    for _ in range(ROUNDS):
        task_id, project_id, caller = _dispatched(session, people)

        def note(other):
            record(other, MONDAY, SYSTEM, "project.note", project_id=project_id, detail="等待期间的事件")

        assert _while_the_fetch_waits(pg_app, project_id, note, _answer(people, task_id, caller)) == "answered"
        session.expire_all()
        actions = [e.action for e in _events(session, project_id)]
        assert actions[-2:] == ["project.note", "task.answered"]
        assert [e.seq for e in _events(session, project_id)] == list(range(1, len(actions) + 1))
        assert verify(session, project_id) is None


def test_a_task_answered_while_the_answer_waited_is_refused(pg_app, hall):
    session, people = hall
    task_id, project_id, caller = _dispatched(session, people)

    def answer_first(other):
        answer_task(other, MONDAY, Actor(caller.id, "liaison"), other.get(Task, task_id), "consent")

    with pytest.raises(TransitionNotAllowed):
        _while_the_fetch_waits(pg_app, project_id, answer_first, _answer(people, task_id, caller, "refuse", "不符合"))
    session.expire_all()
    assert [e.action for e in _events(session, project_id)].count("task.answered") == 1
    assert session.get(Task, task_id).outcome == "consent"


def test_the_last_task_answered_while_the_answer_waited_closes_the_stage(pg_app, hall):
    """The other open task of the stage is answered while this answer waits: this one closes the stage."""
    session, people = hall
    for _ in range(ROUNDS):
        project, tasks = start(session, MONDAY, people, items=["FGW-01", "FGW-03"])
        first, second = sorted(tasks, key=lambda t: t.id)
        caller, first_id, second_id, project_id = _caller(people, second), first.id, second.id, project.id
        first_liaison = liaison_of(people, first).id
        session.commit()

        def answer_first(other):
            answer_task(other, MONDAY, Actor(first_liaison, "liaison"), other.get(Task, first_id), "consent")

        assert _while_the_fetch_waits(pg_app, project_id, answer_first,
                                      _answer(people, second_id, caller)) == "answered"
        session.expire_all()
        stages = session.scalars(select(Stage.status).where(Stage.project_id == project_id).order_by(Stage.order)).all()
        assert stages[:2] == ["closed", "open"], stages
        assert verify(session, project_id) is None


def test_a_project_through_its_fetches(pg_app, hall):
    """Accepts and answers as the API makes them (fetched to change): the stage closes on its last consent,
    the next stage goes out, a refusal halts the project; every event in its chain."""
    session, people = hall
    project, tasks = start(session, MONDAY, people)
    project_id = project.id
    tasks = sorted(tasks, key=lambda t: t.id)
    work = [(t.id, _caller(people, t)) for t in tasks]
    session.commit()
    for n, (task_id, caller) in enumerate(work):
        actor = Actor(caller.id, "liaison")
        if n % 2:
            accept_task(session, MONDAY, actor, get_task(session, caller, task_id, to_change=True))
            session.commit()
        answer_task(session, MONDAY, actor, get_task(session, caller, task_id, to_change=True), "consent")
        session.commit()
        stage = session.scalars(select(Stage.status).where(Stage.project_id == project_id)
                                .order_by(Stage.order)).first()
        assert stage == ("closed" if n == len(work) - 1 else "open")
    session.expire_all()
    second = session.scalars(select(Task).where(Task.project_id == project_id, Task.id.not_in([i for i, _ in work]))
                             .order_by(Task.id)).all()
    assert second, "the next stage went out by itself"
    caller = _caller(people, second[0])
    answer_task(session, MONDAY, Actor(caller.id, "liaison"), get_task(session, caller, second[0].id, to_change=True),
                "refuse", "选址不符合规划")
    session.commit()
    session.expire_all()
    assert session.get(Project, project_id).halted_at is not None
    actions = [e.action for e in _events(session, project_id)]
    assert actions.count("task.answered") == len(work) + 1 and actions.count("task.accepted") == len(work) // 2
    assert actions[-2:] == ["task.answered", "project.halted"]
    assert verify(session, project_id) is None
