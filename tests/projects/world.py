"""A project with something of every kind for the read-scope and carrying-agent tests.

Project P (IND_PERMIT) of ``ent``, first received by ``agent2`` and reassigned by the director to
``agent``: stage 1 dispatched to FGW (FGW-01 answered, FGW-03 in supplement) and ZRGH (both answered,
with results); a joint review inviting only ZRGH; a complaint; a rating of ZRGH with its notice; a
handover request; a visit; results posted.  Project Q of ``ent2`` is carried by ``agent3``
(the other agent).
"""
from dataclasses import dataclass
from datetime import date, timedelta

from agency.audit.services import Actor
from agency.enterprise.services import file_complaint, rate
from agency.meetings.services import schedule_meeting
from agency.people.models import User
from agency.projects.models import Project
from agency.projects.services import assign_agent, request_handover
from agency.results.services import choose_delivery, ship
from agency.supervision.models import Escalation
from agency.tasks.services import accept_task, answer_task, request_supplement
from agency.visits.services import record_visit
from tests.support import UserFactory
from tests.tasks import MONDAY, dispatch, entrust

COMPLAINT = "投诉：代办员答复太慢Q7"
RATING = "规划局态度不好R7"
HANDOVER = "工作调整移交H7"
VISIT = "现场咨询V7"
FGW_OPINION = "发改同意意见F7"
ZRGH_OPINION = "规划同意意见Z7"
PLACE = "三楼第二会议室M7"
FGW_MATERIAL, ZRGH_MATERIAL = "节能报告", "勘测定界图"  # FGW-03's; ZRGH-01's only


@dataclass
class World:
    people: dict
    p: Project
    q: Project
    tasks: dict  # item code -> Task of P
    meeting: object
    complaint: object
    rating: object
    shipment: object


def build(session, hall) -> World:
    now = MONDAY
    people = dict(hall)
    people["agent3"] = UserFactory(session, now)("agent", "agent3")
    people["fgw"], people["zrgh"], people["zj"] = hall["fgw_a"], hall["zrgh_a"], hall["zj_a"]
    p = entrust(session, now, hall, by="agent2", enterprise="ent")
    assign_agent(session, now, hall["director"], p, hall["agent"].id)
    session.commit()
    tasks = {t.item.code: t for t in dispatch(session, now, p)}
    liaison = {"FGW": Actor.of(hall["fgw_a"]), "ZRGH": Actor.of(hall["zrgh_a"])}
    later = now + timedelta(hours=1)
    answer_task(session, later, liaison["FGW"], tasks["FGW-01"], "consent", FGW_OPINION)
    accept_task(session, later, liaison["FGW"], tasks["FGW-03"])
    request_supplement(session, later, liaison["FGW"], tasks["FGW-03"], ["节能报告（修订稿）"], "")
    for code in ("ZRGH-01", "ZRGH-02"):
        answer_task(session, later, liaison["ZRGH"], tasks[code], "consent", ZRGH_OPINION)
    meeting = schedule_meeting(session, later, hall["agent"], p, kind="joint_review", starts_at=now + timedelta(days=3),
                               place=PLACE, department_codes=["ZRGH"])
    complaint = file_complaint(session, later, hall["ent"], p, COMPLAINT)
    rating = rate(session, later, hall["ent"], p, 2, RATING, "ZRGH")
    request_handover(session, later, hall["agent"], p, HANDOVER)
    record_visit(session, later, hall["agent"], p, date(2026, 11, 23), VISIT)
    choose_delivery(session, later, hall["ent"], p, "post", "经开区创业路8号")
    shipment = ship(session, later, hall["agent"], p, [tasks["ZRGH-01"].id], "SF100200300")
    session.commit()
    q = entrust(session, now, people, by="agent3", enterprise="ent2", project_type="STARTUP", name="乙公司开办")
    session.commit()
    return World(people, p, q, tasks, meeting, complaint, rating, shipment)


def escalation_id(session) -> int | None:
    return session.query(Escalation.id).limit(1).scalar()


def user(world: World, name: str) -> User:
    return world.people[name]
