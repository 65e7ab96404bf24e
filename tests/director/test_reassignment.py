"""Assignment from the board and bulk reassignment when an agent goes on leave (R7, R9)."""
import pytest
from sqlalchemy import select

from agency.audit.models import AuditEvent
from agency.director.services import reassign_projects, set_agent_leave, swap_liaison_slots, unreachable_departments
from agency.errors import BadInput, RuleViolation
from agency.projects.models import ContactCard
from agency.projects.services import assign_agent, entrust_project


@pytest.fixture
def carried(session, now, hall, entrust_body):
    """Two projects of the enterprise carried by ``agent``, each with its contact card."""
    projects = []
    for name in ("甲项目", "乙项目"):
        project = entrust_project(session, now, hall["ent"], **{**entrust_body, "name": name})
        assign_agent(session, now, hall["director"], project, hall["agent"].id)
        projects.append(project)
    session.commit()
    return projects


def cards_of(session, project):
    return session.scalars(select(ContactCard).where(ContactCard.project_id == project.id)
                           .order_by(ContactCard.id)).all()


def test_bulk_reassignment_reissues_every_contact_card(session, now, hall, carried):
    old = {p.id: cards_of(session, p)[-1].card_no for p in carried}
    moved = set_agent_leave(session, now, hall["director"], hall["agent"], True, reassign_to=hall["agent2"].id)
    session.commit()
    assert [(p.id, a.id) for p, a in moved] == [(p.id, hall["agent2"].id) for p in carried]
    assert hall["agent"].on_leave is True
    for project in carried:
        assert project.agent_id == hall["agent2"].id
        cards = cards_of(session, project)
        void, current = cards[-2], cards[-1]
        assert void.card_no == old[project.id] and void.void is True and void.voided_at == now
        assert current.void is False and current.agent_id == hall["agent2"].id
        assert current.agent_name == hall["agent2"].display_name and current.agent_phone == "0571-2"
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.project_id == carried[0].id)).all()
    assert actions.count("project.assigned") == 2 and actions.count("contact_card.issued") == 2


def test_bulk_reassignment_to_the_suggested_agents(session, now, hall, carried, make_user):
    third = make_user("agent", "agent3", name="丙代办", skills=["STARTUP"])  # lacks IND_PERMIT: never suggested
    moved = set_agent_leave(session, now, hall["director"], hall["agent"], True, reassign_suggested=True)
    session.commit()
    assert {a.id for _, a in moved} == {hall["agent2"].id}
    assert third.id not in {p.agent_id for p in carried}
    assert all(cards_of(session, p)[-1].agent_id == hall["agent2"].id for p in carried)


def test_no_handover_to_an_agent_on_leave(session, now, hall, carried):
    hall["agent2"].on_leave = True
    with pytest.raises(RuleViolation):
        reassign_projects(session, now, hall["director"], hall["agent"], hall["agent2"].id)
    with pytest.raises(BadInput):
        set_agent_leave(session, now, hall["director"], hall["agent"], False, reassign_to=hall["agent2"].id)


def test_swap_liaisons_and_unreachable_departments(session, now, hall):
    from agency.catalog.models import Department
    fgw = session.scalar(select(Department).where(Department.code == "FGW"))
    assert unreachable_departments(session) == []
    swap_liaison_slots(session, now, hall["director"], fgw)
    session.commit()
    assert fgw.primary_liaison.username == "fgw_b" and fgw.backup_liaison.username == "fgw_a"
    hall["fgw_a"].on_leave = hall["fgw_b"].on_leave = True
    session.commit()
    assert [d.code for d in unreachable_departments(session)] == ["FGW"]
