"""Created once under a double submit, on the SQLite file database AND PostgreSQL (#11.1).

A contact card reissued twice at once, a shipment, a meeting and a pre-review submitted twice:
the database decides (a unique index, a conditional UPDATE), not a check in Python that SQLite's
missing row locks let both requests pass.  Each round releases two threads together (each with
its own app context, session and connection); the rows are what is asserted.
"""
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from agency.audit.models import AuditEvent
from agency.audit.services import Actor
from agency.extensions import db
from agency.meetings.models import Meeting
from agency.notifications.models import Message
from agency.people.models import User
from agency.projects.models import ContactCard, Project
from agency.results.models import Shipment
from tests.projects.test_create_once import together
from tests.support import PDF_BYTES
from tests.tasks import MONDAY, build_hall, entrust, liaison_of, start
from tests.tasks import app, hall, hall_template, shared_app  # noqa: F401  (fixtures)

ROUNDS = 20
LATER = MONDAY + timedelta(hours=1)


def _count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _events(session, project_id, action) -> int:
    return _count(session, AuditEvent, AuditEvent.project_id == project_id, AuditEvent.action == action)


def _one_won(outcomes, won: str) -> None:
    """One racer did it; the other was refused (409) or, serialised by the project's lock, found it done."""
    assert won in outcomes and set(outcomes) <= {won, "conflict"}, outcomes


def double_reassignment(application, session, hall):
    """The director reassigns the project to agent2 twice at once: one valid card, agent2's."""
    director_id, agent2_id = hall["director"].id, hall["agent2"].id
    for _ in range(ROUNDS):
        project_id = entrust(session, MONDAY, hall, ready=False).id  # by agent: its card issued

        def reassign(session_, wait):
            from agency.projects.services import assign_agent
            project, director = session_.get(Project, project_id), session_.get(User, director_id)
            wait()
            assign_agent(session_, LATER, director, project, agent2_id)
            return "assigned"

        _one_won(together(application, reassign), "assigned")
        valid = session.scalars(select(ContactCard).where(ContactCard.project_id == project_id,
                                                          ContactCard.void.is_(False))).all()
        assert [card.agent_id for card in valid] == [agent2_id]
        assert session.get(Project, project_id).agent_id == agent2_id
        assert _events(session, project_id, "project.assigned") == 1
        assert _events(session, project_id, "contact_card.issued") == 2  # entrusted, reassigned


def double_shipment(application, session, hall):
    """The same waybill posted twice at once: one shipment, one event, one message."""
    from agency.results.services import choose_delivery
    from agency.tasks.services import answer_task
    agent_id, enterprise_id = hall["agent"].id, hall["ent"].id
    for n in range(ROUNDS):
        project, (task,) = start(session, MONDAY, hall, project_type="REAL_ESTATE", name="过户")
        answer_task(session, LATER, Actor.of(liaison_of(hall, task)), task, "consent")
        choose_delivery(session, LATER, hall["ent"], project, "post", "经开区创业路8号")
        session.commit()
        project_id, task_id = project.id, task.id

        def post(session_, wait):
            from agency.results.services import ship
            project_, agent = session_.get(Project, project_id), session_.get(User, agent_id)
            project_.tasks  # noqa: B018  (loaded before the race, as a request has it)
            wait()
            ship(session_, LATER, agent, project_, [task_id], f"SF{n:08d}")
            return "shipped"

        _one_won(together(application, post), "shipped")
        assert _count(session, Shipment, Shipment.project_id == project_id) == 1
        assert _events(session, project_id, "shipment.sent") == 1
        assert _count(session, Message, Message.project_id == project_id, Message.user_id == enterprise_id,
                      Message.subject.like("办理结果已寄出%")) == 1


def double_meeting(application, session, hall):
    """The same joint review scheduled twice at once: one meeting, one event."""
    agent_id = hall["agent"].id
    starts_at = MONDAY + timedelta(days=2)  # Wednesday 09:00 in Shanghai
    for _ in range(ROUNDS):
        project, _ = start(session, MONDAY, hall, project_type="REAL_ESTATE", name="过户")
        project_id = project.id

        def schedule(session_, wait):
            from agency.meetings.services import schedule_meeting
            project_, agent = session_.get(Project, project_id), session_.get(User, agent_id)
            wait()
            schedule_meeting(session_, LATER, agent, project_, kind="joint_review", starts_at=starts_at,
                             place="行政服务中心三楼联审室")
            return "scheduled"

        _one_won(together(application, schedule), "scheduled")
        assert _count(session, Meeting, Meeting.project_id == project_id) == 1
        assert _events(session, project_id, "meeting.scheduled") == 1


