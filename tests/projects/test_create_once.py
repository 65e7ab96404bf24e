"""What is created once stays once under a double submit, on the SQLite file database (#11).

SQLite ignores ``SELECT ... FOR UPDATE``: a check in Python does not serialise two requests,
only the database does (a conditional UPDATE, a unique index).  Each round releases two
threads together, each with its own app context, session and connection.
"""
from datetime import timedelta

from sqlalchemy import func, select

from agency.audit.models import AuditEvent
from agency.audit.services import Actor
from agency.errors import TransitionNotAllowed
from agency.extensions import db
from agency.projects.models import Project
from agency.supervision.models import Card
from agency.tasks.models import SupplementRequest, Task
from tests.support import run_together
from tests.tasks import MONDAY, liaison_of, start
from tests.tasks import app, hall, hall_template, shared_app  # noqa: F401  (fixtures)

ROUNDS = 20
LATER = MONDAY + timedelta(hours=1)


def together(application, job) -> list:
    """``job(session)`` in two threads released at once (tests.support.run_together), each committing;
    what each returned ("conflict" for a 409, the repr of any other error)."""
    def committed(session, barrier):
        result = job(session, barrier.wait)
        session.commit()
        return result

    def outcome(result):
        if isinstance(result, TransitionNotAllowed) and result.status == 409:
            return "conflict"
        return repr(result) if isinstance(result, BaseException) else result

    return [outcome(r) for r in run_together(application, committed, committed)]


def _events(session, project_id, action) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.project_id == project_id, AuditEvent.action == action))


def test_a_double_clicked_supplement_request_is_one_request(app, session, hall):  # noqa: F811
    from agency.tasks.services import request_supplement
    for _ in range(ROUNDS):
        _, (task,) = start(session, MONDAY, hall, project_type="REAL_ESTATE", name="过户")
        task_id, liaison = task.id, Actor.of(liaison_of(hall, task))

        def ask(session_, wait):
            task_ = session_.get(Task, task_id)
            wait()
            request_supplement(session_, LATER, liaison, task_, ["完税凭证"])
            return "asked"

        assert sorted(together(app, ask)) == ["asked", "conflict"]
        session.expire_all()
        assert session.get(Task, task_id).supplement_count == 1
        assert session.scalar(select(func.count()).select_from(SupplementRequest)
                              .where(SupplementRequest.task_id == task_id)) == 1
        assert session.scalar(select(func.count()).select_from(Card).where(Card.task_id == task_id)) == 0


def test_a_double_submitted_rating_is_one_rating(app, session, hall):  # noqa: F811
    """The partial unique index uq_ratings_project_once holds on SQLite under threads."""
    from agency.enterprise.models import Rating
    from agency.enterprise.services import rate
    from agency.people.models import User
    from agency.tasks.services import answer_task
    enterprise_id = hall["ent"].id
    for _ in range(ROUNDS):
        project, (task,) = start(session, MONDAY, hall, project_type="REAL_ESTATE", name="过户")
        answer_task(session, LATER, Actor.of(liaison_of(hall, task)), task, "consent")
        session.commit()
        project_id = project.id
        assert session.get(Project, project_id).status == "completed"

        def give(session_, wait):
            project_, enterprise = session_.get(Project, project_id), session_.get(User, enterprise_id)
            wait()
            rate(session_, LATER, enterprise, project_, 5, "很好")
            return "rated"

        assert sorted(together(app, give)) == ["conflict", "rated"]
        session.expire_all()
        assert session.scalar(select(func.count()).select_from(Rating).where(Rating.project_id == project_id)) == 1
        assert _events(session, project_id, "rating.given") == 1
