"""Demo projects in several states, built through the same services as the pages.

They show the online journey (R14-R18): one project filing its checklist online, one with a
material returned in pre-review, a company start-up whose licence (营业执照) was deferred and then
supplied by SCJG-01's result, a property transfer whose electronic licence was posted and signed
for, a construction project mid-way, an unassigned one and a withdrawn one.
"""
import io
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import func, select

from agency.audit.services import Actor
from agency.calendar.services import get_calendar
from agency.clock import hall_tz, local
from agency.materials.services import checklist, file_material, prereview
from agency.projects.models import Project
from agency.projects.services import (accept_agreement, dispatch_stage, entrust_project, set_project_code,
                                      withdraw_project)
from agency.results.services import attach_result_file, choose_delivery, ship, sign_for
from agency.tasks.services import accept_task, answer_task, request_supplement
from agency.visits.services import record_visit

# A one-page PDF: what the demo files for every material (the content is checked, not read).
DEMO_PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
            b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n"
            b"trailer << /Root 1 0 R >>\n%%EOF\n")


def _entrust(session, now, actor, enterprise, name, ptype, location, investment, contact, phone):
    return entrust_project(session, now, actor, name=name, project_type=ptype, location=location,
                           investment_wan=investment, contact_name=contact, contact_phone=phone,
                           enterprise_id=enterprise.id)


def _liaison(users, task):
    return users[f"{task.department.code.lower()}_a"]


def _file(session, now, enterprise, project, names) -> None:
    for name in names:
        file_material(session, now, enterprise, project, name, f"{name}.pdf", io.BytesIO(DEMO_PDF))


def _own_materials(session, project) -> list[str]:
    """Required materials no result of the project supplies: what the enterprise files itself."""
    return [e.name for e in checklist(session, project) if not e.optional and not e.issuers]


def _ready(session, now, agent, enterprise, project) -> None:
    """Agreement signed, every material filed online once and accepted in pre-review."""
    accept_agreement(session, now, enterprise, project)
    names = _own_materials(session, project)
    _file(session, now, enterprise, project, names)
    prereview(session, now + timedelta(minutes=30), agent, project, [{"name": n, "accepted": True} for n in names])