def double_prereview(application, session, hall):
    """The same pre-review submitted twice at once: decided once, one event, one message of the returns."""
    from agency.materials.services import checklist, file_material
    agent_id, enterprise_id = hall["agent"].id, hall["ent"].id
    for _ in range(ROUNDS):
        project = entrust(session, MONDAY, hall, project_type="REAL_ESTATE", name="过户", ready=False)
        names = [e.name for e in checklist(session, project) if not e.optional and not e.issuers]
        for name in names:
            file_material(session, MONDAY, project.enterprise, project, name, f"{name}.pdf", io.BytesIO(PDF_BYTES))
        session.commit()
        project_id = project.id
        decisions = [{"name": names[0], "accepted": False, "reason": "盖章不清"}] + [
            {"name": name, "accepted": True} for name in names[1:]]

        def review(session_, wait):
            from agency.materials.services import prereview
            project_, agent = session_.get(Project, project_id), session_.get(User, agent_id)
            wait()
            prereview(session_, LATER, agent, project_, decisions)
            return "reviewed"

        assert sorted(together(application, review)) == ["conflict", "reviewed"]
        assert _events(session, project_id, "materials.prereviewed") == 1
        assert _count(session, Message, Message.project_id == project_id, Message.user_id == enterprise_id,
                      Message.subject.like("材料预审退回%")) == 1


def same_tracking_code(application, session, hall):
    """Two entrustments at once drawing the same tracking code first: both entrusted, under two codes (the
    INSERT's ON CONFLICT (tracking_code) DO NOTHING makes the second draw again)."""
    import itertools
    from unittest import mock

    from agency.projects import services
    from agency.projects.services import entrust_project
    from tests.support import ENTRUST
    agent_id, enterprise_id = hall["agent"].id, hall["ent"].id
    for n in range(ROUNDS):
        first = f"DBSAME{n:04d}"
        fresh = (f"DBNEW{n:02d}{i:03d}" for i in itertools.count())
        draws = mock.Mock(side_effect=lambda: first if draws.call_count <= 2 else next(fresh))

        def entrust_now(session_, wait):
            agent = session_.get(User, agent_id)
            wait()
            return entrust_project(session_, MONDAY, agent, **ENTRUST, enterprise_id=enterprise_id).tracking_code

        with mock.patch.object(services, "draw_tracking_code", draws):
            codes = together(application, entrust_now)
        assert first in codes and len(set(codes)) == 2 and all(c.startswith("DB") for c in codes), codes
        assert _count(session, Project, Project.tracking_code.in_(codes)) == 2


def double_signature(application, session, hall):
    """The enterprise signs the agreement twice at once: signed, one event (the UPDATE and its event are one
    statement on PostgreSQL: the loser's finds the project signed and writes nothing)."""
    from agency.projects.services import accept_agreement
    enterprise_id = hall["ent"].id
    for _ in range(ROUNDS):
        project_id = entrust(session, MONDAY, hall, ready=False).id  # by the agent: not signed yet

        def sign(session_, wait):
            project, enterprise = session_.get(Project, project_id), session_.get(User, enterprise_id)
            wait()
            accept_agreement(session_, LATER, enterprise, project)
            return project.agreement_method

        assert together(application, sign) == ["online", "online"]
        assert _events(session, project_id, "project.agreement_signed") == 1
        assert session.get(Project, project_id).agreement_accepted_at == LATER


RACES = [double_reassignment, double_shipment, double_meeting, double_prereview, same_tracking_code,
         double_signature]


@pytest.mark.parametrize("race", RACES, ids=lambda race: race.__name__)
def test_created_once_on_sqlite(race, app, session, hall):  # noqa: F811
    race(app, session, hall)


@pytest.mark.postgres
@pytest.mark.parametrize("race", RACES, ids=lambda race: race.__name__)
def test_created_once_on_postgresql(race, pg_app):
    with pg_app.app_context():
        hall_ = build_hall(db.session, MONDAY)
        db.session.commit()
        race(pg_app, db.session, hall_)
        db.session.remove()
