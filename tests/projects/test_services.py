"""Project services not covered through the API: tracking codes, first contact, the agreement, assignment."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from agency.audit.models import AuditEvent
from agency.errors import BadInput, NotFound, RuleViolation, TransitionNotAllowed
from agency.projects import services
from agency.projects.models import ContactCard, Project
from agency.projects.services import (
    accept_agreement,
    assign_agent,
    entrust_project,
)
from tests.tasks import (  # noqa: F401  (fixtures)
    ENTRUST,
    app,
    audit_actions,
    count,
    entrust,
    hall,
    hall_template,
    inbox,
    shared_app,
    snapshot,
    start,
)

TRACKING = re.compile(r"^DB[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}$")  # no 0/O, 1/I: read over the phone


def test_tracking_codes_have_their_format_and_are_unique(session, now, hall):  # noqa: F811
    codes = [entrust(session, now, hall, name=f"项目{i}").tracking_code for i in range(20)]
    assert all(TRACKING.match(code) for code in codes), codes
    assert len(set(codes)) == len(codes)


def test_a_tracking_code_already_taken_is_drawn_again(session, now, hall, monkeypatch):  # noqa: F811
    taken = entrust(session, now, hall).tracking_code
    draws = iter(taken[2:] + "QRSTUVWX")  # first the taken code, then a new one

    monkeypatch.setattr(services.secrets, "choice", lambda alphabet: next(draws))
    project = entrust(session, now, hall, name="第二个项目")
    assert project.tracking_code == "DBQRSTUVWX"
    assert session.scalar(select(func.count()).select_from(Project).where(Project.tracking_code == taken)) == 1


def test_a_tracking_code_that_never_frees_fails_loudly(session, now, hall, monkeypatch):  # noqa: F811
    taken = entrust(session, now, hall).tracking_code
    monkeypatch.setattr(services, "draw_tracking_code", lambda: taken)
    with pytest.raises(IntegrityError, match="tracking_code"):
        entrust(session, now, hall, name="第二个项目")


def test_the_agent_who_receives_the_enterprise_is_its_first_contact(session, now, hall):  # noqa: F811
    project = entrust(session, now, hall)
    assert (project.first_contact_agent_id, project.agent_id, project.enterprise_id) == (
        hall["agent"].id, hall["agent"].id, hall["ent"].id)
    assert (project.status, project.entrusted_at, project.investment_wan) == ("entrusted", now, Decimal("32000.00"))
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "project.entrusted",
                                                    AuditEvent.project_id == project.id))
    assert (event.actor_id, event.actor_role) == (hall["agent"].id, "agent")
    assert event.after["first_contact_agent_id"] == hall["agent"].id
    card = session.scalar(select(ContactCard).where(ContactCard.project_id == project.id))
    assert (card.agent_id, card.enterprise, card.contact_name, card.tracking_code, card.void) == (
        hall["agent"].id, "甲公司", "张经理", project.tracking_code, False)
    assert [s.status for s in project.stages] == ["waiting", "waiting", "waiting"]
    # the director's assignment hands it over; the first contact stays on record
    assign_agent(session, now + timedelta(days=1), hall["director"], project, hall["agent2"].id)
    session.commit()
    assert (project.first_contact_agent_id, project.agent_id) == (hall["agent"].id, hall["agent2"].id)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "project.assigned"))
    assert (event.before, event.after, event.actor_id) == (
        {"agent_id": hall["agent"].id}, {"agent_id": hall["agent2"].id}, hall["director"].id)


def test_an_enterprise_entrusting_itself_has_no_first_contact(session, now, hall):  # noqa: F811
    project = entrust(session, now, hall, by="ent")
    assert (project.first_contact_agent_id, project.agent_id) == (None, None)
    assert count(session, ContactCard, ContactCard.project_id == project.id) == 0
    assign_agent(session, now, hall["director"], project, hall["agent"].id)
    session.commit()
    assert (project.first_contact_agent_id, project.agent_id) == (None, hall["agent"].id)
    cards = session.scalars(select(ContactCard).where(ContactCard.project_id == project.id)).all()
    assert [(c.agent_id, c.void) for c in cards] == [(hall["agent"].id, False)]
    assert not any(s.startswith("联系卡已更换") for s in inbox(session, hall["ent"]))  # a first card, not a change


def test_only_an_enterprise_or_an_agent_entrusts(session, now, hall):  # noqa: F811
    for user in ("director", "fgw_a"):
        with pytest.raises(RuleViolation) as raised:
            entrust_project(session, now, hall[user], **ENTRUST)
        assert raised.value.status == 422
        session.rollback()
    with pytest.raises(BadInput) as raised:
        entrust_project(session, now, hall["agent"], **{**ENTRUST, "project_type": "X"}, enterprise_id=hall["ent"].id)
    assert set(raised.value.fields) == {"project_type"}
    session.rollback()
    assert count(session, Project) == 0


def test_the_enterprise_signs_the_agreement_once(session, now, hall):  # noqa: F811
    project = entrust(session, now, hall, ready=False)
    assert project.agreement_accepted_at is None
    with pytest.raises(NotFound):
        accept_agreement(session, now, hall["ent2"], project)
    session.rollback()
    signed = now + timedelta(hours=2)
    accept_agreement(session, signed, hall["ent"], project)
    session.commit()
    accept_agreement(session, signed + timedelta(days=1), hall["ent"], project)
    session.commit()
    assert project.agreement_accepted_at == signed
    assert audit_actions(session, project.id).count("project.agreement_signed") == 1
    # an enterprise entrusting itself accepts the agreement as it entrusts
    own = entrust(session, now, hall, by="ent2", enterprise="ent2")
    assert own.agreement_accepted_at == now


def test_agreement_through_the_api(api, session, now, hall):  # noqa: F811
    project = entrust(session, now, hall, ready=False)
    from tests.tasks import assert_error
    assert_error(api(hall["ent2"]).post(f"/projects/{project.id}/agreement"), 404, "not_found")
    assert_error(api(hall["agent2"]).post(f"/projects/{project.id}/agreement"), 404, "not_found")
    # the carrying agent records a paper signature, and must give its date
    assert_error(api(hall["agent"]).post(f"/projects/{project.id}/agreement", json={}), 400, "bad_input",
                 "paper_signed_on")
    assert project.agreement_accepted_at is None
    body = api(hall["ent"]).post(f"/projects/{project.id}/agreement").get_json()
    assert body["agreement_accepted_at"] is not None and body["agreement_signed_at"] is not None
    assert body["agreement_method"] == "online"


def test_assignment_rules(session, now, hall):  # noqa: F811
    project = entrust(session, now, hall)
    before = snapshot(session)
    assign_agent(session, now, hall["director"], project, hall["agent"].id)  # the same agent: nothing happens
    session.commit()
    assert snapshot(session) == before
    for bad in (hall["ent"].id, hall["fgw_a"].id, 424242):
        with pytest.raises(BadInput):
            assign_agent(session, now, hall["director"], project, bad)
        session.rollback()
    hall["agent2"].active = False
    session.commit()
    with pytest.raises(BadInput):
        assign_agent(session, now, hall["director"], project, hall["agent2"].id)
    session.rollback()
    finished, _ = start(session, now, hall, project_type="REAL_ESTATE")
    services.withdraw_project(session, now, hall["ent"], finished, "不办了")
    session.commit()
    with pytest.raises(TransitionNotAllowed):
        assign_agent(session, now, hall["director"], finished, hall["agent"].id)
    session.rollback()