def build_projects(session, now: datetime, users: dict) -> None:
    """Once: the projects of the module docstring."""
    if session.scalar(select(func.count()).select_from(Project)):
        return
    agent1, agent2 = users["agent1"], users["agent2"]
    ent1, ent2 = users["ent1"], users["ent2"]
    # A Monday at 09:00 two weeks or more ago: immediate items (即办件) are answered that day, before closing.
    day = local(now).date() - timedelta(days=14)
    earlier = datetime.combine(day - timedelta(days=day.weekday()), time(9, 0), hall_tz()).astimezone(timezone.utc)

    # A company start-up (企业开办): 营业执照 deferred for GA-01, SW-01 and RS-01 until SCJG-01 issues it.
    done = _entrust(session, earlier, agent2, ent2, "青禾食品科技有限公司设立", "STARTUP", "高新区文一路18号",
                    200, "陈总", "138-0000-0002")
    _ready(session, earlier, agent2, ent2, done)
    record_visit(session, earlier, agent2, done, local(earlier).date(), "核验法定代表人身份原件")
    _, tasks = dispatch_stage(session, earlier + timedelta(hours=1), Actor.of(agent2), done)
    by_item = {t.item.code: t for t in tasks}
    answer_task(session, earlier + timedelta(hours=3), Actor.of(_liaison(users, by_item["SCJG-01"])),
                by_item["SCJG-01"], "consent", result={"kind": "licence", "number": "91330106MA2DEMO01"})
    for code in ("GA-01", "SW-01", "RS-01"):
        answer_task(session, earlier + timedelta(hours=5), Actor.of(_liaison(users, by_item[code])), by_item[code],
                    "consent", result={"kind": "filing"})

    # A construction project mid-way: filed online, project code given, stage 1 running.  Its history starts
    # three working days ago at 09:00, so its running clocks (ZRGH-01: ten working days) are still running.
    day = local(now).date()
    for _ in range(3):
        day = get_calendar(session).previous_working_day(day)
    recent = datetime.combine(day, time(9, 0), hall_tz()).astimezone(timezone.utc)
    factory = _entrust(session, recent, agent1, ent1, "年产十万台精密机床项目", "IND_PERMIT", "经开区创业路8号",
                       32000, "张经理", "138-0000-0001")
    set_project_code(session, recent, ent1, factory, "2026-330106-34-03-000001")
    _ready(session, recent, agent1, ent1, factory)
    _, tasks = dispatch_stage(session, recent + timedelta(hours=1), Actor.of(agent1), factory)
    by_item = {t.item.code: t for t in tasks}
    answer_task(session, recent + timedelta(hours=3), Actor.of(users["fgw_a"]), by_item["FGW-01"], "consent",
                result={"kind": "filing", "number": "2026-330106-34-03-000001"})
    accept_task(session, recent + timedelta(hours=4), Actor.of(users["zrgh_a"]), by_item["ZRGH-01"])
    request_supplement(session, recent + timedelta(days=1), Actor.of(users["zrgh_a"]), by_item["ZRGH-02"],
                       ["土地出让合同", "规划条件"])
    answer_task(session, recent + timedelta(days=2), Actor.of(users["fgw_a"]), by_item["FGW-03"],
                "consent_with_conditions", "须在施工图阶段落实节能措施")

    # Filing online now: a completion acceptance with some materials in, one returned in pre-review.
    filing = _entrust(session, now - timedelta(days=1), agent1, ent1, "二期仓储物流中心竣工验收", "COMPLETION",
                      "经开区创业路10号", 8000, "张经理", "138-0000-0001")
    accept_agreement(session, now - timedelta(days=1), ent1, filing)
    set_project_code(session, now - timedelta(days=1), ent1, filing, "2025-330106-59-03-000417")
    _file(session, now - timedelta(hours=20), ent1, filing, ["核实申请表", "竣工测量报告", "验收申请表", "竣工图纸"])
    prereview(session, now - timedelta(hours=18), agent1, filing, [
        {"name": "核实申请表", "accepted": True}, {"name": "竣工测量报告", "accepted": True},
        {"name": "验收申请表", "accepted": True},
        {"name": "竣工图纸", "accepted": False, "reason": "缺少消防专篇图纸，请补齐后重新上传"}])

    # A property transfer: the electronic licence attached, posted and signed for (最多跑一次: no visit).
    transfer = _entrust(session, earlier, agent2, ent2, "冷链仓库不动产转移", "REAL_ESTATE", "临港路66号", 1500,
                        "陈总", "138-0000-0002")
    _ready(session, earlier, agent2, ent2, transfer)
    choose_delivery(session, earlier, ent2, transfer, "post", "杭州市临港路66号 青禾食品 陈总 138-0000-0002")
    (task,) = dispatch_stage(session, earlier + timedelta(hours=1), Actor.of(agent2), transfer)[1]
    liaison = _liaison(users, task)
    answer_task(session, earlier + timedelta(days=2), Actor.of(liaison), task, "consent",
                result={"kind": "licence", "number": "浙(2026)杭州市不动产权第0012345号"})
    attach_result_file(session, earlier + timedelta(days=2), liaison, task, "不动产权证书.pdf", io.BytesIO(DEMO_PDF))
    shipment = ship(session, earlier + timedelta(days=2, hours=2), agent2, transfer, [task.id], "SF1404000012345")
    sign_for(session, earlier + timedelta(days=3), agent2, shipment)

    # Entrusted by the enterprise itself, waiting for the director to assign an agent.
    _entrust(session, now, ent1, ent1, "三期研发中心", "COMPLETION", "经开区创业路12号", 6000, "张经理",
             "138-0000-0001")

    withdrawn = _entrust(session, earlier, agent2, ent2, "冷链仓库二期不动产转移", "REAL_ESTATE", "临港路68号", 900,
                         "陈总", "138-0000-0002")
    _ready(session, earlier, agent2, ent2, withdrawn)
    dispatch_stage(session, earlier + timedelta(hours=1), Actor.of(agent2), withdrawn)
    withdraw_project(session, earlier + timedelta(days=2), ent2, withdrawn, "企业调整投资计划")
